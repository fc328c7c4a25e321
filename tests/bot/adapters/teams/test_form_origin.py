"""A form opened from a channel acts in that channel, though Teams shows it, and sends it
back, from the person's 1:1 chat: the card carries where it was opened, sealed for that
person; anything else coming back is refused with a clear message and changes nothing."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from bot.adapters.teams import form_origin
from bot.server import Runtime
from storage.models import Challenge
from tests.support.fake_connector import FakeConnector
from tests.support.teams_channel import Channel
from tests.support.teams_wire import ANIM, TENANT, Client, deliver, personal_activity

LEARNER = "1ea4e400-0000-4000-8000-000000000009"
FILLED = {
    "text": "Share one win with the team",
    "first__date": "",
    "first__time": "",
    "recurrence": "once",
    "until": "",
    "conversation": "",
}


def _chat_of(fake: FakeConnector, who: str) -> str:
    """The 1:1 chat the bot opened with `who`."""
    return next(
        c.conversation
        for c in fake.calls
        if c.method == "create" and c.body["members"][0]["id"] == f"29:{who}"
    )


def _submit_data(fake: FakeConnector, chat: str) -> dict[str, Any]:
    """The submit action's data of the last form the bot sent to `chat`."""
    form = next(
        call.body["attachments"][0]["content"]
        for call in reversed(fake.sent(chat))
        if call.body.get("attachments") and call.body["attachments"][0]["content"].get("actions")
    )
    return dict(form["actions"][0]["data"])


def _submitted(
    fake: FakeConnector, who: str, chat: str, data: dict[str, Any], **more: Any
) -> dict[str, Any]:
    """What Teams sends when `who` submits the form in their 1:1 chat: its data and inputs."""
    made = personal_activity(fake, who, value={**data, **FILLED}, **more)
    made["conversation"]["id"] = chat
    return made


async def _challenges(runtime: Runtime) -> int:
    async with runtime.db_sessions() as db:
        return int((await db.execute(select(func.count()).select_from(Challenge))).scalar_one())


async def _form_from_channel(
    client: Client, fake: FakeConnector, runtime: Runtime
) -> tuple[Channel, str, dict[str, Any]]:
    channel = Channel(fake)
    await deliver(client, fake, runtime, channel.post(ANIM, "challenge"))
    chat = _chat_of(fake, ANIM)
    data = _submit_data(fake, chat)
    return channel, chat, data


async def test_a_form_opened_in_a_channel_posts_in_that_channel(
    teams: tuple[Client, FakeConnector, Runtime],
) -> None:
    client, fake, runtime = teams
    channel, chat, data = await _form_from_channel(client, fake, runtime)
    assert data["action_id"] == "challenge.form"
    # Sealed: the channel's id is not readable in the card.
    assert channel.id not in json.dumps(fake.sent(chat)[-1].body)
    sealed = data[form_origin.KEY]["sealed"]
    assert sealed.startswith("sealed:v1:")

    await deliver(client, fake, runtime, _submitted(fake, ANIM, chat, data))
    answer = fake.sent(chat)[-1].shown
    assert "#1" in answer and "community's channel" not in answer, answer
    posted = [c for c in fake.sent(channel.id) if "Share one win" in c.shown]
    assert len(posted) == 1, "the challenge, a new post in the channel"
    async with runtime.db_sessions() as db:
        challenge = (await db.execute(select(Challenge))).scalar_one()
    assert challenge.conversation == channel.id


async def test_a_tampered_origin_is_refused_and_changes_nothing(
    teams: tuple[Client, FakeConnector, Runtime],
) -> None:
    client, fake, runtime = teams
    channel, chat, data = await _form_from_channel(client, fake, runtime)
    sealed = data[form_origin.KEY]["sealed"]
    flipped = sealed[:-6] + ("A" if sealed[-6] != "A" else "B") + sealed[-5:]
    elsewhere = "19:0ther0ther0ther0ther0ther0ther@thread.skype"
    for_someone_else = form_origin.seal(runtime.sealer, TENANT, LEARNER, elsewhere)
    tampered: list[Any] = [
        {"sealed": flipped},  # altered
        {"sealed": for_someone_else},  # another person's (or another conversation's)
        {"sealed": elsewhere},  # in clear
        {"sealed": 12},
        elsewhere,  # not our shape
    ]
    before = len(fake.sent(channel.id))
    for n, origin in enumerate(tampered):
        await deliver(
            client, fake, runtime, _submitted(fake, ANIM, chat, {**data, form_origin.KEY: origin})
        )
        answer = fake.sent(chat)[-1].shown
        assert "no longer says where it was opened" in answer, (n, answer)
    assert await _challenges(runtime) == 0
    assert len(fake.sent(channel.id)) == before and not fake.sent(elsewhere)
    # In the language of a person writing in French (U+00A0 before the colon).
    french = _submitted(fake, ANIM, chat, {**data, form_origin.KEY: {"sealed": flipped}})
    french["locale"] = "fr-FR"
    await deliver(client, fake, runtime, french)
    assert "plus ancien que la clé actuelle du bot)\u00a0: rien n'a été fait" in (
        fake.sent(chat)[-1].shown
    )
    assert await _challenges(runtime) == 0


async def test_someone_else_submitting_a_form_sealed_for_another_is_refused(
    teams: tuple[Client, FakeConnector, Runtime],
) -> None:
    """A form's data copied into another person's submission does not open for them."""
    client, fake, runtime = teams
    _channel, _chat, data = await _form_from_channel(client, fake, runtime)
    await deliver(client, fake, runtime, personal_activity(fake, LEARNER, "hello"))
    theirs = f"a:1:1-with-{LEARNER}"
    await deliver(client, fake, runtime, _submitted(fake, LEARNER, theirs, data))
    assert "no longer says where it was opened" in fake.sent(theirs)[-1].shown
    assert await _challenges(runtime) == 0


async def test_a_form_opened_in_the_personal_chat_carries_nothing(
    teams: tuple[Client, FakeConnector, Runtime],
) -> None:
    client, fake, runtime = teams
    mine = f"a:1:1-with-{ANIM}"
    await deliver(client, fake, runtime, personal_activity(fake, ANIM, "challenge"))
    data = _submit_data(fake, mine)
    assert form_origin.KEY not in data
    await deliver(client, fake, runtime, _submitted(fake, ANIM, mine, data))
    # As before: from the 1:1 chat, a challenge needs a channel.
    assert "community's channel" in fake.sent(mine)[-1].shown
    assert await _challenges(runtime) == 0
