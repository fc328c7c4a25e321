"""Badge awards, and the ladder's counts for many members at once, in bulk SQL.

`member_counts` is one query: per member, what the ladder counts (answers, shares and each
kind of share capped per UTC day, hidden ones left out; pulse answers; converted referrals;
sessions).
`award_due` turns it into one INSERT … SELECT per evaluation: every level whose criteria a
member meets and that they never held (nor had revoked) becomes an award, race-safe
against a concurrent evaluation by the partial unique index.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    and_,
    case,
    cast,
    extract,
    func,
    literal,
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select

from storage import outbox_keys
from storage.models import (
    BadgeAward,
    Contribution,
    Member,
    MentoringPair,
    OutboxMessage,
    PulseAnswer,
    Referral,
    SessionParticipation,
    Workspace,
)
from storage.upsert import insert_for, table_of
from storage.vocabulary import (
    BadgeSource,
    CheckInAnswer,
    ContributionKind,
    OutboxKind,
)

# The ladder's criteria for each kind of free contribution (all of them are `shares` too),
# and for replies to questions (not `shares`; capped by the cap of `shares` unless their own).
SHARE_KINDS = {
    ContributionKind.QUESTION: "questions",
    ContributionKind.EXPERIENCE: "experiences",
    ContributionKind.WATCH: "watches",
    ContributionKind.REPLY: "replies",
}

COUNTED = (
    "challenge_answers",
    "shares",
    "questions",
    "experiences",
    "watches",
    "replies",
    "contributions",
    "pulse_answers",
    "converted_referrals",
    "novices_mentored",
    "sessions",
    "points",
)


@dataclass(frozen=True)
class LevelRule:
    """What one level takes, in the terms of the counts (built from the ladder)."""

    level: str
    rank: int
    requires: Mapping[str, int]
    one_of: tuple[Mapping[str, int], ...]


def _utc_day(db: AsyncSession, column: Any) -> Any:
    """The UTC calendar day of a timestamp (SQLite stores naive UTC text)."""
    bind = db.bind
    assert bind is not None
    if bind.dialect.name == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.date(column)


def whole_days(db: AsyncSession, later: Any, earlier: Any) -> Any:
    """Whole days from the instant `earlier` to `later`, computed by the database
    (`BadgeAward.joined_days`; SQLite keeps UTC instants as text that julianday() reads)."""
    bind = db.bind
    assert bind is not None
    if bind.dialect.name == "postgresql":
        return cast(func.floor(extract("epoch", later - earlier) / 86400), Integer)
    return cast(func.julianday(later) - func.julianday(earlier), Integer)


def _instant(db: AsyncSession, now: datetime) -> Any:
    """`now` as a bound instant the database can subtract another from (PostgreSQL must be
    told its type; SQLite must not: CAST(… AS DATETIME) makes a number of it)."""
    value = literal(now, type_=BadgeAward.awarded_at.type)
    bind = db.bind
    assert bind is not None
    return cast(value, BadgeAward.awarded_at.type) if bind.dialect.name == "postgresql" else value


async def fill_joined_days(db: AsyncSession, workspace_id: int | None = None) -> None:
    """Fill `joined_days` of awards written without it (bulk loads: the demo, the bench),
    from the members' joining as it stands."""
    joined = (
        select(whole_days(db, BadgeAward.awarded_at, Member.joined_at))
        .where(Member.id == BadgeAward.member_id, Member.joined_at.is_not(None))
        .scalar_subquery()
    )
    statement = update(BadgeAward).where(BadgeAward.joined_days.is_(None))
    if workspace_id is not None:
        statement = statement.where(BadgeAward.workspace_id == workspace_id)
    await db.execute(
        statement.values(joined_days=joined).execution_options(synchronize_session=False)
    )


def _capped(count: Any, cap: int | None) -> Any:
    return count if cap is None else case((count > cap, cap), else_=count)


