"""The dashboard's rollup of learner-generated content: `activity_week`,
`activity_occurrence` and `member.first_contributed_at`.

Why: the page must not scan a million contributions (a GROUP BY over them takes ~650 ms on
SQLite). Every writer adds its delta here in its own transaction, so the rollup is exact at
every commit (the deltas are written as the transaction's last statement, for the reason
storage/activity_pending.py gives), and `rebuild` recomputes the same rows from the base
tables (the migration's backfill, the demo and the bench after bulk loads; `rebuild` after
any series of writes gives the rows the writers left, all-zero rows aside).

The rules, the same in the writers and in `rebuild`:

- weeks are UTC weeks, named by their Monday (the viewer's time zone only cuts the period's
  days: a week is one row whatever the zone);
- an answer counts in the week it was first given (`created_at`): editing it moves it from
  success to not-yet or back, never to another week;
- a contribution counts for its author's session (`member.joined_session_id`, 0 without
  one); likes given count for the liker's session, likes received for the author's, each in
  the week of the like; dislikes ("not useful to me") count only as received, for the
  author's session (`dislikes_received`: never in likes, so never toward anything a like
  counts for), in the week of the dislike; a reaction switched between like and dislike
  moves from one counter to the other, in the week of the switch (its `created_at`);
- hidden contributions do not count, nor the reactions they had (hiding takes them out);
- a member who joins the community again through another session takes their whole history
  to it (`joined`): the rollup always files a member's activity under their current session;
- answers are also counted per challenge occurrence and session (`activity_occurrence`),
  for the dashboard's participation per occurrence;
- the community's size: a member counts from the week they joined (one who left, whose
  join date `leave` cleared, from when the bot first knew them) until the week they left
  (`arrivals`, `departures` of their session), so the page sums a week's community
  from the rollup instead of reading every member;
- erasing a member (`forget me`) deletes their contributions and likes (their rows cascade
  from the member row): the rollup takes out the same counts (`forget_member`), so the
  figures stay those of the remaining data, as the per-occurrence counts and a rebuild
  give them. Counts carry no personal data, but keeping the erased person's would make the
  page disagree with itself.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Date,
    Executable,
    and_,
    case,
    delete,
    exists,
    func,
    literal,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.functions import FunctionElement

from storage import activity_pending
from storage.models import (
    Contribution,
    ContributionLike,
    Member,
    OccurrenceActivity,
    WeeklyActivity,
)
from storage.upsert import table_of
from storage.vocabulary import ContributionKind, ContributionOutcome, ReactionKind

# `shares` counts every free contribution (any kind but answers and replies); `questions`,
# `experiences` and `watches` those of each of these kinds (so tips = shares less them);
# `replies` the replies to questions (migration 0026), apart from `shares`.
COUNTERS = (
    "answers",
    "successes",
    "not_yets",
    "shares",
    "likes_given",
    "likes_received",
    "questions",
    "experiences",
    "watches",
    "dislikes_received",
    "replies",
)
# The community's size per week: members who start counting that week, and who leave.
MEMBER_COUNTERS = ("arrivals", "departures")
ALL_COUNTERS = COUNTERS + MEMBER_COUNTERS
ANSWER_COUNTERS = ("answers", "successes", "not_yets")
OUTCOME_COUNTER = {
    ContributionOutcome.SUCCESS: "successes",
    ContributionOutcome.NOT_YET: "not_yets",
}
# The counter of each free kind, besides `shares` (a plain tip has none of its own).
KIND_COUNTER = {
    ContributionKind.QUESTION: "questions",
    ContributionKind.EXPERIENCE: "experiences",
    ContributionKind.WATCH: "watches",
}
# What migration 0019 counted (its backfill runs `rebuild_statements` with these).
COUNTERS_0019 = (
    "answers",
    "successes",
    "not_yets",
    "shares",
    "likes_given",
    "likes_received",
    "arrivals",
    "departures",
)

Key = tuple[date, int]  # (week, session id or 0)


def monday(at: datetime) -> date:
    """The UTC week of an instant, named by its Monday."""
    day = at.astimezone(UTC).date()
    return day - timedelta(days=day.weekday())


class week_of(FunctionElement[date]):
    """SQL: the Monday (a date) of the UTC week of a stored instant, on either database."""

    type = Date()
    inherit_cache = True
    name = "week_of"


@compiles(week_of, "sqlite")
def _week_of_sqlite(element: week_of, compiler: Any, **kw: Any) -> str:
    # Instants are stored in UTC as text; back 6 days, then forward to a Monday (or stay).
    return f"date({compiler.process(element.clauses, **kw)}, '-6 days', 'weekday 1')"


@compiles(week_of, "postgresql")
def _week_of_postgresql(element: week_of, compiler: Any, **kw: Any) -> str:
    inner = compiler.process(element.clauses, **kw)
    return f"CAST(date_trunc('week', ({inner}) AT TIME ZONE 'UTC') AS DATE)"


# --- applying deltas --------------------------------------------------------------------------


class Deltas:
    """Counts to add (or take out, negative) per (week, session), written in one go."""

    def __init__(self) -> None:
        self.rows: dict[Key, dict[str, int]] = defaultdict(lambda: dict.fromkeys(ALL_COUNTERS, 0))
        self.answers: dict[tuple[int, int], dict[str, int]] = defaultdict(
            lambda: dict.fromkeys(ANSWER_COUNTERS, 0)
        )

    def add(self, week: date, session_id: int, counter: str, n: int = 1) -> None:
        """Add `n` to `counter` of (week, session)."""
        self.rows[(week, session_id)][counter] += n

    def shared(self, week: date, session_id: int, kind: ContributionKind, n: int) -> None:
        """Add `n` free contributions of `kind` (or replies) to (week, session)."""
        if kind == ContributionKind.REPLY:
            self.add(week, session_id, "replies", n)
            return
        self.add(week, session_id, "shares", n)
        counter = KIND_COUNTER.get(kind)
        if counter is not None:
            self.add(week, session_id, counter, n)

    def answer(
        self,
        week: date,
        occurrence_id: int | None,
        session_id: int,
        outcome: ContributionOutcome | None,
        n: int,
    ) -> None:
        """Add `n` answers of `outcome` to the week and to the occurrence, for the session."""
        self.add(week, session_id, "answers", n)
        counter = OUTCOME_COUNTER.get(outcome) if outcome is not None else None
        if counter is not None:
            self.add(week, session_id, counter, n)
        if occurrence_id is not None:
            counts = self.answers[(occurrence_id, session_id)]
            counts["answers"] += n
            if counter is not None:
                counts[counter] += n

    async def write(self, db: AsyncSession, workspace_id: int) -> None:
        """Count the deltas (`counter = counter + delta`): held until the transaction's
        last statement, storage/activity_pending.py says why."""
        await activity_pending.add(db, workspace_id, self.rows, self.answers)


def _cohort(member: Any) -> Any:
    return func.coalesce(member.c.joined_session_id, 0)


async def _session_of(db: AsyncSession, member_id: int) -> int:
    query = select(func.coalesce(Member.joined_session_id, 0)).where(Member.id == member_id)
    return int((await db.execute(query)).scalar_one_or_none() or 0)


async def _first_contributed(db: AsyncSession, member_id: int, at: datetime) -> None:
    member = table_of(Member)
    await db.execute(
        update(member)
        .where(member.c.id == member_id, member.c.first_contributed_at.is_(None))
        .values(first_contributed_at=at)
    )


async def _recount_first(db: AsyncSession, member_ids: Iterable[int]) -> None:
    """first_contributed_at from the member's contributions not hidden (after a hide)."""
    member = table_of(Member)
    contribution = table_of(Contribution)
    earliest = (
        select(func.min(contribution.c.created_at))
        .where(contribution.c.member_id == member.c.id, contribution.c.hidden_at.is_(None))
        .scalar_subquery()
    )
    ids = sorted(set(member_ids))
    if ids:
        await db.execute(
            update(member).where(member.c.id.in_(ids)).values(first_contributed_at=earliest)
        )


