"""Challenges through the local API, on SQLite and PostgreSQL, with the clock moved by hand."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bot.clock import Clock
from bot.server import Runtime, build_app, create_runtime
from bot.settings import Settings
from storage import contributions, members, workspaces
from storage.models import Challenge, ChallengeOccurrence, Contribution
from tests.support.playground import Playground, user

FRIDAY = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)  # 11:00 in Paris
MONDAY_9_PARIS = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


async def _playground(
    settings: Settings, start: datetime
) -> tuple[Playground, Runtime, TestClient]:  # type: ignore[type-arg]
    runtime = create_runtime(settings, Clock(controllable=True, start=start))
    client = TestClient(TestServer(build_app(runtime, start_sender=False), host="127.0.0.1"))
    await client.start_server()
    return Playground(client, runtime), runtime, client


@pytest.fixture
async def bot(settings: Settings) -> AsyncIterator[Playground]:
    playground, runtime, client = await _playground(settings, FRIDAY)
    yield playground
    await client.close()
    await runtime.engine.dispose()


async def _reminders(bot: Playground, user_id: str) -> list[dict[str, object]]:
    return [m for m in await bot.messages(f"dm:{user_id}") if "Reminder" in str(m["text"])]


async def _count(runtime: Runtime, model: type, *where: object) -> int:
    async with runtime.db_sessions() as db:
        return int(
            (await db.execute(select(func.count()).select_from(model).where(*where))).scalar_one()
        )


async def test_weekly_challenge_in_french_posts_on_time_and_collects_both_outcomes(
    bot: Playground,
) -> None:
    await bot.command("anim1", "réglages langue fr")
    reply = await bot.say(
        "anim1", "défi publier Racontez un feedback donné cette semaine chaque lundi 9h"
    )
    assert "chaque lundi à 09:00 Europe/Paris" in reply
    assert "prochain\u00a0: lun. 30 nov., 09:00" in reply
    listing = await bot.say("anim1", "défi liste")
    assert "Racontez un feedback" in listing and "lun. 30 nov., 09:00" in listing
    assert await bot.messages() == []

    await bot.runtime.clock.set(MONDAY_9_PARIS - timedelta(seconds=1))
    assert await bot.messages() == [], "not before its time"
    await bot.runtime.clock.advance(1)
    posted = await bot.messages()
    assert len(posted) == 1 and posted[0]["card"]["title"] == "Défi"
    success, not_yet = posted[0]["card"]["buttons"]
    assert not_yet["label"] == "Partager un pas-encore"
    assert success["label"] == "Partager ma réussite"

    form = (await bot.action("alice", success["action_id"], success["value"]))[0]["form"]
    assert [f["id"] for f in form["fields"]] == ["text", "link"]
    answer = {"text": "J'ai fait un retour à Paul", "link": "https://example.org/retour"}
    thanks = await bot.action("alice", form["submit_action_id"], json.dumps(answer))
    assert "réussite est partagée" in thanks[0]["text"]
    assert "not-yet" in await bot.say("bob", "challenge answer not-yet I postponed it")

    thread = [m for m in await bot.messages() if m["in_reply_to"] == posted[0]["id"]]
    assert [m["card"]["title"] for m in thread] == [
        "Alice partage une réussite",
        "Bob partage un pas-encore",
    ]
    links = [b["url"] for b in thread[0]["card"]["buttons"] if "url" in b]
    assert links == ["https://example.org/retour"]
    profile = await bot.say("alice", "moi")
    assert "1 réussite, 0 pas-encore, 0 astuce, 0 question" in profile
    runtime = bot.runtime
    async with runtime.db_sessions() as db:
        workspace = await workspaces.find(db, "local", "local")
        assert workspace is not None
        alice = await members.find(db, workspace.id, "alice")
        bob = await members.find(db, workspace.id, "bob")
        assert alice is not None and bob is not None
        assert await contributions.counts_by_outcome(db, alice.id) == {"success": 1}
        assert await contributions.counts_by_outcome(db, bob.id) == {"not_yet": 1}

    await bot.runtime.clock.advance(7 * 24 * 3600)
    cards = [m for m in await bot.messages() if m["card"] and m["card"]["title"] == "Défi"]
    assert len(cards) == 2, "next Monday, once"


async def test_an_answer_can_be_edited_once_per_occurrence(bot: Playground) -> None:
    await bot.command("anim1", "challenge post Try one new thing")
    await bot.command("bob", "challenge answer not-yet Not this week")
    assert "updated" in await bot.say("bob", "challenge answer success Done after all")
    assert await _count(bot.runtime, Contribution) == 1
    answers = [m for m in await bot.messages() if m["in_reply_to"]]
    assert len(answers) == 1 and answers[0]["card"]["title"] == "Bob shares a success"
    assert answers[0]["card"]["body"] == "Done after all"


async def test_learners_cannot_post_list_or_cancel(bot: Playground) -> None:
    await bot.command("bob", "hello")
    for text in ("challenge post Hack", "challenge list", "challenge cancel 1"):
        assert (await bot.say("bob", text)).startswith("Only animators")
    assert await _count(bot.runtime, Challenge) == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("challenge post", "Write the challenge after the command"),
        ("challenge post Go at 2026-13-45 09:00", "is not a date"),
        ("challenge post Go at 2020-01-01 09:00", "already past"),
        ("challenge post Go every monday 09:00 until 2026-11-01", "no run to come"),
        ("challenge post " + "x" * 10_240, "too long"),
        ("challenge cancel 999", "There is no challenge #999"),
        ("challenge cancel abc", "Say which challenge"),
    ],
)
async def test_bad_input_is_explained_and_schedules_nothing(
    bot: Playground, text: str, expected: str
) -> None:
    assert expected in await bot.say("anim1", text)
    assert await _count(bot.runtime, Challenge) == 0
    assert await bot.messages() == []


async def test_answers_need_an_open_challenge_and_words(bot: Playground) -> None:
    assert "no open challenge" in await bot.say("bob", "challenge answer success Did it")
    await bot.command("anim1", "challenge post Try one new thing")
    assert "Say how it went" in await bot.say("bob", "challenge answer maybe")
    assert "what happened" in await bot.say("bob", "challenge answer success")
    await bot.runtime.clock.advance(8 * 24 * 3600)  # one-off challenges close after 7 days
    assert "no open challenge" in await bot.say("bob", "challenge answer success Late")
    assert await _count(bot.runtime, Contribution) == 0


async def test_cancel_stops_further_posts(bot: Playground) -> None:
    reply = await bot.say("anim1", "challenge post Daily tip every day 09:00")
    challenge_id = reply.split("#", 1)[1].split(" ", 1)[0]
    assert "is cancelled" in await bot.say("anim1", f"challenge cancel {challenge_id}")
    await bot.runtime.clock.advance(3 * 24 * 3600)
    assert await bot.messages() == []
    assert "cancelled" in await bot.say("anim1", "challenge list")


async def test_restart_loses_nothing_and_doubles_nothing(settings: Settings) -> None:
    first, runtime, client = await _playground(settings, FRIDAY)
    await first.command("anim1", "challenge post Weekly story every monday 09:00")
    await runtime.clock.set(MONDAY_9_PARIS + timedelta(seconds=5))
    assert len(await first.messages()) == 1
    await client.close()
    await runtime.engine.dispose()

    # A new process on the same database, a minute later: the occurrence is not posted again.
    second, runtime, client = await _playground(settings, MONDAY_9_PARIS + timedelta(minutes=1))
    try:
        await runtime.scheduler.tick()
        await runtime.sender.drain()
        assert len(await second.messages()) == 1
        await runtime.clock.advance(7 * 24 * 3600)
        assert len(await second.messages()) == 2
        occurrences = await _count(
            runtime, ChallengeOccurrence, ChallengeOccurrence.status == "posted"
        )
        assert occurrences == 2
    finally:
        await client.close()
        await runtime.engine.dispose()


@pytest.mark.parametrize(
    ("late", "posted"), [(timedelta(hours=2), True), (timedelta(hours=8), False)]
)
async def test_a_run_missed_while_down_posts_once_within_grace_else_is_skipped_visibly(
    settings: Settings, late: timedelta, posted: bool
) -> None:
    first, runtime, client = await _playground(settings, FRIDAY)
    await first.command("anim1", "challenge post Weekly story every monday 09:00")
    await client.close()
    await runtime.engine.dispose()

    # The bot was down at 09:00 on Monday and starts again `late` after.
    second, runtime, client = await _playground(settings, MONDAY_9_PARIS + late)
    try:
        await runtime.scheduler.tick()  # what the server does on start-up
        await runtime.scheduler.tick()
        await runtime.sender.drain()
        assert len(await second.messages()) == (1 if posted else 0)
        listing = await second.say("anim1", "challenge list")
        french = await second.say(user("anim1", "fr"), "défi liste")
        said = "skipped on Mon 30 Nov, 09:00: missed by 8.0 h while the bot was not running"
        assert (said in listing) is (not posted)
        said = "non publié le lun. 30 nov., 09:00\u00a0: le bot était arrêté (8,0\u00a0h de retard)"
        assert (said in french) is (not posted)
        assert ("skipped" in listing) is (not posted), "an on-time run is not called skipped"
        assert "Mon 7 Dec, 09:00" in listing, "the schedule goes on"
    finally:
        await client.close()
        await runtime.engine.dispose()


async def test_the_form_schedules_a_challenge_like_the_command(bot: Playground) -> None:
    form = (await bot.command("anim1", "challenge"))[0]["form"]
    assert [f["id"] for f in form["fields"]] == [
        "text",
        "first",
        "recurrence",
        "until",
        "conversation",
    ]
    assert (await bot.say("bob", "challenge")).startswith("Only animators")
    values = {
        "text": "Tell one story",
        "first": "2026-11-30T09:00",  # as a browser's datetime-local sends it
        "recurrence": "weekly",
        "until": "2027-01-31",
        "conversation": "#ambassadors",
    }
    reply = await bot.action("anim1", form["submit_action_id"], json.dumps(values))
    assert (
        "every week at 09:00 Europe/Paris until 31 Jan 2027, next: Mon 30 Nov, 09:00"
        in reply[0]["text"]
    )
    bad = await bot.action(
        "anim1", form["submit_action_id"], json.dumps({**values, "first": "soon"})
    )
    assert "is not a date" in bad[0]["text"]
    await bot.runtime.clock.set(MONDAY_9_PARIS)
    assert len(await bot.messages("ambassadors")) == 1


async def test_edit_changes_the_schedule_or_only_the_text(bot: Playground) -> None:
    await bot.command("anim1", "challenge post Weekly story every monday 09:00")
    moved = await bot.say("anim1", "challenge edit 1 every tuesday 10:00")
    assert "every Tuesday at 10:00" in moved and "next: Tue 1 Dec, 10:00" in moved
    renamed = await bot.say("anim1", "challenge edit 1 A better story")
    assert "every Tuesday at 10:00" in renamed
    form = (await bot.command("anim1", "challenge edit 1"))[0]["form"]
    prefilled = {f["id"]: f["value"] for f in form["fields"]}
    assert prefilled["text"] == "A better story" and prefilled["first"] == "2026-12-01T10:00"
    assert "Say which challenge" in await bot.say("anim1", "challenge edit")
    await bot.runtime.clock.set(MONDAY_9_PARIS + timedelta(days=1, hours=1))
    posted = await bot.messages()
    assert [m["card"]["body"] for m in posted] == ["A better story"]


async def test_members_who_have_not_answered_get_one_reminder_before_it_closes(
    bot: Playground,
) -> None:
    for who in ("alice", "bob"):
        await bot.command(who, "join")
    reply = await bot.say("anim1", "challenge post Weekly story every monday 09:00 remind 2h")
    assert "reminder 2 hours before it closes" in reply
    await bot.runtime.clock.set(MONDAY_9_PARIS)
    await bot.command("alice", "défi répondre réussite Fait")
    await bot.runtime.clock.advance(7 * 24 * 3600 - 2 * 3600 - 60)  # Monday 06:59 next week
    assert await _reminders(bot, "bob") == [], "no reminder before its time"
    await bot.runtime.clock.advance(60)
    reminders = await _reminders(bot, "bob")
    assert len(reminders) == 1 and reminders[0]["card"]["title"].startswith(
        "Reminder: this challenge closes"
    )
    assert [b["action_id"] for b in reminders[0]["card"]["buttons"]] == [
        "challenge.answer_form"
    ] * 2
    alice = [m["text"] for m in await bot.messages("dm:alice")]
    assert not any("Rappel" in text for text in alice), "alice answered: no reminder"
    await bot.runtime.clock.advance(3600)
    assert len(await _reminders(bot, "bob")) == 1, "never twice"
    assert "1 to 720 hours" in await bot.say("anim1", "challenge post X every day 09:00 remind 0h")


def _typed_hint(message: dict[str, Any]) -> str:
    """What the card tells people to type (its "Or type" field)."""
    fields = {f["label"]: f["value"] for f in message["card"]["fields"]}
    return str(fields.get("Or type") or fields["Ou tapez"])


async def test_the_number_on_a_card_is_the_challenges_and_every_command_takes_it(
    bot: Playground,
) -> None:
    await bot.command("anim1", "challenge post Daily tip every day 09:00")  # challenge #1
    await bot.runtime.clock.set(MONDAY_9_PARIS)  # passes its Saturday and Sunday runs
    await bot.command(user("anim1", "fr"), "défi publier Une histoire chaque lundi 10h")  # #2
    await bot.runtime.clock.set(MONDAY_9_PARIS + timedelta(hours=1))
    daily, story = await bot.messages()
    # The buttons carry the posts' own numbers (3 and 4), which people never see.
    assert [m["card"]["buttons"][0]["value"] for m in (daily, story)] == ["3:success", "4:success"]
    assert _typed_hint(daily) == "challenge answer 1 success|not-yet <what happened>"
    assert _typed_hint(story) == "défi répondre 2 réussite|pas-encore <ce qui s'est passé>"

    # The number read on the card answers it, in either language.
    assert "Merci" in await bot.say("alice", "défi répondre 2 réussite J'ai raconté")
    assert "Thank you" in await bot.say("bob", "challenge answer 1 not-yet Tomorrow")
    thread = [m["in_reply_to"] for m in await bot.messages() if m["in_reply_to"]]
    assert thread == [story["id"], daily["id"]]
    listing = await bot.say("anim1", "challenge list")
    assert "• #1 “Daily tip”" in listing and "• #2 “Une histoire”" in listing
    assert "every Monday at 10:00" in await bot.say("anim1", "challenge edit 2 A story")
    assert "is cancelled" in await bot.say("anim1", "challenge cancel 1")
    assert "There is no challenge #4" in await bot.say("bob", "challenge answer 4 success X")
    assert await _count(bot.runtime, Contribution) == 2


async def test_an_old_cards_button_and_a_challenge_not_yet_posted_say_what_to_answer(
    bot: Playground,
) -> None:
    await bot.command("anim1", "challenge post Weekly story every monday 09:00")
    await bot.command("anim1", "challenge post Monthly review at 2026-12-04 10:00")
    waiting = "Challenge #2 takes no answers right now: its next post is on Fri 4 Dec, 10:00."
    assert waiting in await bot.say("bob", "challenge answer 2 success Early")
    assert await bot.say("alice", "défi répondre 2 réussite Tôt") == (
        "Le défi n°\u00a02 ne reçoit pas de réponses en ce moment\u00a0: sa prochaine publication"
        " est le ven. 4 déc., 10:00."
    )
    await bot.runtime.clock.set(MONDAY_9_PARIS)
    first = (await bot.messages())[0]
    await bot.runtime.clock.advance(7 * 24 * 3600)
    success = first["card"]["buttons"][0]
    for who, says in (
        (
            "bob",
            "This post of challenge #1 is closed for answers. Answer its latest post, with its"
            " buttons or `challenge answer 1 success|not-yet …`.",
        ),
        (
            "alice",
            "Cette publication du défi n°\u00a01 n'accepte plus de réponses. Répondez à sa dernière"
            " publication, avec ses boutons ou `défi répondre 1 réussite|pas-encore …`.",
        ),
    ):
        form = (await bot.action(who, success["action_id"], success["value"]))[0]["form"]
        refused = await bot.action(who, form["submit_action_id"], json.dumps({"text": "Late"}))
        assert refused[0]["text"] == says
    assert await _count(bot.runtime, Contribution) == 0
    assert "Thank you" in await bot.say("bob", "challenge answer 1 success On time")


async def test_a_one_off_challenge_is_listed_open_while_it_takes_answers(bot: Playground) -> None:
    await bot.command("anim1", "challenge post Try one new thing")
    listing = await bot.say("anim1", "challenge list")
    assert "• #1 “Try one new thing” — posted, takes answers until Fri 4 Dec, 11:00" in listing
    assert "finished" not in listing
    french = await bot.say(user("anim1", "fr"), "défi liste")
    assert "— publié, reçoit des réponses jusqu'au ven. 4 déc., 11:00" in french
    assert "terminé" not in french
    assert "Thank you" in await bot.say("bob", "challenge answer 1 success Did it")

    await bot.command("anim1", "challenge post Weekly story every monday 09:00")
    await bot.runtime.clock.set(MONDAY_9_PARIS)
    await bot.command("anim1", "challenge cancel 2")
    listing = await bot.say("anim1", "challenge list")
    assert "#2 “Weekly story” — cancelled; its last post takes answers until Mon 7 Dec" in listing
    french = await bot.say(user("anim1", "fr"), "défi liste")
    assert (
        "annulé\u202f; sa dernière publication reçoit des réponses jusqu'au lun. 7 déc." in french
    )

    await bot.runtime.clock.advance(7 * 24 * 3600)  # one-off challenges close after 7 days
    listing = await bot.say("anim1", "challenge list")
    assert "“Try one new thing” — finished" in listing
    assert "“Weekly story” — cancelled" in listing and "takes answers" not in listing
    finished = "«\u00a0Try one new thing\u00a0» — terminé"
    assert finished in await bot.say(user("anim1", "fr"), "défi liste")
    closed = "Challenge #1 is closed for answers: it will not be posted again."
    assert closed in await bot.say("bob", "challenge answer 1 success Late")
    assert (await bot.say("alice", "défi répondre 1 réussite Tard")).startswith(
        "Le défi n°\u00a01 n'accepte plus de réponses\u00a0: il ne sera plus publié."
    )


async def test_a_recurring_challenge_lists_until_when_its_post_takes_answers(
    bot: Playground,
) -> None:
    await bot.command("anim1", "challenge post Weekly story every monday 09:00")
    assert "Takes answers" not in await bot.say("anim1", "challenge list"), "not posted yet"
    await bot.runtime.clock.set(MONDAY_9_PARIS)
    listing = await bot.say("anim1", "challenge list")
    assert "next: Mon 7 Dec, 09:00. Takes answers until Mon 7 Dec, 09:00." in listing
    french = await bot.say(user("anim1", "fr"), "défi liste")
    assert "Reçoit des réponses jusqu'au lun. 7 déc., 09:00." in french