def member_counts(
    db: AsyncSession,
    caps: Mapping[str, int],
    points: Mapping[str, int],
    *,
    workspace_id: int | None = None,
    member_ids: Iterable[int] | None = None,
) -> Select[Any]:
    """Per community member: joined_at and every count the ladder uses (one query).

    With `member_ids`, every aggregate is restricted to them (an event's evaluation reads
    one member's rows, not the whole history).
    """
    ids = list(member_ids) if member_ids is not None else None

    def only(column: Any) -> ColumnElement[bool]:
        return column.in_(ids) if ids is not None else true_condition()

    day = _utc_day(db, Contribution.created_at)
    is_answer = Contribution.kind == ContributionKind.ANSWER
    is_reply = Contribution.kind == ContributionKind.REPLY
    # Per member and UTC day: answers, free contributions (any kind), and each kind of them.
    daily = (
        select(
            Contribution.member_id.label("member_id"),
            func.sum(case((is_answer, 1), else_=0)).label("answers"),
            func.sum(case((is_answer | is_reply, 0), else_=1)).label("shares"),
            *(
                func.sum(case((Contribution.kind == kind, 1), else_=0)).label(name)
                for kind, name in SHARE_KINDS.items()
            ),
        )
        .where(Contribution.hidden_at.is_(None), only(Contribution.member_id))
        .group_by(Contribution.member_id, day)
        .subquery("daily")
    )
    contributed = (
        select(
            daily.c.member_id,
            func.sum(_capped(daily.c.answers, caps.get("challenge_answers"))).label("answers"),
            func.sum(_capped(daily.c.shares, caps.get("shares"))).label("shares"),
            *(
                # A kind without a cap of its own has the cap of `shares`.
                func.sum(_capped(daily.c[name], caps.get(name, caps.get("shares")))).label(name)
                for name in SHARE_KINDS.values()
            ),
        )
        .group_by(daily.c.member_id)
        .subquery("contributed")
    )
    pulsed = (
        select(PulseAnswer.member_id, func.count().label("n"))
        .where(only(PulseAnswer.member_id))
        .group_by(PulseAnswer.member_id)
        .subquery("pulsed")
    )
    referred = (
        select(Referral.referrer_id.label("member_id"), func.count().label("n"))
        .where(Referral.converted_at.is_not(None), only(Referral.referrer_id))
        .group_by(Referral.referrer_id)
        .subquery("referred")
    )
    attended = (
        select(SessionParticipation.member_id, func.count().label("n"))
        .where(only(SessionParticipation.member_id))
        .group_by(SessionParticipation.member_id)
        .subquery("attended")
    )
    answers = func.coalesce(contributed.c.answers, 0)
    shares = func.coalesce(contributed.c.shares, 0)
    kinds = {name: func.coalesce(contributed.c[name], 0) for name in SHARE_KINDS.values()}
    pulse_answers = func.coalesce(pulsed.c.n, 0)
    referrals = func.coalesce(referred.c.n, 0)
    met = or_(
        MentoringPair.mentor_answer == CheckInAnswer.MET,
        MentoringPair.novice_answer == CheckInAnswer.MET,
    )
    mentoring_done = (
        select(MentoringPair.mentor_id.label("member_id"), func.count().label("n"))
        .where(met, only(MentoringPair.mentor_id))
        .group_by(MentoringPair.mentor_id)
        .subquery("mentored")
    )
    mentored = func.coalesce(mentoring_done.c.n, 0)
    weighted = (
        answers * points.get("challenge_answers", 0)
        + shares * points.get("shares", 0)
        + pulse_answers * points.get("pulse_answers", 0)
        + referrals * points.get("converted_referrals", 0)
        + mentored * points.get("novices_mentored", 0)
    )
    columns: list[Any] = [
        Member.id.label("member_id"),
        Member.workspace_id.label("workspace_id"),
        Member.joined_at.label("joined_at"),
        answers.label("challenge_answers"),
        shares.label("shares"),
        *(count.label(name) for name, count in kinds.items()),
        (answers + shares).label("contributions"),
        pulse_answers.label("pulse_answers"),
        referrals.label("converted_referrals"),
        mentored.label("novices_mentored"),
        func.coalesce(attended.c.n, 0).label("sessions"),
        weighted.label("points"),
    ]
    query = (
        select(*columns)
        .outerjoin(contributed, contributed.c.member_id == Member.id)
        .outerjoin(pulsed, pulsed.c.member_id == Member.id)
        .outerjoin(referred, referred.c.member_id == Member.id)
        .outerjoin(attended, attended.c.member_id == Member.id)
        .outerjoin(mentoring_done, mentoring_done.c.member_id == Member.id)
        .where(Member.joined_at.is_not(None))
    )
    if workspace_id is not None:
        query = query.where(Member.workspace_id == workspace_id)
    if ids is not None:
        query = query.where(Member.id.in_(ids))
    return query


async def counts_of(
    db: AsyncSession, member_id: int, caps: Mapping[str, int], points: Mapping[str, int]
) -> dict[str, Any] | None:
    """One member's counts (for `me`), or None when they are not a community member."""
    query = member_counts(db, caps, points, member_ids=[member_id])
    row = (await db.execute(query)).mappings().first()
    return dict(row) if row is not None else None