# --- the writers' hooks -----------------------------------------------------------------------


async def answer_saved(
    db: AsyncSession,
    *,
    workspace_id: int,
    member_id: int,
    occurrence_id: int,
    created_at: datetime,
    outcome: ContributionOutcome,
    before: tuple[ContributionOutcome | None, bool] | None,
) -> None:
    """An answer was given (`before` None) or edited (`before` = its former outcome and
    whether it was hidden): count it, or move it between success and not-yet."""
    deltas = Deltas()
    week = monday(created_at)
    if before is None:
        session_id = await _session_of(db, member_id)
        deltas.answer(week, occurrence_id, session_id, outcome, 1)
        await _first_contributed(db, member_id, created_at)
    else:
        old, hidden = before
        if hidden or old == outcome:
            return
        session_id = await _session_of(db, member_id)
        deltas.answer(week, occurrence_id, session_id, old, -1)
        deltas.answer(week, occurrence_id, session_id, outcome, 1)
    await deltas.write(db, workspace_id)


async def share_saved(
    db: AsyncSession,
    *,
    workspace_id: int,
    member_id: int,
    created_at: datetime,
    kind: ContributionKind = ContributionKind.SHARE,
) -> None:
    """A free contribution (a tip, a question, an experience, a watch link) was made:
    count it."""
    deltas = Deltas()
    deltas.shared(monday(created_at), await _session_of(db, member_id), kind, 1)
    await deltas.write(db, workspace_id)
    await _first_contributed(db, member_id, created_at)


