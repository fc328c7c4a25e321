"""`themes` and `themes export` in the playground, end to end: the real models read the
posts (bot/voice/), the themes come back translated, names for animators only, the CSV
behind its link.

The posts are written here for these tests (not the evaluation set): two subjects a
training produces, in both languages.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bot.clock import Clock
from bot.handlers.themes import HEADER
from bot.jobs import voice as voice_job
from bot.server import build_app, create_runtime
from bot.settings import Settings
from storage.models import ContributionVoice, ThemeMap
from tests.conftest import FRIDAY
from tests.support.playground import Playground, user
from tests.support.slack_requests import command as slack_command
from tests.support.slack_requests import sign
from tests.support.slack_wire import handle_recorded, slack_app
from tests.support.teams_wire import ANIM, activity, send, settle, teams_app

DELEGATION = [
    (
        "alice",
        "partager question Comment confier un dossier à un collègue"
        " sans tout vérifier derrière lui ?",
    ),
    (
        "chloe",
        "partager retour J'ai laissé mon équipe piloter le budget du"
        " projet, j'ai lâché prise et ça a marché.",
    ),
    ("bob", "share question How do I delegate a project to my team without micromanaging them?"),
    (
        "dan",
        "share experience I handed the client report over to a"
        " junior colleague and resisted checking every line.",
    ),
    ("alice", "partager Déléguer une tâche, c'est aussi déléguer la décision qui va avec."),
    ("bob", "share Delegating the decision, not only the task, gave my team real ownership."),
]
MEETINGS = [
    (
        "chloe",
        "partager question Nos réunions d'équipe durent deux heures"
        " sans ordre du jour, comment les raccourcir ?",
    ),
    (
        "alice",
        "partager retour J'ai imposé un ordre du jour et une fin à"
        " l'heure : la réunion hebdo a duré 30 minutes.",
    ),
    (
        "dan",
        "share question Our weekly meetings always overrun and nobody decides anything, any tips?",
    ),
    (
        "bob",
        "share experience I cancelled the status meeting and"
        " replaced it with a written update; nobody missed it.",
    ),
    ("chloe", "partager Une réunion sans décision notée est une réunion à refaire."),
    ("dan", "share Every meeting ends with who does what by when, written in the invite."),
]
LOCALES = {"alice": "fr", "chloe": "fr", "bob": "en", "dan": "en"}


def _who(name: str) -> dict[str, Any]:
    return user(name, LOCALES[name], name.capitalize())


async def _share_all(bot: Playground) -> None:
    await bot.command("anim1", "session start Management 101")
    for name in LOCALES:
        await bot.command(_who(name), "join")
    for name, text in DELEGATION + MEETINGS:
        replies = await bot.command(_who(name), text)
        assert replies, text


async def test_no_themes_before_enough_posts_says_how_to_get_some(bot: Playground) -> None:
    text = await bot.say(_who("alice"), "thèmes")
    assert "Pas encore de thèmes" in text
    assert "6 contributions" in text
    assert "`partager question`" in text


async def test_themes_group_the_posts_and_name_authors_for_animators_only(bot: Playground) -> None:
    await _share_all(bot)
    animator = await bot.say("anim1", "themes all")
    assert animator.startswith("What the community talks about — since the start")
    assert "12 posts in" in animator
    # Every post is in one theme: the themes' sizes add up to the posts.
    async with bot.runtime.db_sessions() as db:
        read = (await db.execute(select(func.count()).select_from(ContributionVoice))).scalar()
        themed = (
            await db.execute(select(func.count()).where(ContributionVoice.theme.is_not(None)))
        ).scalar()
        assert read == themed == 12
        assert (await db.execute(select(func.count()).select_from(ThemeMap))).scalar() == 1
    # Quotes name their authors for animators…
    assert any(f"— {name.capitalize()}" in animator for name in LOCALES)
    # …never for learners, who read it in their language.
    learner = await bot.say(_who("alice"), "thèmes tout")
    assert learner.startswith("Ce dont parle la communauté — depuis le début")
    assert "12 publications en" in learner
    assert not any(f"— {name.capitalize()}" in learner for name in LOCALES)
    assert "ressenti" in learner


async def test_a_training_filter_and_a_period_narrow_the_themes(bot: Playground) -> None:
    await _share_all(bot)
    narrowed = await bot.say("anim1", "themes management 101 week")
    assert "last 7 days" in narrowed
    assert "12 posts" in narrowed
    await bot.runtime.clock.advance(10 * 24 * 3600)
    later = await bot.say("anim1", "themes week")
    assert "Nothing was shared in this period" in later


async def test_bad_arguments_say_how_to_write_them(bot: Playground) -> None:
    await _share_all(bot)
    refused = await bot.say("anim1", "themes 0d")
    assert "number of days from 1 to 3650" in refused
    assert "number of days" in await bot.say("anim1", "themes 10000d")
    assert "last 7 days" in await bot.say("anim1", "themes last week")
    assert "7 derniers jours" in await bot.say(_who("alice"), "thèmes semaine dernière")
    unknown = await bot.say(_who("alice"), "thèmes Excel avancé")
    assert "Aucune formation ne s'appelle «\u00a0Excel avancé\u00a0»" in unknown
    assert "`thèmes Management 101 mois`" in unknown, "the example names a real training"


async def test_export_is_a_csv_of_every_shown_post_behind_a_link(bot: Playground) -> None:
    await _share_all(bot)
    await bot.command("anim1", "hide 1 off-topic")
    refused = await bot.say(_who("bob"), "themes export")
    assert "animator" in refused.lower()
    card = (await bot.command("anim1", "themes export"))[0]["card"]
    url = card["buttons"][0]["url"]
    response = await bot.client.get(url[url.index("/downloads/") :])
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO((await response.text()).lstrip("\ufeff"))))
    assert tuple(rows[0]) == HEADER
    assert len(rows) == 1 + 11  # the hidden post is left out
    assert {row[2] for row in rows[1:]} == {"fr", "en"}
    assert all(row[3].isdigit() and row[4] for row in rows[1:])
    assert {row[5] for row in rows[1:]} <= {"positive", "neutral", "negative"}


async def test_erasing_a_person_erases_their_posts_vectors(bot: Playground) -> None:
    await _share_all(bot)
    await bot.say("anim1", "themes all")  # the posts are read: 12 vectors stored
    [confirm] = await bot.command(_who("bob"), "forget me")
    erase = confirm["card"]["buttons"][0]
    await bot.action(_who("bob"), erase["action_id"], erase["value"])
    async with bot.runtime.db_sessions() as db:
        left = (await db.execute(select(func.count()).select_from(ContributionVoice))).scalar()
    assert left == 12 - 3  # Bob's three posts, and their vectors, are gone
    text = await bot.say("anim1", "themes all")
    assert "9 posts in" in text
    assert "Bob" not in text


async def test_hidden_posts_leave_the_themes(bot: Playground) -> None:
    await _share_all(bot)
    await bot.command("anim1", "hide 1 off-topic")
    await bot.command("anim1", "hide 2 off-topic")
    text = await bot.say("anim1", "themes all")
    assert "10 posts in" in text


async def test_turned_off_the_themes_say_so_and_read_nothing(settings: Settings) -> None:
    from dataclasses import replace

    off = replace(settings, voice=False)
    runtime = create_runtime(off, Clock(controllable=True, start=FRIDAY))
    client = TestClient(TestServer(build_app(runtime, start_sender=False), host="127.0.0.1"))
    await client.start_server()
    try:
        bot = Playground(client, runtime)
        await _share_all(bot)
        text = await bot.say(_who("alice"), "thèmes")
        assert "désactivés sur cette installation" in text
        async with runtime.db_sessions() as db:
            read = (await db.execute(select(func.count()).select_from(ContributionVoice))).scalar()
        assert read == 0
        job = voice_job.job(runtime.db_sessions, off)
        assert await job.due_work(runtime.clock.now()) == 0
        assert await job.next_due() is None
    finally:
        await client.close()
        await runtime.engine.dispose()


# --- at the wire: the same command through Slack and Teams ---------------------------------

WIRE_POSTS = [
    "share question How do I delegate a whole project without checking every detail?",
    "share experience I handed the client report to a junior colleague and let go.",
    "share Delegating the decision, not only the task, builds real ownership.",
    "share question Our weekly meeting overruns every time, how do I keep it short?",
    "share experience I wrote an agenda with end times and the meeting took 30 minutes.",
    "share Every meeting ends with who does what by when, written down.",
]


async def test_themes_through_slack_come_back_on_the_response_url(database_url: str) -> None:
    async with slack_app(database_url) as (client, fake, runtime):
        for n, text in enumerate(WIRE_POSTS):
            body = slack_command(f"U{n}", text, response_url=fake.response_url(f"s{n}"))
            assert (await client.post("/slack/events", data=body, headers=sign(body))).status == 200
        await handle_recorded(runtime)
        body = slack_command("UANIM", "themes all", response_url=fake.response_url("themes"))
        assert (await client.post("/slack/events", data=body, headers=sign(body))).status == 200
        await handle_recorded(runtime)
    [answer] = fake.responses["themes"]
    shown = json.dumps(answer, ensure_ascii=False)
    assert "What the community talks about" in shown
    assert "6 posts in" in shown
    assert answer.get("response_type", "ephemeral") == "ephemeral"


async def test_themes_through_teams_come_back_in_the_askers_chat(
    database_url: str,
) -> None:
    async with teams_app(database_url) as (client, fake, runtime):
        for n, text in enumerate(WIRE_POSTS):
            who = f"0000000{n}-0000-4000-8000-000000000000"
            assert (await send(client, fake, activity(fake, who, text))).status == 202
            await settle(runtime)
            await runtime.clock.advance(3)
        assert (await send(client, fake, activity(fake, ANIM, "themes all"))).status == 202
        await settle(runtime)
        await runtime.clock.advance(3)
        await settle(runtime)
        chats = {
            c.body["members"][0]["id"]: c.conversation for c in fake.calls if c.method == "create"
        }
        shown = [call.shown for call in fake.sent(chats[f"29:{ANIM}"])]
    assert any("What the community talks about" in text and "6 posts in" in text for text in shown)


async def test_the_feeling_of_a_training_stands_next_to_its_nps_in_the_chat(
    bot: Playground,
) -> None:
    await _share_all(bot)  # everyone joined through "Management 101"
    await bot.command("anim1", "session close")
    await bot.command("anim1", "pulse send")
    for name in LOCALES:
        await bot.action(_who(name), "pulse.score", "1:9", f"dm:{name}")
    before = await bot.say("anim1", "pulse results all")
    line = next(x for x in before.splitlines() if x.startswith("Management 101"))
    assert "feeling" not in line, "no post read yet: no feeling to show"
    await bot.say("anim1", "themes")  # reads the posts
    after = await bot.say("anim1", "pulse results all")
    line = next(x for x in after.splitlines() if x.startswith("Management 101"))
    assert line.startswith("Management 101 · 4 answers · NPS +100")
    assert " · feeling " in line and line.endswith("over 12 posts")