def _meets(stats: Any, rule: LevelRule, now: datetime) -> ColumnElement[bool]:
    conditions: list[ColumnElement[bool]] = []
    for kind, needed in rule.requires.items():
        if kind == "days_member":
            conditions.append(stats.c.joined_at <= now - timedelta(days=needed))
        elif needed:
            conditions.append(stats.c[kind] >= needed)
    for group in rule.one_of:
        options = [
            stats.c.joined_at <= now - timedelta(days=needed)
            if kind == "days_member"
            else stats.c[kind] >= needed
            for kind, needed in group.items()
        ]
        conditions.append(or_(*options))
    return and_(true_condition(), *conditions)


def true_condition() -> ColumnElement[bool]:
    """A WHERE that is always true (SQLite needs one before ON CONFLICT in INSERT … SELECT)."""
    return literal(1) == 1


@dataclass(frozen=True)
class NewAward:
    """An award just made."""

    id: int
    member_id: int
    workspace_id: int
    level: str
    rank: int


async def award_due(
    db: AsyncSession,
    rules: list[LevelRule],
    caps: Mapping[str, int],
    points: Mapping[str, int],
    now: datetime,
    *,
    workspace_id: int | None = None,
    member_ids: Iterable[int] | None = None,
) -> list[NewAward]:
    """Award every level whose criteria are met and that the member never held; one
    statement for all members and levels. Replays and concurrent runs award nothing twice."""
    ids = list(member_ids) if member_ids is not None else None
    counts = member_counts(db, caps, points, workspace_id=workspace_id, member_ids=ids).subquery(
        "counts"
    )
    award = table_of(BadgeAward)
    # Which levels each member ever held (or had revoked), aggregated once, before any
    # insert: an anti-join on badge_award itself lets PostgreSQL choose a nested loop over
    # a table this very statement grows (quadratic on a bulk import).
    held_query = select(
        award.c.member_id,
        *(
            func.max(case((award.c.level == rule.level, 1), else_=0)).label(f"held_{rule.rank}")
            for rule in rules
        ),
    ).group_by(award.c.member_id)
    if ids is not None:
        held_query = held_query.where(award.c.member_id.in_(ids))
    held = held_query.subquery("held")
    stats = (
        select(
            counts,
            *(
                func.coalesce(held.c[f"held_{rule.rank}"], 0).label(f"held_{rule.rank}")
                for rule in rules
            ),
        )
        .outerjoin(held, held.c.member_id == counts.c.member_id)
        .cte("stats")
    )
    selects = []
    joined_days = whole_days(db, _instant(db, now), stats.c.joined_at)
    for rule in rules:
        selects.append(
            select(
                _uid(db),
                stats.c.workspace_id,
                stats.c.member_id,
                literal(rule.level),
                literal(rule.rank),
                literal(now, type_=award.c.awarded_at.type),
                literal(BadgeSource.AUTO.value),
                joined_days,
            ).where(_meets(stats, rule, now), stats.c[f"held_{rule.rank}"] == 0)
        )
    if not selects:
        return []
    columns = [
        "uid",
        "workspace_id",
        "member_id",
        "level",
        "rank",
        "awarded_at",
        "source",
        "joined_days",
    ]
    source = selects[0] if len(selects) == 1 else union_all(*selects)
    statement = (
        insert_for(db, BadgeAward)
        .from_select(columns, source)
        .on_conflict_do_nothing(
            index_elements=["member_id", "level"], index_where=text("revoked_at IS NULL")
        )
        .returning(award.c.id, award.c.member_id, award.c.workspace_id, award.c.level, award.c.rank)
    )
    made = [NewAward(*row) for row in (await db.execute(statement)).all()]
    if made:
        await refresh_levels(db, {a.member_id for a in made})
    return made


def _uid(db: AsyncSession) -> Any:
    bind = db.bind
    assert bind is not None
    if bind.dialect.name == "postgresql":
        return func.cast(func.gen_random_uuid(), BadgeAward.uid.type)
    return func.lower(func.hex(func.randomblob(16)))


async def refresh_levels(db: AsyncSession, member_ids: set[int]) -> None:
    """Set each member's level to the highest level they hold (in one UPDATE)."""
    award = table_of(BadgeAward)
    member = table_of(Member)
    highest = (
        select(award.c.level)
        .where(award.c.member_id == member.c.id, award.c.revoked_at.is_(None))
        .order_by(award.c.rank.desc())
        .limit(1)
        .scalar_subquery()
    )
    ids = list(member_ids)
    for start in range(0, len(ids), 10_000):  # bounded IN lists
        await db.execute(
            update(member).where(member.c.id.in_(ids[start : start + 10_000])).values(level=highest)
        )


