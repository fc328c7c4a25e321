"""Recording what people change: one call per audited action, in the handler's transaction.

    await audit.record(ctx, "role.add", subject=member, role="animator")

The entry commits with the change it describes, or not at all: a refused command (a
`UserError` raised after the call) rolls it back with everything else. Admins read the
log with `audit [n]` (bot/handlers/audit_log.py); the retention purge deletes old entries
(storage/audit.purge_older_than).

What may be recorded is deliberately narrow: ids and short codes. Never a name (names are
read from the member rows at display time, so an erasure removes them) and never a text
someone typed (a revocation note, a comment): `detail` values that look like free text are
refused with ValueError, a programming error caught by the tests.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import Enum

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.context import Context
from storage import audit
from storage.models import Member


class Subject(Enum):
    """Whether an action is about another member."""

    NONE = "none"  # pulse.send: about a pulse, not a person
    MEMBER = "member"  # role.add: always someone
    SELF_OR_MEMBER = "self"  # member.forget: the asker themself, or someone an admin names


# Every action the log knows, each with a sentence in the catalogues (audit.action.<code>,
# and audit.self.<code> for what a person does about themself).
ACTIONS: dict[str, Subject] = {
    "role.add": Subject.MEMBER,
    "role.remove": Subject.MEMBER,
    "badge.grant": Subject.MEMBER,
    "badge.revoke": Subject.MEMBER,
    "pulse.send": Subject.NONE,
    "pulse.schedule": Subject.NONE,
    "pulse.close": Subject.NONE,
    "pulse.cancel": Subject.NONE,
    "pulse.export": Subject.NONE,
    "data.export": Subject.SELF_OR_MEMBER,
    "member.leave": Subject.SELF_OR_MEMBER,
    "member.forget": Subject.SELF_OR_MEMBER,
    "dashboard.open": Subject.NONE,
    "themes.export": Subject.NONE,
}

# Set in `detail` when a person acted about themself (`forget me`): after an erasure both
# ids are NULL, and the log must still say "erased their own data".
SELF = "self"
# A code or an id, never prose: no spaces, short.
_CODE = re.compile(r"^[A-Za-z0-9_.:#-]{1,64}$")
DetailValue = str | int | bool


async def record(
    ctx: Context, action: str, subject: Member | None = None, **detail: DetailValue
) -> None:
    """Record that the asker did `action` (to `subject`), from the event's platform.

    For data.export, member.leave and member.forget, leave `subject` out (or pass the
    asker) when people act about themselves. Call it before deleting a member row: the
    entry points at the member, and the deletion then sets that id to NULL.
    """
    await record_as(
        ctx.db,
        workspace_id=ctx.workspace.id,
        platform=ctx.origin.platform,
        now=ctx.now,
        action=action,
        actor_id=ctx.actor.id,
        subject_id=subject.id if subject is not None else None,
        **detail,
    )


async def record_system(
    db: AsyncSession,
    *,
    workspace_id: int,
    platform: str,
    now: datetime,
    action: str,
    subject_id: int | None = None,
    **detail: DetailValue,
) -> None:
    """Record something the bot did on its own (e.g. an uninstall removing a role)."""
    await record_as(
        db,
        workspace_id=workspace_id,
        platform=platform,
        now=now,
        action=action,
        actor_id=None,
        subject_id=subject_id,
        **detail,
    )


async def record_as(
    db: AsyncSession,
    *,
    workspace_id: int,
    platform: str,
    now: datetime,
    action: str,
    actor_id: int | None,
    subject_id: int | None = None,
    **detail: DetailValue,
) -> None:
    """Record `action` by member `actor_id` (None: the bot) outside a handler's context.

    ValueError for an unknown action, a missing or unexpected subject, or a `detail` that
    is not made of ids and short codes.
    """
    kind = ACTIONS.get(action)
    if kind is None:
        raise ValueError(f"unknown audit action {action!r}: add it to bot.audit.ACTIONS")
    checked = _checked(detail)
    if kind is Subject.SELF_OR_MEMBER and actor_id is not None and subject_id in (None, actor_id):
        checked[SELF] = True
        subject_id = actor_id
    elif kind is not Subject.NONE and subject_id is None:
        raise ValueError(f"audit action {action!r} needs a subject")
    elif kind is Subject.NONE and subject_id is not None:
        raise ValueError(f"audit action {action!r} has no subject")
    await audit.add(
        db,
        workspace_id=workspace_id,
        platform=platform,
        at=now,
        action=action,
        actor_member_id=actor_id,
        subject_member_id=subject_id,
        detail=checked,
    )


def _checked(detail: dict[str, DetailValue]) -> dict[str, DetailValue]:
    """`detail` if it holds only codes and ids; ValueError otherwise (no names, no prose)."""
    if SELF in detail:
        raise ValueError(f"{SELF!r} is set by bot.audit itself")
    for key, value in detail.items():
        if isinstance(value, bool | int):
            continue
        if not isinstance(value, str) or not _CODE.match(value):
            raise ValueError(f"audit detail {key!r} must be an id or a short code, not text")
    return dict(detail)