def _count_reaction(
    deltas: Deltas, kind: ReactionKind, week: date, reactor: int, author: int, n: int
) -> None:
    """A like counts as given (the reactor's session) and received (the author's); a
    dislike only as received."""
    if kind == ReactionKind.LIKE:
        deltas.add(week, reactor, "likes_given", n)
        deltas.add(week, author, "likes_received", n)
    else:
        deltas.add(week, author, "dislikes_received", n)


async def reacted(
    db: AsyncSession,
    contribution_id: int,
    member_id: int,
    changes: Iterable[tuple[ReactionKind, datetime, int]],
) -> None:
    """A member's reaction to a contribution was recorded, switched or removed: each
    change is (kind, when it was given, +1 or -1), counted in that week (nothing when the
    contribution is hidden)."""
    contribution = table_of(Contribution)
    author = aliased(table_of(Member))
    reactor = aliased(table_of(Member))
    query = (
        select(contribution.c.workspace_id, _cohort(author), _cohort(reactor))
        .join(author, author.c.id == contribution.c.member_id)
        .join(reactor, reactor.c.id == member_id)
        .where(contribution.c.id == contribution_id, contribution.c.hidden_at.is_(None))
    )
    row = (await db.execute(query)).one_or_none()
    if row is None:
        return
    workspace_id, author_session, reactor_session = row
    deltas = Deltas()
    for kind, at, n in changes:
        _count_reaction(deltas, kind, monday(at), int(reactor_session), int(author_session), n)
    await deltas.write(db, workspace_id)


async def hidden(db: AsyncSession, contribution_id: int) -> None:
    """A contribution was just hidden: take it and its reactions out."""
    member_id = await _take_out(db, contribution_id)
    if member_id is not None:
        await _recount_first(db, [member_id])