async def active_awards(db: AsyncSession, member_id: int) -> list[BadgeAward]:
    """The member's awards not revoked, lowest level first."""
    query = (
        select(BadgeAward)
        .where(BadgeAward.member_id == member_id, BadgeAward.revoked_at.is_(None))
        .order_by(BadgeAward.rank)
    )
    return list((await db.execute(query)).scalars())


async def by_id(db: AsyncSession, award_id: int) -> BadgeAward | None:
    """The award `award_id`."""
    return await db.get(BadgeAward, award_id)


async def grant(
    db: AsyncSession,
    *,
    workspace_id: int,
    member_id: int,
    level: str,
    rank: int,
    granted_by_id: int,
    reason: str | None,
    now: datetime,
) -> int | None:
    """Award `level` by hand; None when the member already holds it."""
    joined_days = (
        select(whole_days(db, _instant(db, now), Member.joined_at))
        .where(Member.id == member_id)
        .scalar_subquery()
    )
    statement = (
        insert_for(db, BadgeAward)
        .values(
            uid=_uid(db),
            workspace_id=workspace_id,
            member_id=member_id,
            level=level,
            rank=rank,
            awarded_at=now,
            source=BadgeSource.GRANT,
            granted_by_id=granted_by_id,
            reason=reason,
            joined_days=joined_days,
        )
        .on_conflict_do_nothing(
            index_elements=["member_id", "level"], index_where=text("revoked_at IS NULL")
        )
        .returning(table_of(BadgeAward).c.id)
    )
    value = (await db.execute(statement)).scalar_one_or_none()
    return int(value) if value is not None else None


async def revoke(
    db: AsyncSession, member_id: int, levels: list[str], by_id: int, reason: str, now: datetime
) -> int:
    """Revoke the member's active awards of `levels`; how many were revoked."""
    result = await db.execute(
        update(BadgeAward)
        .where(
            BadgeAward.member_id == member_id,
            BadgeAward.level.in_(levels),
            BadgeAward.revoked_at.is_(None),
        )
        .values(revoked_at=now, revoked_by_id=by_id, revoke_reason=reason)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _json_object(db: AsyncSession, *pairs: Any) -> Any:
    """A JSON object built by the database (json_build_object / json_object)."""
    bind = db.bind
    assert bind is not None
    builder = func.json_build_object if bind.dialect.name == "postgresql" else func.json_object
    return builder(*pairs)


def _pairs(mapping: dict[str, Any]) -> list[Any]:
    """`{"a": 1, "b": 2}` → `["a", 1, "b", 2]`: the arguments of a JSON object builder."""
    return [item for pair in mapping.items() for item in pair]


async def enqueue_dms(db: AsyncSession, award_ids: list[int], fallback: str, now: datetime) -> None:
    """Queue the promotion DM of each award in one INSERT … SELECT per 10,000 awards
    (rendered at send time by the badge refresher); an award's DM is queued once (its key)."""
    award = table_of(BadgeAward)
    member = table_of(Member)
    workspace = table_of(Workspace)
    outbox = table_of(OutboxMessage)
    columns = [
        "idempotency_key",
        "platform",
        "workspace_id",
        "target",
        "kind",
        "payload",
        "refresh",
        "status",
        "attempts",
        "next_attempt_at",
        "created_at",
    ]
    for start in range(0, len(award_ids), 10_000):
        chunk = award_ids[start : start + 10_000]
        rows = (
            select(
                outbox_keys.award_dm(award.c.id),
                workspace.c.platform,
                award.c.workspace_id,
                literal("dm:") + member.c.user_id,
                literal(OutboxKind.POST.value),
                _json_object(db, "text", fallback),
                _json_object(db, *_pairs(outbox_keys.award_refresh(award.c.id, "member"))),
                literal("pending"),
                literal(0),
                literal(now, type_=outbox.c.next_attempt_at.type),
                literal(now, type_=outbox.c.created_at.type),
            )
            .join(member, member.c.id == award.c.member_id)
            .join(workspace, workspace.c.id == award.c.workspace_id)
            .where(award.c.id.in_(chunk))
        )
        await db.execute(
            insert_for(db, OutboxMessage)
            .from_select(columns, rows)
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
        )
