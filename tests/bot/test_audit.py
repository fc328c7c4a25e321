"""bot.audit refuses, as programming errors, what must never reach the log: unknown
actions, names or typed text in the detail, a missing or unexpected subject."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from bot import audit
from bot.i18n import catalogue
from storage.db import create_engine, session_factory
from storage.models import AuditEntry, Member, Workspace

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def test_every_action_has_its_sentences_in_both_languages() -> None:
    for locale in ("en", "fr"):
        messages = catalogue(locale)
        for action, kind in audit.ACTIONS.items():
            assert f"audit.action.{action}" in messages, (locale, action)
            if kind is audit.Subject.SELF_OR_MEMBER:
                assert f"audit.self.{action}" in messages, (locale, action)


@pytest.mark.parametrize(
    ("action", "subject", "detail", "message"),
    [
        ("role.grant", "member", {}, "unknown audit action"),
        ("badge.revoke", "member", {"level": "junior", "reason": "HR case 4711"}, "not text"),
        ("role.add", "member", {"role": "animator"}, None),  # codes and ids are recorded
        ("badge.grant", "member", {"level": "confirmed", "pulse": 3, "again": False}, None),
        ("role.add", "member", {"role": "x" * 65}, "not text"),
        ("role.add", "member", {"role": ["animator"]}, "not text"),
        ("role.add", "member", {"self": True}, "set by bot.audit"),
        ("role.add", None, {"role": "animator"}, "needs a subject"),
        ("pulse.send", "member", {"pulse": 1}, "has no subject"),
    ],
)
async def test_what_the_log_refuses(
    database_url: str, action: str, subject: str | None, detail: dict[str, Any], message: str | None
) -> None:
    engine = create_engine(database_url)
    db_sessions = session_factory(engine)
    try:
        async with db_sessions() as db, db.begin():
            workspace = Workspace(platform="local", external_id="local", created_at=NOW)
            db.add(workspace)
            await db.flush()
            member = Member(
                workspace_id=workspace.id,
                user_id="carol",
                display_name="Carol",
                role="learner",
                created_at=NOW,
            )
            db.add(member)
            await db.flush()
            call = audit.record_as(
                db,
                workspace_id=workspace.id,
                platform="local",
                now=NOW,
                action=action,
                actor_id=None,
                subject_id=member.id if subject else None,
                **detail,
            )
            if message is None:
                await call
                assert len((await db.execute(select(AuditEntry))).all()) == 1
            else:
                with pytest.raises(ValueError, match=message):
                    await call
    finally:
        await engine.dispose()


async def test_the_bot_cannot_act_about_itself(database_url: str) -> None:
    engine = create_engine(database_url)
    db_sessions = session_factory(engine)
    try:
        async with db_sessions() as db, db.begin():
            workspace = Workspace(platform="slack", external_id="T1", created_at=NOW)
            db.add(workspace)
            await db.flush()
            with pytest.raises(ValueError, match="needs a subject"):
                await audit.record_system(
                    db, workspace_id=workspace.id, platform="slack", now=NOW, action="member.leave"
                )
    finally:
        await engine.dispose()