async def _take_out(db: AsyncSession, contribution_id: int) -> int | None:
    """Take the contribution and its reactions out of the rollup (it is being hidden or
    deleted); its author, None when there is no such contribution."""
    contribution = table_of(Contribution)
    author = table_of(Member)
    query = select(
        contribution.c.workspace_id,
        contribution.c.member_id,
        contribution.c.kind,
        contribution.c.outcome,
        contribution.c.occurrence_id,
        contribution.c.created_at,
        _cohort(author),
    ).where(contribution.c.id == contribution_id, author.c.id == contribution.c.member_id)
    row = (await db.execute(query)).one_or_none()
    if row is None:
        return None
    workspace_id, member_id, kind, outcome, occurrence_id, created_at, session_id = row
    deltas = Deltas()
    _take_contribution(deltas, kind, outcome, occurrence_id, created_at, int(session_id), -1)
    like = table_of(ContributionLike)
    liker = aliased(table_of(Member))
    likes = (
        select(like.c.kind, like.c.created_at, _cohort(liker))
        .join(liker, liker.c.id == like.c.member_id)
        .where(like.c.contribution_id == contribution_id)
    )
    for kind, at, liker_session in (await db.execute(likes)).all():
        _count_reaction(deltas, kind, monday(at), int(liker_session), int(session_id), -1)
    await deltas.write(db, workspace_id)
    return int(member_id)


async def _forget_replies_to(db: AsyncSession, member_id: int) -> None:
    """Others' replies to the member's questions, which their erasure deletes (ON DELETE
    CASCADE of `parent_id`): deleted here first, taken out of the rollup (the visible ones,
    with their reactions), their authors' first contribution recounted without them."""
    contribution = table_of(Contribution)
    question = aliased(table_of(Contribution), name="question")
    replies = (
        select(contribution.c.id, contribution.c.member_id, contribution.c.hidden_at)
        .join(question, question.c.id == contribution.c.parent_id)
        .where(question.c.member_id == member_id, contribution.c.member_id != member_id)
    )
    found = (await db.execute(replies)).all()
    if not found:
        return
    for reply_id, _, hidden_at in found:
        if hidden_at is None:
            await _take_out(db, int(reply_id))
    await db.execute(delete(contribution).where(contribution.c.id.in_([r[0] for r in found])))
    await _recount_first(db, [int(r[1]) for r in found])


def _take_contribution(
    deltas: Deltas,
    kind: ContributionKind,
    outcome: ContributionOutcome | None,
    occurrence_id: int | None,
    created_at: datetime,
    session_id: int,
    n: int,
) -> None:
    week = monday(created_at)
    if kind == ContributionKind.ANSWER:
        deltas.answer(week, occurrence_id, session_id, outcome, n)
    else:
        deltas.shared(week, session_id, kind, n)


async def _own_history(
    db: AsyncSession, member_id: int, session_id: int, n: int, deltas: Deltas
) -> None:
    """Add `n` times what the member's own session holds of them: their contributions, the
    likes and dislikes those received, the likes they gave (on contributions not hidden)."""
    contribution = table_of(Contribution)
    like = table_of(ContributionLike)
    own = select(
        contribution.c.kind,
        contribution.c.outcome,
        contribution.c.occurrence_id,
        contribution.c.created_at,
    ).where(contribution.c.member_id == member_id, contribution.c.hidden_at.is_(None))
    for kind, outcome, occurrence_id, created_at in (await db.execute(own)).all():
        _take_contribution(deltas, kind, outcome, occurrence_id, created_at, session_id, n)
    received = (
        select(like.c.kind, like.c.created_at)
        .join(contribution, contribution.c.id == like.c.contribution_id)
        .where(contribution.c.member_id == member_id, contribution.c.hidden_at.is_(None))
    )
    for kind, at in (await db.execute(received)).all():
        counter = "likes_received" if kind == ReactionKind.LIKE else "dislikes_received"
        deltas.add(monday(at), session_id, counter, n)
    given = (
        select(like.c.created_at)
        .join(contribution, contribution.c.id == like.c.contribution_id)
        .where(
            like.c.member_id == member_id,
            like.c.kind == ReactionKind.LIKE,
            contribution.c.hidden_at.is_(None),
        )
    )
    for (at,) in (await db.execute(given)).all():
        deltas.add(monday(at), session_id, "likes_given", n)


