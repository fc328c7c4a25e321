"""Members: people the bot knows in a workspace, and the history of what happened to them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    String,
    bindparam,
    case,
    func,
    insert,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from storage import activity
from storage.models import Member, MembershipEvent, Workspace
from storage.upsert import InsertInto, Prepared, attach, attach_values, insert_for, table_of
from storage.vocabulary import MemberRole

# Who stands for people who were erased, as author of the sessions, challenges and pulses
# they ran ("@" never appears in a platform's user id).
FORMER_MEMBER_ID = "@former-member"


async def upsert_seen(
    db: AsyncSession,
    workspace_id: int,
    user_id: str,
    display_name: str,
    platform_locale: str | None,
    now: datetime,
) -> Member:
    """Create the member on first sight, else refresh the name and locale the platform sent.

    One statement (INSERT … ON CONFLICT DO UPDATE … RETURNING) so that concurrent
    first events of the same person create one row.
    """
    result = await _UPSERT_SEEN.execute(
        db,
        {
            "workspace_id": workspace_id,
            "user_id": user_id,
            "display_name": display_name,
            "platform_locale": platform_locale,
            "role": MemberRole.LEARNER,
            "created_at": now,
        },
    )
    return attach(db, Member, result.one())


def _build_upsert_seen(insert_into: InsertInto) -> Any:
    member = table_of(Member)
    insert = insert_into(member)
    return insert.on_conflict_do_update(
        index_elements=["workspace_id", "user_id"], set_=_seen_updates(insert, member)
    ).returning(*member.c)


def _seen_updates(insert: Any, member: Any) -> dict[str, Any]:
    return {
        # A platform that only knows the id (a Slack event) must not erase a real name.
        "display_name": case(
            (insert.excluded.display_name == insert.excluded.user_id, member.c.display_name),
            else_=insert.excluded.display_name,
        ),
        "platform_locale": func.coalesce(insert.excluded.platform_locale, member.c.platform_locale),
    }


_UPSERT_SEEN = Prepared(_build_upsert_seen)


async def upsert_seen_in(
    db: AsyncSession,
    platform: str,
    external_id: str,
    user_id: str,
    display_name: str,
    platform_locale: str | None,
    now: datetime,
) -> tuple[Workspace, Member] | None:
    """`upsert_seen` in the workspace `platform`/`external_id`, and that workspace as it is
    now, in one round trip; None (nothing written) when the workspace was never seen.

    Why one statement: every event needs both rows, and each statement costs more CPU
    through the driver than the lookups themselves. The workspace is read in the same
    statement, never cached: its language, time zone or uninstalled mark may be changed
    by any replica at any time.
    """
    result = await _UPSERT_SEEN_IN.execute(
        db,
        {
            "platform": platform,
            "external_id": external_id,
            "user_id": user_id,
            "display_name": display_name,
            "platform_locale": platform_locale,
            "role": MemberRole.LEARNER,
            "created_at": now,
        },
    )
    row = result.one_or_none()
    if row is None:
        return None
    values = row._asdict()
    workspace_values = {name: values.pop(_WORKSPACE_PREFIX + name) for name in _WORKSPACE_READ} | {
        "id": values["workspace_id"],
        "platform": platform,
        "external_id": external_id,
    }
    workspace = attach_values(db, Workspace, workspace_values)
    return workspace, attach_values(db, Member, values)


_WORKSPACE_PREFIX = "workspace__"
# The workspace's columns read back (its id, platform and external id are known already).
_WORKSPACE_READ = tuple(
    column.name
    for column in table_of(Workspace).c
    if column.name not in {"id", "platform", "external_id"}
)


def _build_upsert_seen_in(insert_into: InsertInto) -> Any:
    member = table_of(Member)
    workspace = table_of(Workspace)
    # INSERT … SELECT from the workspace row: no workspace, no row (the caller creates it).
    # The WHERE clause also keeps SQLite from reading ON CONFLICT as a join's ON.
    written = ["user_id", "display_name", "platform_locale", "role", "created_at"]
    source = select(
        workspace.c.id, *(bindparam(name, type_=member.c[name].type) for name in written)
    ).where(
        workspace.c.platform == bindparam("platform"),
        workspace.c.external_id == bindparam("external_id"),
    )
    insert = insert_into(member).from_select(["workspace_id", *written], source)
    # The workspace's other columns as scalar subqueries of RETURNING (SQLite's RETURNING
    # names only the table written; both databases accept subqueries there).
    # Spelled out: SQLAlchemy neither correlates a subquery of RETURNING to the table
    # written nor qualifies SQLite's RETURNING columns.
    read_back = [
        literal_column(
            f"(SELECT workspace.{name} FROM workspace WHERE workspace.id = member.workspace_id)",
            type_=workspace.c[name].type,
        ).label(_WORKSPACE_PREFIX + name)
        for name in _WORKSPACE_READ
    ]
    return insert.on_conflict_do_update(
        index_elements=["workspace_id", "user_id"], set_=_seen_updates(insert, member)
    ).returning(*member.c, *read_back)


_UPSERT_SEEN_IN = Prepared(_build_upsert_seen_in)


@dataclass(frozen=True)
class DirectoryProfile:
    """What a platform's directory says about someone, by workspace and user id."""

    workspace: str  # the workspace's external id
    user_id: str
    name: str | None
    platform_locale: str | None
    email: str | None
    timezone: str | None


