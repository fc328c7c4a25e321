"""The roster of a Teams conversation, read page by page when the sign-up summary needs
the number of people present."""

from __future__ import annotations

from bot.server import Runtime
from tests.support.fake_connector import FakeConnector
from tests.support.teams_wire import (
    ANIM,
    CHANNEL_ROOT,
    Client,
    activity,
    send,
    settle,
)

LEARNERS = [f"0000000{n}-0000-4000-8000-000000000000" for n in range(3)]
OTHER = "0f0f0f0f-0000-4000-8000-000000000000"


def _member(aad: str) -> dict[str, str]:
    return {"id": f"29:{aad}", "name": aad[:8], "aadObjectId": aad, "userRole": "user"}


async def _sign_up_three(client: Client, fake: FakeConnector, runtime: Runtime) -> None:
    assert (await send(client, fake, activity(fake, ANIM, "session start Feedback"))).status == 202
    await settle(runtime)
    content = fake.sent(CHANNEL_ROOT)[0].body["attachments"][0]["content"]
    join = next(a for e in content["body"] if e["type"] == "ActionSet" for a in e["actions"])
    for learner in LEARNERS:
        assert (await send(client, fake, activity(fake, learner, value=join["data"]))).status == 202
    await settle(runtime)
    assert (await send(client, fake, activity(fake, ANIM, "session close"))).status == 202
    await settle(runtime)


async def test_the_summary_counts_the_people_present_from_the_paged_roster(
    teams: tuple[Client, FakeConnector, Runtime],
) -> None:
    client, fake, runtime = teams
    others = [f"1111111{n:x}-0000-4000-8000-000000000000" for n in range(9)]
    fake.rosters[CHANNEL_ROOT] = [
        _member(ANIM),
        *[_member(aad) for aad in LEARNERS + others],
        {"id": "28:another-bot", "name": "Polly"},  # bots have no AAD object id
    ]
    fake.page_cap = 5  # 14 entries: three pages

    await _sign_up_three(client, fake, runtime)

    pages = [call for call in fake.calls if call.method == "members"]
    assert [call.body.get("continuationToken") for call in pages] == [None, "5", "10"]
    assert all(call.authorization == "Bearer fake-bot-token" for call in pages)
    summary = [c.shown for c in fake.sent(CHANNEL_ROOT) if "closed" in c.shown]
    # 13 people, the trainer is not a learner: 12 present.
    assert any("3 learners joined out of 12 present" in text for text in summary), summary


async def test_without_a_roster_the_summary_is_written_without_a_present_count(
    teams: tuple[Client, FakeConnector, Runtime],
) -> None:
    client, fake, runtime = teams
    await _sign_up_three(client, fake, runtime)  # the fake knows no roster here: 404

    assert [call for call in fake.calls if call.method == "members"] == []
    summary = [c.shown for c in fake.sent(CHANNEL_ROOT) if "closed" in c.shown]
    assert len(summary) == 1 and "3 learners joined, in" in summary[0], summary
    assert "present" not in summary[0]


async def test_in_a_group_chat_the_chat_is_the_roster(
    teams: tuple[Client, FakeConnector, Runtime],
) -> None:
    client, fake, runtime = teams
    chat = "19:meeting-cohort-7@thread.v2"
    fake.rosters[chat] = [_member(ANIM), *[_member(aad) for aad in LEARNERS], _member(OTHER)]

    def in_chat(who: str, text: str) -> dict[str, object]:
        made = activity(fake, who, text)
        made["conversation"] = {"id": chat, "conversationType": "groupChat", "isGroup": True}
        made["channelData"] = {"tenant": {"id": made["channelData"]["tenant"]["id"]}}
        return made

    for who, text in [(ANIM, "session start Cohort 7"), *[(aad, "join") for aad in LEARNERS[:2]]]:
        assert (await send(client, fake, in_chat(who, text))).status == 202
        await settle(runtime)
    assert (await send(client, fake, in_chat(ANIM, "session close"))).status == 202
    await settle(runtime)

    assert [call.conversation for call in fake.calls if call.method == "members"] == [chat]
    summary = [c.shown for c in fake.sent(chat) if "closed" in c.shown]
    # Five people in the chat, the trainer is not a learner: 4 present.
    assert any("2 learners joined out of 4 present" in text for text in summary), summary
