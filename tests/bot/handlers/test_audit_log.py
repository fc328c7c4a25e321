"""The audit log through the playground, on both databases: each change of a role, a badge
or a pulse and each export records exactly one entry (who, what, platform), refused
commands record none, admins read it in their language and time zone, and an erased
person reads "a former member"."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import aliased

from bot import audit
from bot.server import Runtime
from storage import workspaces
from storage.models import AuditEntry, Member
from tests.support.playground import Playground

NBSP = "\u00a0"  # French: a no-break space before : and inside « » (bot/i18n typography rule)


async def _entries(runtime: Runtime) -> list[tuple[Any, ...]]:
    """(actor's user id, action, subject's user id, platform, detail), oldest first."""
    actor, subject = aliased(Member), aliased(Member)
    query = (
        select(
            actor.user_id,
            AuditEntry.action,
            subject.user_id,
            AuditEntry.platform,
            AuditEntry.detail,
        )
        .outerjoin(actor, actor.id == AuditEntry.actor_member_id)
        .outerjoin(subject, subject.id == AuditEntry.subject_member_id)
        .order_by(AuditEntry.id)
    )
    async with runtime.db_sessions() as db:
        return [tuple(row) for row in await db.execute(query)]


async def _count(runtime: Runtime) -> int:
    async with runtime.db_sessions() as db:
        return int((await db.execute(select(func.count()).select_from(AuditEntry))).scalar_one())


async def _session(bot: Playground, learners: list[str]) -> str:
    """A session in #general that `learners` joined, closed; its code."""
    await bot.command("anim1", "session start Feedback")
    card = next(m for m in reversed(await bot.messages()) if m["card"])["card"]
    code = str(card["buttons"][0]["value"])
    for learner in learners:
        await bot.command(learner, f"join {code}")
    await bot.command("anim1", f"session close {code}")
    return code


async def test_each_change_records_one_entry_with_who_what_and_platform(bot: Playground) -> None:
    code = await _session(bot, ["alice", "bob"])
    await bot.command({"id": "carol", "name": "Carol"}, "hello")
    await bot.command("anim1", "role add @carol animator")
    await bot.command("anim1", "role add @carol animator")  # already: no change, no entry
    await bot.command("anim1", "rôle retirer @carol animateur")
    await bot.command("anim1", "badge grant @bob confirmé Ran the workshop")
    await bot.command("anim1", "badge revoke @bob junior Granted by mistake")
    await bot.command("anim1", "pulse send")
    await bot.command("anim1", "pulse send at 2026-12-15 09:00")
    form = {"session": code, "when": "close_30", "at": "", "until": ""}
    await bot.action("anim1", "pulse.form", json.dumps(form))
    await bot.command("anim1", "pulse cancel 2")
    await bot.command("bob", "pulse results")  # reading changes nothing
    await bot.action("bob", "pulse.score", "1:9", "dm:bob")  # an answer is not audited
    await bot.command("anim1", "pulse export 1")
    await bot.command("anim1", "pulse close 1")

    assert await _entries(bot.runtime) == [
        ("anim1", "role.add", "carol", "local", {"role": "animator"}),
        ("anim1", "role.remove", "carol", "local", {"role": "animator"}),
        ("anim1", "badge.grant", "bob", "local", {"level": "confirmed"}),
        ("anim1", "badge.revoke", "bob", "local", {"level": "junior"}),
        ("anim1", "pulse.send", None, "local", {"pulse": 1}),
        ("anim1", "pulse.schedule", None, "local", {"pulse": 2}),
        ("anim1", "pulse.schedule", None, "local", {"pulse": 3}),
        ("anim1", "pulse.cancel", None, "local", {"pulse": 2}),
        ("anim1", "pulse.export", None, "local", {"pulse": 1}),
        ("anim1", "pulse.close", None, "local", {"pulse": 1}),
    ]
    async with bot.runtime.db_sessions() as db:
        stored = json.dumps([e.detail for e in (await db.execute(select(AuditEntry))).scalars()])
    assert "workshop" not in stored and "mistake" not in stored, "typed reasons stay out"


async def test_refused_commands_and_bad_input_record_nothing(bot: Playground) -> None:
    await _session(bot, ["bob"])
    await bot.command({"id": "dana", "name": "Dana"}, "hello")
    refused = {
        ("bob", "role add @bob animator"): "Only admins",
        ("bob", "badge grant @bob senior"): "Only animators",
        ("bob", "pulse send"): "Only animators",
        ("bob", "pulse export"): "Only animators",
        ("anim1", "role add carol animator"): "`role add @user animator`",
        ("anim1", "role add @carol wizard"): "`role add @user animator`",
        ("anim1", "role remove @bob animator"): "is not animator",
        ("anim1", "badge grant @dana junior"): "has not joined",
        ("anim1", "badge revoke @bob junior"): "Say why",
        ("anim1", "badge revoke @bob junior oops"): "does not hold",
        ("anim1", "pulse send every monday 09:00"): "Send a pulse like this",
        ("anim1", "pulse close"): "No pulse has been sent yet",
        ("anim1", "pulse cancel 7"): "There is no pulse #7",
        ("anim1", "pulse export 9"): "There is no pulse #9",
    }
    for (who, text), expected in refused.items():
        assert expected in await bot.say(who, text), text
    await bot.action("anim1", "pulse.form", json.dumps({"session": "NOPE", "when": "now"}))
    assert await _count(bot.runtime) == 0