@dataclass(frozen=True)
class MemberState:
    """What the rollup holds of a member: their session (0 for none), when they count in
    the community from (None: not a member) and until (when they left), and whether any
    activity of theirs is counted."""

    session_id: int
    since: datetime | None
    left_at: datetime | None
    active: bool


def _since(joined_at: datetime | None, left_at: datetime | None, created_at: datetime) -> Any:
    """When a member counts from: their join; for one who left (`leave` clears the join),
    when the bot first knew them; None for who never joined."""
    if joined_at is not None:
        return joined_at
    return created_at if left_at is not None else None


async def state(db: AsyncSession, member_id: int) -> MemberState | None:
    """The member's state as the rollup counts it (read before a join or a leave)."""
    member = table_of(Member)
    like = table_of(ContributionLike)
    gave = exists().where(like.c.member_id == member.c.id, like.c.kind == ReactionKind.LIKE)
    query = select(
        _cohort(member),
        member.c.joined_at,
        member.c.left_at,
        member.c.created_at,
        member.c.first_contributed_at.is_not(None) | gave,
    ).where(member.c.id == member_id)
    row = (await db.execute(query)).one_or_none()
    if row is None:
        return None
    session_id, joined_at, left_at, created_at, active = row
    return MemberState(
        int(session_id), _since(joined_at, left_at, created_at), left_at, bool(active)
    )


def state_of(member: Member, gave_like: bool) -> MemberState:
    """`state` from the member's row as this transaction holds it (read and locked: nothing
    else can change it before commit) and whether they ever liked a contribution, for a
    caller that has both already."""
    return MemberState(
        member.joined_session_id or 0,
        _since(member.joined_at, member.left_at, member.created_at),
        member.left_at,
        member.first_contributed_at is not None or gave_like,
    )


def _count_member(deltas: Deltas, member: MemberState, n: int) -> None:
    if member.since is not None:
        deltas.add(monday(member.since), member.session_id, "arrivals", n)
    if member.left_at is not None:
        deltas.add(monday(member.left_at), member.session_id, "departures", n)


async def _member_changed(
    db: AsyncSession,
    member_id: int,
    before: MemberState,
    after: MemberState,
    workspace_id: int | None = None,
) -> None:
    if workspace_id is None:
        workspace_id = (
            await db.execute(select(Member.workspace_id).where(Member.id == member_id))
        ).scalar_one()
    deltas = Deltas()
    _count_member(deltas, before, -1)
    _count_member(deltas, after, 1)
    if before.active and before.session_id != after.session_id:
        await _own_history(db, member_id, before.session_id, -1, deltas)
        await _own_history(db, member_id, after.session_id, 1, deltas)
    await deltas.write(db, workspace_id)


async def joined(
    db: AsyncSession,
    member_id: int,
    before: MemberState | None,
    session_id: int | None,
    now: datetime,
    *,
    workspace_id: int | None = None,
) -> None:
    """The member (re)joined the community through `session_id` at `now` (`before`: their
    state just before): they count from now, and their history moves to that session.
    `workspace_id`: the member's, when the caller knows it (else read)."""
    if before is None:
        return
    after = MemberState(session_id or 0, now, None, before.active)
    await _member_changed(db, member_id, before, after, workspace_id)


async def left(db: AsyncSession, member_id: int, now: datetime) -> None:
    """Before `leave` clears the member's join: they count until `now`, from when the bot
    first knew them (their join date is gone). Someone who never joined and says `leave`
    cannot be told from a member who left: they count the same way."""
    before = await state(db, member_id)
    if before is None or before.left_at is not None:
        return
    created_at = (
        await db.execute(select(Member.created_at).where(Member.id == member_id))
    ).scalar_one()
    after = MemberState(before.session_id, created_at, now, before.active)
    await _member_changed(db, member_id, before, after)


