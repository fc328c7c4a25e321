"""NPS pulses through the local API, on SQLite and PostgreSQL, with the clock moved by hand."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.server import Runtime
from storage import pulses
from storage.models import Pulse, PulseAnswer, PulseAnswerChange, PulseRecipient, Referral
from storage.pulses import PulseSums
from tests.support.playground import Playground

DAY = 24 * 3600


async def _count(runtime: Runtime, model: type, *where: object) -> int:
    async with runtime.db_sessions() as db:
        query = select(func.count()).select_from(model).where(*where)
        return int((await db.execute(query)).scalar_one())


async def _session(bot: Playground, name: str, learners: list[str], close: bool = True) -> str:
    """Open a session in #general, let `learners` join, close it; return its code."""
    await bot.command("anim1", f"session start {name}")
    card = next(m for m in reversed(await bot.messages()) if m["card"])["card"]
    code = str(card["buttons"][0]["value"])
    for learner in learners:
        await bot.command(learner, f"join {code}")
    if close:
        await bot.command("anim1", f"session close {code}")
    return code


def _questions(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m for m in messages if m["card"] and len(m["card"]["buttons"]) == 11]


async def _answer(
    bot: Playground,
    who: str,
    pulse_id: int,
    score: int,
    lsat: int | None = None,
    details: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    replies = await bot.action(who, "pulse.score", f"{pulse_id}:{score}", f"dm:{who}")
    if lsat is not None:
        replies = await bot.action(who, "pulse.lsat", f"{pulse_id}:{lsat}", f"dm:{who}")
    if details is not None:
        action = replies[0]["form"]["submit_action_id"]
        replies = await bot.action(who, action, json.dumps(details), f"dm:{who}")
    return replies


async def test_done_means_nps_zero_lsat_correlation_and_a_converted_referral(
    bot: Playground,
) -> None:
    await bot.command({"id": "dana", "name": "Dana"}, "hello")
    await _session(bot, "Management 101", ["alice", "bob", "chloe"])
    sent = await bot.say("anim1", "pulse send")
    assert "Pulse #1 about “Management 101” sent by DM to 3 members" in sent

    # Each learner got one question, in their language, with the 0-10 buttons.
    french = _questions(await bot.messages("dm:alice"))
    assert len(french) == 1 and "Quelle est la probabilité" in french[0]["text"]
    assert "nominative" in french[0]["card"]["body"]
    buttons = french[0]["card"]["buttons"]
    assert [b["value"] for b in buttons] == [f"1:{n}" for n in range(11)]
    assert len(_questions(await bot.messages("dm:bob"))) == 1

    lsat_step = await bot.action("alice", "pulse.score", "1:10", "dm:alice")
    assert [b["value"] for b in lsat_step[0]["card"]["buttons"]] == [f"1:{n}" for n in range(1, 6)]
    thanks = await _answer(
        bot, "alice", 1, 10, 4, {"comment": "Très concret", "referrals": ["dana", "Eve Martin"]}
    )
    assert "recommandée à Dana, Eve Martin" in thanks[0]["text"]
    await _answer(bot, "bob", 1, 8, 5, {"comment": "Useful", "referrals": []})
    await _answer(bot, "chloe", 1, 3, 2)

    results = (await bot.command("anim1", "pulse results"))[0]
    fields = {f["label"]: f["value"] for f in results["card"]["fields"]}
    assert fields["Answers"] == "3 answers out of 3 (100%)"
    assert fields["NPS"] == "0 (promoters: 1 · passives: 1 · detractors: 1)"
    # Worked out by hand: mean (4+5+2)/3; r = 9 / √(26 · 42/9) ≈ 0.817.
    assert fields["Satisfaction (LSAT)"] == "3.67 / 5 (n = 3)"
    assert fields["NPS ↔ satisfaction"] == "r = 0.82 (n = 3)"
    assert fields["Referrals"] == "made: 2 · converted: 0 · interested: 0"
    body = results["card"]["body"]
    assert "Alice — 10/10 · LSAT 4 · “Très concret” · recommends it to Dana (invited)" in body
    assert "Eve Martin (to follow up)" in body

    # Dana, on the platform, gets one invitation; Eve (a free name) gets nothing.
    invitations = [m for m in await bot.messages("dm:dana") if m["card"]]
    assert len(invitations) == 1
    assert invitations[0]["card"]["title"] == "Alice recommends “Management 101” to you"
    interested = invitations[0]["card"]["buttons"][0]
    reply = await bot.action("dana", interested["action_id"], interested["value"], "dm:dana")
    assert "know you are interested" in reply[0]["text"]
    # Naming Dana again adds no referral and no second invitation.
    await bot.action(
        "alice", "pulse.details:1", json.dumps({"comment": "", "referrals": ["dana"]}), "dm:alice"
    )
    assert len([m for m in await bot.messages("dm:dana") if m["card"]]) == 1
    assert await _count(bot.runtime, Referral) == 2

    # Dana joins a later session: the referral converted.
    await _session(bot, "Management 102", ["dana"], close=False)
    results = (await bot.command("anim1", "pulse results 1"))[0]
    fields = {f["label"]: f["value"] for f in results["card"]["fields"]}
    assert fields["Referrals"] == "made: 2 · converted: 1 · interested: 1"
    assert "Dana (joined a session)" in results["card"]["body"]


async def test_learners_see_their_own_answer_and_aggregates_but_no_names(bot: Playground) -> None:
    await _session(bot, "Feedback", ["alice", "bob", "chloe"])
    await bot.command("anim1", "pulse send")
    for who, score in (("alice", 9), ("bob", 9), ("chloe", 10)):
        await _answer(bot, who, 1, score, 4)
    seen = (await bot.command("bob", "pulse results"))[0]
    text = seen["text"]
    assert "+100 (promoters: 3 · passives: 0 · detractors: 0)" in text
    assert "Your answer: 9/10, satisfaction 4/5." in text
    assert "Alice" not in text and "Chloe" not in text
    # No variance in LSAT: no correlation rather than a misleading figure.
    assert "not defined: every answer gave the same satisfaction" in text
    await bot.command({"id": "dana", "name": "Dana"}, "hello")
    refused = await bot.say("dana", "pulse results 1")
    assert "only" in refused
    assert "Only animators" in await bot.say("bob", "pulse results all")


async def test_fewer_than_three_answers_say_not_enough(bot: Playground) -> None:
    await _session(bot, "Feedback", ["alice", "bob"])
    await bot.command("anim1", "pulse send")
    await _answer(bot, "alice", 1, 0, 1)
    await _answer(bot, "bob", 1, 2, 1)
    text = await bot.say("anim1", "pulse results")
    assert "NPS: not enough answers (2 answers; minimum: 3)" in text


@pytest.mark.parametrize(
    ("who", "action_id", "value", "expected"),
    [
        ("alice", "pulse.score", "1:11", "from 0 to 10"),
        ("alice", "pulse.score", "1:-1", "from 0 to 10"),
        ("alice", "pulse.score", "1:ten", "from 0 to 10"),
        ("alice", "pulse.score", "99:5", "does not exist"),
        ("alice", "pulse.score", "x:5", "does not exist"),
        ("dana", "pulse.score", "1:5", "was not sent to you"),
        ("alice", "pulse.lsat", "1:3", "First choose"),
        ("alice", "pulse.details:1", "{}", "First choose"),
        ("alice", "pulse.details", "{}", "no longer in use"),
        ("alice", "referral.respond", "1:interested", "not meant for you"),
        ("alice", "referral.respond", "1:maybe", "no longer in use"),
    ],
)
async def test_forged_actions_get_a_clear_reply_and_store_nothing(
    bot: Playground, who: str, action_id: str, value: str, expected: str
) -> None:
    await bot.command({"id": "dana", "name": "Dana", "locale": "en"}, "hello")
    await _session(bot, "Feedback", ["alice", "bob"])
    await bot.command("anim1", "pulse send")
    alice = {"id": "alice", "name": "Alice", "locale": "en"}
    replies = await bot.action(alice if who == "alice" else who, action_id, value, f"dm:{who}")
    assert expected in replies[0]["text"], replies
    assert await _count(bot.runtime, PulseAnswer) == 0
    assert await _count(bot.runtime, Referral) == 0


async def test_bad_details_change_nothing(bot: Playground) -> None:
    await _session(bot, "Feedback", ["alice", "bob"])
    await bot.command("anim1", "pulse send")
    await _answer(bot, "bob", 1, 7, 3)
    for details, expected in (
        ({"comment": "ok", "referrals": 12}, "list of names"),
        ({"comment": "x" * 2001}, "longer than 2000"),
        ({"referrals": [f"P{n}" for n in range(21)]}, "at most 20"),
        ({"referrals": ["!!!"]}, "is not a name"),
    ):
        reply = await bot.action("bob", "pulse.details:1", json.dumps(details), "dm:bob")
        assert expected in reply[0]["text"], (details, reply)
    async with bot.runtime.db_sessions() as db:
        answer = (await db.execute(select(PulseAnswer))).scalar_one()
        assert (answer.score, answer.lsat, answer.comment) == (7, 3, None)
    assert await _count(bot.runtime, Referral) == 0


async def test_the_colleagues_picker_offers_only_people_to_recommend_it_to(
    bot: Playground,
) -> None:
    """Not yourself, not those who run the trainings, not who took part in this training
    (this run or an earlier one of the same name); named anyway: a note, nothing sent."""
    for user_id in ("dana", "erin", "frank", "gail"):
        await bot.command({"id": user_id, "name": user_id.capitalize(), "locale": "en"}, "hi")
    await bot.command("anim1", "role add @gail animator")
    await _session(bot, "Management 101", ["erin"])  # an earlier run of the training
    await _session(bot, "Feedback", ["frank"])  # another training
    await _session(bot, "management 101", ["alice", "bob", "chloe"])
    await bot.command("anim1", "pulse send session " + await _code_of_latest(bot))

    form = (await _answer(bot, "alice", 1, 9, 5))[0]["form"]
    [picker] = [f for f in form["fields"] if f["id"] == "referrals"]
    assert picker["kind"] == "users"
    assert set(picker["exclude"]) == {"alice", "anim1", "gail", "bob", "chloe", "erin"}
    assert picker["exclude"][0] == "alice"

    # Typed anyway: a note per reason, in French; the rest of the answer is kept.
    details = {"comment": "Utile", "referrals": ["bob", "anim1", "alice", "Erin", "dana", "Eve"]}
    [thanks] = await bot.action("alice", form["submit_action_id"], json.dumps(details), "dm:alice")
    body = thanks["card"]["body"]
    assert "recommandée à Dana, Eve" in body
    assert (
        "Rien ne vous est envoyé\u00a0: impossible de vous recommander management 101 à vous-même."
        in body
    )
    assert "Rien n'est envoyé à Anim1, qui anime les formations." in body
    assert "Rien n'est envoyé à Bob, Erin, qui connaissent déjà management 101." in body
    assert "Rien n'est envoyé à Anim1" in thanks["text"]
    # English, one person of each kind.
    bob = await _answer(bot, "bob", 1, 7, 4, {"referrals": ["chloe", "gail", "frank"]})
    assert "recommended to Frank" in bob[0]["text"]
    assert "Nothing was sent to Chloe, who already took part in management 101." in bob[0]["text"]
    assert "Nothing was sent to Gail, who runs the trainings." in bob[0]["text"]

    for user_id, expected in (("dana", 1), ("frank", 1), *((u, 0) for u in NOT_TO_INVITE)):
        assert len(await _invitations(bot, user_id)) == expected, user_id
    async with bot.runtime.db_sessions() as db:
        named = (await db.execute(select(Referral.referred_name).order_by(Referral.id))).all()
        answer = (
            await db.execute(select(PulseAnswer.comment).where(PulseAnswer.comment.is_not(None)))
        ).scalar_one()
    assert [name for (name,) in named] == ["Dana", "Eve", "Frank"]
    assert answer == "Utile"


async def test_a_community_pulse_leaves_out_the_community_itself(bot: Playground) -> None:
    await bot.command({"id": "dana", "name": "Dana", "locale": "en"}, "hello")
    await _session(bot, "Feedback", ["alice", "bob"])
    await bot.command("anim1", "pulse send community")
    form = (await _answer(bot, "bob", 1, 8, 4))[0]["form"]
    [picker] = [f for f in form["fields"] if f["id"] == "referrals"]
    assert set(picker["exclude"]) == {"bob", "anim1", "alice"}
    details = json.dumps({"referrals": ["alice", "dana"]})
    thanks = await bot.action("bob", form["submit_action_id"], details, "dm:bob")
    text = thanks[0]["text"]
    assert "recommended to Dana" in text
    assert "Nothing was sent to Alice, who already took part in the ambassador programme." in text


NOT_TO_INVITE = ("bob", "anim1", "alice", "erin", "chloe", "gail")


async def _invitations(bot: Playground, user_id: str) -> list[dict[str, Any]]:
    """The referral invitations `user_id` received (cards with the three answers)."""
    return [
        m
        for m in await bot.messages(f"dm:{user_id}")
        if m["card"] and any(b.get("action_id") == "referral.respond" for b in m["card"]["buttons"])
    ]


async def _code_of_latest(bot: Playground) -> str:
    card = next(m for m in reversed(await bot.messages()) if m["card"])["card"]
    return str(card["fields"][0]["value"])


async def test_last_answer_counts_history_is_kept_double_clicks_store_once(
    bot: Playground,
) -> None:
    await _session(bot, "Feedback", ["alice", "bob"])
    await bot.command("anim1", "pulse send")
    await _answer(bot, "bob", 1, 4)
    await _answer(bot, "bob", 1, 4)  # a double click
    await _answer(bot, "bob", 1, 9, 5)
    async with bot.runtime.db_sessions() as db:
        answer = (await db.execute(select(PulseAnswer))).scalar_one()
        assert (answer.score, answer.lsat) == (9, 5)
        history = (await db.execute(select(PulseAnswerChange.field, PulseAnswerChange.value))).all()
    assert [tuple(row) for row in history] == [("score", "4"), ("score", "9"), ("lsat", "5")]


async def test_reminder_once_to_non_respondents_then_close_at_the_deadline(
    bot: Playground,
) -> None:
    await _session(bot, "Feedback", ["alice", "bob", "chloe"])
    await bot.command("anim1", "pulse send")
    await _answer(bot, "alice", 1, 9)
    await bot.runtime.clock.advance(3 * DAY - 60)
    assert len(_questions(await bot.messages("dm:bob"))) == 1, "no reminder before 3 days"
    await bot.runtime.clock.advance(60)
    reminders = _questions(await bot.messages("dm:bob"))
    assert len(reminders) == 2 and reminders[1]["card"]["title"].startswith("Reminder")
    assert len(_questions(await bot.messages("dm:alice"))) == 1, "answered: not reminded"
    await bot.runtime.clock.advance(4 * DAY)
    assert len(_questions(await bot.messages("dm:bob"))) == 2, "never a second reminder"
    notices = [m["text"] for m in await bot.messages("dm:anim1")]
    assert any("Pulse #1 is closed: 1 answer out of 3" in text for text in notices)
    async with bot.runtime.db_sessions() as db:
        pulse = (await db.execute(select(Pulse))).scalar_one()
        live = await pulses.sums(db, [pulse.id])
    assert pulse.final_sums is not None and PulseSums(**pulse.final_sums) == live[pulse.id]
    late = await bot.action("bob", "pulse.score", "1:8", "dm:bob")
    assert "is closed" in late[0]["text"]
    assert await _count(bot.runtime, PulseAnswer) == 1


async def test_sent_at_close_and_thirty_days_later(bot: Playground) -> None:
    code = await _session(bot, "Feedback", ["alice", "bob"], close=False)
    first = await bot.say("anim1", "pulse send at close")
    assert "0 days after the session closes" in first
    later = await bot.say("anim1", f"sondage envoyer session {code} à la clôture + 30 jours")
    assert "Pulse #2" in later and "30 days after" in later
    assert _questions(await bot.messages("dm:bob")) == []
    await bot.command("anim1", f"session close {code}")
    await bot.runtime.clock.advance(1)
    assert len(_questions(await bot.messages("dm:bob"))) == 1
    await bot.runtime.clock.advance(30 * DAY)
    asked = [m["card"]["buttons"][0]["value"] for m in _questions(await bot.messages("dm:bob"))]
    # Pulse 1's question, pulse 2's question, and pulse 1's reminder (after 3 days).
    assert sorted(asked) == ["1:0", "1:0", "2:0"]
    notices = [m["text"] for m in await bot.messages("dm:anim1")]
    assert any("Pulse #2 about “Feedback” was sent to 2 members" in n for n in notices)


async def test_list_close_and_cancel(bot: Playground) -> None:
    await _session(bot, "Feedback", ["alice", "bob"])
    await bot.command("anim1", "pulse send until 2026-12-31")
    await bot.command("anim1", "pulse send at 2026-12-15 09:00")
    await _answer(bot, "bob", 1, 10)
    listing = await bot.say("anim1", "pulse list")
    assert "#1 · Feedback · 1 answer out of 2 (50%), open until Thu 31 Dec, 23:59" in listing
    assert "#2 · Feedback · to be sent Tue 15 Dec, 09:00" in listing
    assert "not been sent yet" in await bot.say("anim1", "pulse close 2")
    assert "cancelled" in await bot.say("anim1", "pulse cancel 2")
    assert "already sent" in await bot.say("anim1", "pulse cancel 1")
    assert "1 answer out of 2" in await bot.say("anim1", "pulse close")
    assert "not open" in await bot.say("anim1", "pulse close 1")
    await bot.runtime.clock.advance(30 * DAY)
    assert len(_questions(await bot.messages("dm:bob"))) == 1, "cancelled: never sent"
    async with bot.runtime.db_sessions() as db:
        statuses = (await db.execute(select(Pulse.status).order_by(Pulse.id))).scalars().all()
    assert statuses == ["closed", "cancelled"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pulse send", "No session was opened in this conversation"),
        ("pulse send community", "Nobody has joined"),
        ("pulse send session NOPE", "No session has the code"),
        ("pulse send community at close", "`at close` needs a session"),
        ("pulse send at close + 400 days", "from 0 to 365"),
        ("pulse send community at 2020-01-01 09:00", "already past"),
        ("pulse send every monday 09:00", "Send a pulse like this"),
        ("pulse send hello there", "Send a pulse like this"),
        ("pulse send community at 2026-12-10 09:00 until 2026-12-01", "must come after"),
        ("pulse cancel", "Cancel a scheduled pulse"),
        ("pulse results 7", "There is no pulse #7"),
        ("pulse results", "No pulse has been sent yet"),
    ],
)
async def test_bad_commands_are_explained_and_send_nothing(
    bot: Playground, text: str, expected: str
) -> None:
    assert expected in await bot.say("anim1", text, conversation="elsewhere")
    assert await _count(bot.runtime, Pulse) == 0
    assert await _count(bot.runtime, PulseRecipient) == 0