async def update_profiles(
    db: AsyncSession, platform: str, profiles: list[DirectoryProfile]
) -> None:
    """What the platform's directory says about people already known, in one statement for
    all: their name, language, email (each when given); their time zone only when they never
    chose one (`settings timezone` wins). A row the directory leaves as it is is not
    rewritten; someone the bot does not know (or a workspace it does not) is skipped."""
    if not profiles:
        return
    params = [
        {
            "p_platform": platform,
            "p_workspace": profile.workspace,
            "p_user_id": profile.user_id,
            "p_name": _given(profile.name, 200),
            "p_locale": _given(profile.platform_locale, 16),
            "p_email": _given(profile.email, 320),
            "p_timezone": _given(profile.timezone, 64),
        }
        for profile in profiles
    ]
    await db.execute(_UPDATE_PROFILES.for_session(db), params)


def _given(value: str | None, limit: int) -> str | None:
    # Empty means "not given", as None does: the directory never erases what is known.
    return value[:limit] if value else None


def _build_update_profiles(_insert_into: InsertInto) -> Any:
    member = table_of(Member)
    workspace = table_of(Workspace)

    def given(name: str) -> Any:
        return bindparam(name, type_=String())

    new = {
        "display_name": func.coalesce(given("p_name"), member.c.display_name),
        "platform_locale": func.coalesce(given("p_locale"), member.c.platform_locale),
        "email": func.coalesce(given("p_email"), member.c.email),
        "timezone": func.coalesce(member.c.timezone, given("p_timezone")),
    }
    workspace_id = (
        select(workspace.c.id)
        .where(
            workspace.c.platform == bindparam("p_platform"),
            workspace.c.external_id == bindparam("p_workspace"),
        )
        .scalar_subquery()
    )
    return (
        update(member)
        .where(
            member.c.workspace_id == workspace_id,
            member.c.user_id == bindparam("p_user_id"),
            or_(*(member.c[name].is_distinct_from(value) for name, value in new.items())),
        )
        .values(new)
    )


_UPDATE_PROFILES = Prepared(_build_update_profiles)


async def find(db: AsyncSession, workspace_id: int, user_id: str) -> Member | None:
    """The member with platform id `user_id`, if the bot knows them."""
    query = select(Member).where(Member.workspace_id == workspace_id, Member.user_id == user_id)
    return (await db.execute(query)).scalar_one_or_none()


async def get_or_create(db: AsyncSession, workspace_id: int, user_id: str, now: datetime) -> Member:
    """The member `user_id`, created with their id as name when only mentioned so far."""
    member = await find(db, workspace_id, user_id)
    if member is not None:
        return member
    insert = insert_for(db, Member).values(
        workspace_id=workspace_id,
        user_id=user_id,
        display_name=user_id,
        role=MemberRole.LEARNER,
        created_at=now,
    )
    await db.execute(insert.on_conflict_do_nothing(index_elements=["workspace_id", "user_id"]))
    found = await find(db, workspace_id, user_id)
    assert found is not None
    return found


async def mark_joined(
    db: AsyncSession, member_id: int, session_id: int | None, now: datetime
) -> bool:
    """Make the member part of the community; False when they already were (race-safe).
    Their counted activity follows them to the session they joined through
    (storage/activity.py)."""
    before = await activity.state(db, member_id)
    result = await _MARK_JOINED.execute(
        db, {"member_id": member_id, "now": now, "session_id": session_id}
    )
    done = bool(getattr(result, "rowcount", 0))
    if done:
        await activity.joined(db, member_id, before, session_id, now)
    return done


def _build_mark_joined(_insert_into: InsertInto) -> Any:
    member = table_of(Member)
    return (
        update(member)
        .where(member.c.id == bindparam("member_id"), member.c.joined_at.is_(None))
        # Joining again after `leave` makes them reachable again.
        .values(joined_at=bindparam("now"), joined_session_id=bindparam("session_id"), left_at=None)
    )


_MARK_JOINED = Prepared(_build_mark_joined)