async def forget_member(db: AsyncSession, member_id: int) -> None:
    """Before an erasure deletes the member (and, by cascade, their contributions and the
    likes given and received): take all of that out of the rollup."""
    member = table_of(Member)
    row = (
        await db.execute(
            select(member.c.workspace_id, _cohort(member)).where(member.c.id == member_id)
        )
    ).one_or_none()
    if row is None:
        return
    workspace_id, session_id = int(row[0]), int(row[1])
    # First, so that what follows does not count what those replies held (their reactions).
    await _forget_replies_to(db, member_id)
    deltas = Deltas()
    current = await state(db, member_id)
    if current is not None:
        _count_member(deltas, current, -1)
    await _own_history(db, member_id, session_id, -1, deltas)
    contribution = table_of(Contribution)
    like = table_of(ContributionLike)
    other = aliased(table_of(Member))
    # Others' likes on their contributions: the likers' "given" goes too.
    likers = (
        select(like.c.created_at, _cohort(other))
        .join(contribution, contribution.c.id == like.c.contribution_id)
        .join(other, other.c.id == like.c.member_id)
        .where(
            contribution.c.member_id == member_id,
            like.c.kind == ReactionKind.LIKE,
            contribution.c.hidden_at.is_(None),
        )
    )
    for at, liker_session in (await db.execute(likers)).all():
        deltas.add(monday(at), int(liker_session), "likes_given", -1)
    # Their reactions on others' contributions: the authors' "received" goes too.
    authors = (
        select(like.c.kind, like.c.created_at, _cohort(other))
        .join(contribution, contribution.c.id == like.c.contribution_id)
        .join(other, other.c.id == contribution.c.member_id)
        .where(like.c.member_id == member_id, contribution.c.hidden_at.is_(None))
    )
    for kind, at, author_session in (await db.execute(authors)).all():
        counter = "likes_received" if kind == ReactionKind.LIKE else "dislikes_received"
        deltas.add(monday(at), int(author_session), counter, -1)
    await deltas.write(db, workspace_id)


# --- rebuild ----------------------------------------------------------------------------------