async def test_stop_such_messages_is_remembered(bot: Playground) -> None:
    await bot.command({"id": "dana", "name": "Dana"}, "hello")
    await _session(bot, "Feedback", ["alice", "bob"])
    await bot.command("anim1", "pulse send")
    await _answer(bot, "bob", 1, 9, 4, {"referrals": ["dana"]})
    stop = next(m for m in await bot.messages("dm:dana") if m["card"])["card"]["buttons"][2]
    reply = await bot.action("dana", stop["action_id"], stop["value"], "dm:dana")
    assert "settings invitations on" in reply[0]["text"]
    await _session(bot, "Coaching", ["alice", "bob"])
    await bot.command("anim1", "pulse send")
    await _answer(bot, "alice", 2, 10, 5, {"referrals": ["Dana"]})
    assert len([m for m in await bot.messages("dm:dana") if m["card"]]) == 1
    assert await _count(bot.runtime, Referral) == 2, "recorded, but no invitation"


async def test_export_is_a_csv_of_named_answers_behind_a_short_lived_link(
    bot: Playground,
) -> None:
    await _session(bot, "Feedback", ["alice", "bob"])
    await bot.command("anim1", "pulse send")
    await _answer(bot, "bob", 1, 6, 2, {"comment": "=HYPERLINK(1)", "referrals": ["Eve"]})
    assert "Only animators" in await bot.say("bob", "pulse export 1")
    card = (await bot.command("anim1", "pulse export 1"))[0]["card"]
    url = card["buttons"][0]["url"]
    path = url[url.index("/downloads/") :]
    response = await bot.client.get(path)
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    lines = (await response.text()).lstrip("\ufeff").splitlines()
    assert lines[0].startswith("pulse,member_id,name,score,category,lsat,comment,recommended_to")
    assert lines[1].startswith("1,bob,Bob,6,detractor,2,'=HYPERLINK(1),Eve,")
    assert len(lines) == 2
    forged = await bot.client.get("/downloads/forged-token")
    assert forged.status == 404
    assert "`pulse export`" in await forged.text() and "`sondage exporter`" in await forged.text()
    await bot.runtime.clock.advance(3601)
    assert (await bot.client.get(path)).status == 404, "expired after one hour"