async def test_admins_read_the_log_in_english_and_french(bot: Playground) -> None:
    assert "Nothing recorded yet" in await bot.say("anim1", "audit")
    await _session(bot, ["bob"])
    await bot.command({"id": "carol", "name": "Carol"}, "hello")
    await bot.command("anim1", "role add @carol animator")
    await bot.runtime.clock.advance(90 * 60)
    await bot.command("anim1", "badge grant @bob junior")
    await bot.runtime.clock.advance(24 * 3600)
    await bot.command("anim1", "pulse send")

    assert await bot.say("anim1", "audit") == "\n".join(
        [
            "The 3 latest changes, newest first (times in Europe/Paris):",
            "• 28 Nov 2026, 12:30 — Anim1 sent pulse #1 (playground)",
            "• 27 Nov 2026, 12:30 — Anim1 granted the Junior badge to Bob (playground)",
            "• 27 Nov 2026, 11:00 — Anim1 gave the animator role to Carol (playground)",
        ]
    )
    assert await bot.say("anim1", "audit 1") == "\n".join(
        [
            "The latest change (times in Europe/Paris):",
            "• 28 Nov 2026, 12:30 — Anim1 sent pulse #1 (playground)",
        ]
    )
    await bot.command("anim1", "réglages langue fr")
    await bot.command("anim1", "réglages fuseau America/Montreal")
    assert await bot.say("anim1", "journal") == "\n".join(
        [
            "Les 3 derniers changements, du plus récent au plus ancien"
            f" (heures de America/Montreal){NBSP}:",
            "• 28 nov. 2026, 06:30 — Anim1 a envoyé le sondage n°\u00a01 (bac à sable)",
            "• 27 nov. 2026, 06:30 — Anim1 a attribué le badge Junior à Bob (bac à sable)",
            f"• 27 nov. 2026, 05:00 — Anim1 a donné le rôle «{NBSP}animateur{NBSP}» à Carol"
            " (bac à sable)",
        ]
    )


async def test_a_bad_count_gets_the_usage_and_only_admins_may_read(bot: Playground) -> None:
    await bot.command({"id": "carol", "name": "Carol"}, "hello")
    await bot.command("anim1", "role add @carol animator")
    for text in ("audit 500", "audit 0", "audit -3", "audit ten", "audit 5 6"):
        reply = await bot.say("anim1", text)
        assert reply.startswith("Show the log with `audit` (the latest 20) or `audit <n>`"), text
        assert "n from 1 to 100" in reply
    assert (await bot.say("anim1", "audit 100")).startswith("The latest change (")  # the max
    assert (await bot.say("bob", "audit")).startswith("Only admins can do that")
    assert (await bot.say("carol", "audit")).startswith("Only admins can do that"), "animators"
    assert (await bot.say("alice", "journal")).startswith("Seuls les administrateurs")
    await bot.command("anim1", "réglages langue fr")
    usage = "(par défaut\u00a0: 20) ou `audit <n>`, n de 1 à 100"
    assert usage in await bot.say("anim1", "journal 500")
    assert await _count(bot.runtime) == 1


async def test_an_erased_person_reads_a_former_member(bot: Playground) -> None:
    await _session(bot, ["bob"])
    await bot.command({"id": "carol", "name": "Carol"}, "hello")
    await bot.command("anim1", "role add @carol animator")
    await bot.command("carol", "badge grant @bob junior")
    async with bot.runtime.db_sessions() as db, db.begin():
        await db.execute(delete(Member).where(Member.user_id == "carol"))
    assert await _entries(bot.runtime) == [
        ("anim1", "role.add", None, "local", {"role": "animator"}),
        (None, "badge.grant", "bob", "local", {"level": "junior"}),
    ]
    english = await bot.say("anim1", "audit")
    assert "— a former member granted the Junior badge to Bob (playground)" in english
    assert "— Anim1 gave the animator role to a former member (playground)" in english
    assert "Carol" not in english
    await bot.command("anim1", "settings language fr")
    french = await bot.say("anim1", "audit")
    assert "— une personne qui n'est plus membre a attribué le badge Junior à Bob" in french


async def test_what_people_do_about_themselves_reads_so_even_once_erased(bot: Playground) -> None:
    """The API the data-rights commands use: `record` leaves the subject out for oneself."""
    await bot.command({"id": "carol", "name": "Carol"}, "hello")
    await bot.command({"id": "dana", "name": "Dana"}, "hello")
    await bot.command("anim1", "hello")
    async with bot.runtime.db_sessions() as db, db.begin():
        workspace = await workspaces.find(db, "local", "local")
        assert workspace is not None
        people = {m.user_id: m.id for m in (await db.execute(select(Member))).scalars().all()}
        now = bot.runtime.clock.now()
        for action in ("data.export", "member.leave"):
            await audit.record_as(
                db,
                workspace_id=workspace.id,
                platform="slack",
                now=now,
                action=action,
                actor_id=people["carol"],
            )
        await audit.record_as(
            db,
            workspace_id=workspace.id,
            platform="teams",
            now=now,
            action="member.forget",
            actor_id=people["anim1"],
            subject_id=people["dana"],
        )
        await audit.record_as(
            db,
            workspace_id=workspace.id,
            platform="slack",
            now=now,
            action="member.forget",
            actor_id=people["carol"],
            subject_id=people["carol"],
        )
        await db.execute(delete(Member).where(Member.user_id.in_(["carol", "dana"])))
    assert (await bot.say("anim1", "audit")).splitlines()[1:] == [
        "• 27 Nov 2026, 11:00 — a former member erased their own data (Slack)",
        "• 27 Nov 2026, 11:00 — Anim1 erased the data of a former member (Teams)",
        "• 27 Nov 2026, 11:00 — a former member left the community (Slack)",
        "• 27 Nov 2026, 11:00 — a former member exported their own data (Slack)",
    ]