def rebuild_statements(
    workspace_id: int, counters: tuple[str, ...] = ALL_COUNTERS
) -> list[Executable]:
    """The statements that recompute the workspace's rollup and first contributions from
    the base tables (plain Core: run by `rebuild`, and by migration 0019 on its sync
    connection, with the `counters` its table had: `COUNTERS_0019`). Without
    `dislikes_received` among `counters`, as the schema was before migration 0025: every
    reaction a like, no `contribution_like.kind` column."""
    reaction_kinds = "dislikes_received" in counters
    table = table_of(WeeklyActivity)
    contribution = table_of(Contribution)
    like = table_of(ContributionLike)
    author = aliased(table_of(Member), name="author")
    liker = aliased(table_of(Member), name="liker")
    zero = literal(0)
    one = literal(1)
    visible = and_(contribution.c.workspace_id == workspace_id, contribution.c.hidden_at.is_(None))
    is_answer = contribution.c.kind == ContributionKind.ANSWER
    counted: dict[str, Any] = {
        "answers": case((is_answer, 1), else_=0),
        "successes": case(
            (is_answer & (contribution.c.outcome == ContributionOutcome.SUCCESS), 1), else_=0
        ),
        "not_yets": case(
            (is_answer & (contribution.c.outcome == ContributionOutcome.NOT_YET), 1), else_=0
        ),
        "shares": case((is_answer | (contribution.c.kind == ContributionKind.REPLY), 0), else_=1),
        "replies": case((contribution.c.kind == ContributionKind.REPLY, 1), else_=0),
        **{
            name: case((contribution.c.kind == kind, 1), else_=0)
            for kind, name in KIND_COUNTER.items()
        },
    }
    contributions = (
        select(
            week_of(contribution.c.created_at).label("week"),
            _cohort(author).label("session_id"),
            *(counted.get(name, zero).label(name) for name in counters),
        )
        .join(author, author.c.id == contribution.c.member_id)
        .where(visible)
    )

    def only(counter: str) -> list[Any]:
        # One event row counts 1 in its own counter, 0 in the others (UNION ALL by position).
        return [one if name == counter else zero for name in counters]

    is_like = like.c.kind == ReactionKind.LIKE if reaction_kinds else true()
    given = (
        select(week_of(like.c.created_at), _cohort(liker), *only("likes_given"))
        .join(contribution, contribution.c.id == like.c.contribution_id)
        .join(liker, liker.c.id == like.c.member_id)
        .where(visible, is_like)
    )
    received = (
        select(week_of(like.c.created_at), _cohort(author), *only("likes_received"))
        .join(contribution, contribution.c.id == like.c.contribution_id)
        .join(author, author.c.id == contribution.c.member_id)
        .where(visible, is_like)
    )
    disliked = (
        select(week_of(like.c.created_at), _cohort(author), *only("dislikes_received"))
        .join(contribution, contribution.c.id == like.c.contribution_id)
        .join(author, author.c.id == contribution.c.member_id)
        .where(visible, like.c.kind == ReactionKind.DISLIKE)
    )
    people = table_of(Member)
    since = case((people.c.joined_at.is_not(None), people.c.joined_at), else_=people.c.created_at)
    arrivals = select(week_of(since), _cohort(people), *only("arrivals")).where(
        people.c.workspace_id == workspace_id,
        people.c.joined_at.is_not(None) | people.c.left_at.is_not(None),
    )
    departures = select(week_of(people.c.left_at), _cohort(people), *only("departures")).where(
        people.c.workspace_id == workspace_id, people.c.left_at.is_not(None)
    )
    reactions = [given, received, disliked] if reaction_kinds else [given, received]
    events = union_all(contributions, *reactions, arrivals, departures).subquery("events")
    totals = select(
        literal(workspace_id),
        events.c.week,
        events.c.session_id,
        *(func.sum(events.c[name]) for name in counters),
    ).group_by(events.c.week, events.c.session_id)
    member = table_of(Member)
    earliest = (
        select(func.min(contribution.c.created_at))
        .where(contribution.c.member_id == member.c.id, contribution.c.hidden_at.is_(None))
        .scalar_subquery()
    )
    answers = table_of(OccurrenceActivity)
    answerer = _cohort(author)  # one expression: PostgreSQL matches GROUP BY by its text
    per_occurrence = (
        select(
            literal(workspace_id),
            contribution.c.occurrence_id,
            answerer,
            func.count(),
            func.sum(case((contribution.c.outcome == ContributionOutcome.SUCCESS, 1), else_=0)),
            func.sum(case((contribution.c.outcome == ContributionOutcome.NOT_YET, 1), else_=0)),
        )
        .join(author, author.c.id == contribution.c.member_id)
        .where(visible, is_answer, contribution.c.occurrence_id.is_not(None))
        .group_by(contribution.c.occurrence_id, answerer)
    )
    return [
        delete(table).where(table.c.workspace_id == workspace_id),
        # Without the models' defaults of the columns not named: migration 0019's table has
        # only its own counters.
        table.insert().from_select(
            ["workspace_id", "week", "session_id", *counters], totals, include_defaults=False
        ),
        delete(answers).where(answers.c.workspace_id == workspace_id),
        answers.insert().from_select(
            ["workspace_id", "occurrence_id", "session_id", *ANSWER_COUNTERS], per_occurrence
        ),
        update(member)
        .where(member.c.workspace_id == workspace_id)
        .values(first_contributed_at=earliest),
    ]


async def rebuild(db: AsyncSession, workspace_id: int) -> None:
    """Recompute the workspace's `activity_week` rows and its members'
    `first_contributed_at` from the base tables, in SQL (after bulk loads; the writers keep
    them exact otherwise). The deltas still pending for it are forgotten: the base tables
    already hold what they count."""
    activity_pending.discard(db, workspace_id)
    for statement in rebuild_statements(workspace_id):
        await db.execute(statement)