@dataclass(frozen=True)
class Joined:
    """A join recorded by `mark_asker_joined`."""

    # Whether they ever answered "would you like a mentor?" (a mentee wish exists): the
    # welcome asks only those who never did.
    answered_mentoring: bool


async def mark_asker_joined(
    db: AsyncSession, member: Member, session_id: int | None, now: datetime
) -> Joined | None:
    """`mark_joined` for the event's asker, in one statement instead of three; None when
    they already were a member (race-safe: WHERE joined_at IS NULL).

    Why it may trust `member`: it is the row the dispatcher's upsert returned and locked in
    this transaction, so its columns are what the rollup's "before" reads (their session,
    join, departure, creation and first contribution dates). What the row does not hold —
    whether they ever liked something, whether they ever answered the mentoring question —
    comes back from the UPDATE itself. The workspace is the member's."""
    result = await _MARK_ASKER_JOINED.execute(
        db, {"member_id": member.id, "now": now, "session_id": session_id}
    )
    row = result.one_or_none()
    if row is None:
        return None
    before = activity.state_of(member, bool(row.gave_like))
    await activity.joined(db, member.id, before, session_id, now, workspace_id=member.workspace_id)
    return Joined(answered_mentoring=bool(row.answered_mentoring))


def _build_mark_asker_joined(insert_into: InsertInto) -> Any:
    # Spelled out: SQLAlchemy does not correlate a subquery of RETURNING to the table written.
    gave_like = (
        "EXISTS (SELECT 1 FROM contribution_like WHERE contribution_like.member_id = member.id"
        " AND contribution_like.kind = 'like')"
    )
    answered = "EXISTS (SELECT 1 FROM mentee_wish WHERE mentee_wish.member_id = member.id)"
    return _build_mark_joined(insert_into).returning(
        literal_column(gave_like, Boolean).label("gave_like"),
        literal_column(answered, Boolean).label("answered_mentoring"),
    )


_MARK_ASKER_JOINED = Prepared(_build_mark_asker_joined)


async def record_event(
    db: AsyncSession,
    member_id: int,
    kind: str,
    now: datetime,
    *,
    session_id: int | None = None,
    actor_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append to the member's history (joins, role and level changes)."""
    await _RECORD_EVENT.execute(
        db,
        {
            "member_id": member_id,
            "kind": kind,
            "session_id": session_id,
            "actor_id": actor_id,
            "detail": detail,
            "created_at": now,
        },
    )


async def list_members(db: AsyncSession, workspace_id: int) -> list[Member]:
    """Everyone the bot knows in the workspace, by name (not the "former member" who stands
    for people erased, storage/erasure.py)."""
    query = (
        select(Member)
        .where(Member.workspace_id == workspace_id, Member.user_id != FORMER_MEMBER_ID)
        .order_by(Member.display_name)
    )
    return list((await db.execute(query)).scalars())


async def people_to_offer(
    db: AsyncSession, workspace_id: int, asker_id: int, limit: int
) -> list[tuple[str, str]]:
    """(name, user id) of the people the bot knows in the workspace, by name, for a form to
    offer (the colleagues of a pulse answer): not the asker, nor people who left, nor the
    "former member"."""
    query = (
        select(Member.display_name, Member.user_id)
        .where(
            Member.workspace_id == workspace_id,
            Member.id != asker_id,
            Member.left_at.is_(None),
            Member.user_id != FORMER_MEMBER_ID,
        )
        .order_by(Member.display_name, Member.id)
        .limit(limit)
    )
    return [(name, user_id) for name, user_id in (await db.execute(query)).all()]


_RECORD_EVENT = Prepared(lambda _insert_into: insert(table_of(MembershipEvent)))


async def display_names(db: AsyncSession, workspace_id: int, user_ids: set[str]) -> dict[str, str]:
    """The display names of the members among `user_ids` (to write people's names where a
    platform cannot show a `<@id>` reference)."""
    query = select(Member.user_id, Member.display_name).where(
        Member.workspace_id == workspace_id, Member.user_id.in_(sorted(user_ids))
    )
    return {user_id: name for user_id, name in (await db.execute(query)).all()}


async def has_left(db: AsyncSession, workspace_id: int, user_id: str) -> bool:
    """Whether this person said `leave` (and has not joined again since)."""
    query = select(Member.left_at).where(
        Member.workspace_id == workspace_id, Member.user_id == user_id
    )
    return (await db.execute(query)).scalar_one_or_none() is not None


async def event_count(db: AsyncSession, member_id: int, kind: str) -> int:
    """How many events of `kind` the member's history holds (e.g. their joins, each one a
    key of its own for what it sends)."""
    query = select(func.count()).where(
        MembershipEvent.member_id == member_id, MembershipEvent.kind == kind
    )
    return int((await db.execute(query)).scalar_one())
