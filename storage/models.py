"""ORM models: the one schema shared by SQLite and PostgreSQL.

Changing a model means adding an Alembic migration under storage/migrations/versions/.
"""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, ClassVar, TypeVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from storage.vocabulary import (
    ActorKind,
    BadgeSource,
    ChallengeStatus,
    CheckInAnswer,
    ContributionKind,
    ContributionOutcome,
    InboxStatus,
    MemberRole,
    MentorStatus,
    OccurrenceStatus,
    OutboxKind,
    OutboxStatus,
    PairEndReason,
    PulseAnswerField,
    PulseStatus,
    ReactionKind,
    ReferralResponse,
    Sentiment,
    WishStatus,
)

# Stable constraint names so that migrations are the same on both databases.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_public_id() -> str:
    """A workspace's public id: 128 random bits, URL-safe (22 characters)."""
    return secrets.token_urlsafe(16)


# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on both databases (SQLite drops the offset on its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored: read the time from bot.clock")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


V = TypeVar("V", bound=StrEnum)


class Vocabulary(TypeDecorator[V]):
    """A closed vocabulary (storage/vocabulary.py) in a VARCHAR column: written as the
    member's string, read back as the member, so `row.status == PulseStatus.OPEN` holds.

    A value outside the vocabulary is refused before it reaches the database (ValueError),
    and by the database itself (the CHECK constraint `one_of` declares).
    """

    impl = String
    cache_ok = True

    def __init__(self, vocabulary: type[V], length: int = 16) -> None:
        super().__init__(length)
        self.vocabulary = vocabulary

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return self.vocabulary(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> V | None:
        if value is None:
            return None
        return self.vocabulary(value)


def one_of(column: str, vocabulary: type[StrEnum]) -> CheckConstraint:
    """The CHECK constraint ck_<table>_<column>: `column` holds a value of `vocabulary` (or
    NULL). Migration 0021 created these from value lists frozen in it (a test keeps both
    equal)."""
    values = ", ".join(f"'{member.value}'" for member in vocabulary)
    return CheckConstraint(f"{column} IN ({values})", name=column)


class Base(DeclarativeBase):
    """Declarative base with the shared naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime(), dict[str, Any]: JSON}


class Workspace(Base):
    """A Slack workspace, a Teams tenant, or the local playground."""

    __tablename__ = "workspace"
    __table_args__ = (UniqueConstraint("platform", "external_id", name="uq_workspace_platform"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str | None] = mapped_column(String(200))
    locale: Mapped[str | None] = mapped_column(String(8))
    timezone: Mapped[str | None] = mapped_column(String(64))
    community_conversation: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    # The workspace's id in its public Open Badges URLs (/badges/issuers/<public_id>): random,
    # so nobody can walk the issuers and read every installed workspace's name.
    public_id: Mapped[str] = mapped_column(
        String(32), unique=True, index=True, default=new_public_id
    )
    # True only for a workspace that issued badges under the former numeric issuer URL
    # (/badges/issuers/<id>) before migration 0012: issued badges must keep verifying, so its
    # URLs stay numeric. Set by that migration only; a new workspace is never legacy.
    legacy_badge_urls: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # When the platform told that the bot was removed (Slack app_uninstalled / tokens
    # revoked, Teams removed from its last team); a reinstall clears it. Past [retention]
    # uninstalled_days, the daily purge deletes the workspace and everything about it.
    uninstalled_at: Mapped[datetime | None]


class Member(Base):
    """A person the bot knows in one workspace; a community member once joined_at is set."""

    __tablename__ = "member"
    __table_args__ = (
        one_of("role", MemberRole),
        UniqueConstraint("workspace_id", "user_id", name="uq_member_user"),
        # The dashboard's community sizes (storage/activity.py): who joined when, through
        # which session, left when, contributed when, read from the index alone.
        Index(
            "ix_member_cohort",
            "workspace_id",
            "joined_session_id",
            "joined_at",
            "left_at",
            "created_at",
            "first_contributed_at",
        ),
        # The ladder's distribution (the steering dashboard) reads only this index.
        Index("ix_member_level", "workspace_id", "level", "joined_at", "left_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(128))
    display_name: Mapped[str] = mapped_column(String(200))
    # The language the member chose with `settings language`; None means "use the platform's".
    locale: Mapped[str | None] = mapped_column(String(8))
    # The locale the platform last sent with an event (fallback when locale is None).
    platform_locale: Mapped[str | None] = mapped_column(String(16))
    timezone: Mapped[str | None] = mapped_column(String(64))
    role: Mapped[MemberRole] = mapped_column(Vocabulary(MemberRole), default=MemberRole.LEARNER)
    level: Mapped[str | None] = mapped_column(String(32))
    joined_at: Mapped[datetime | None]
    # No foreign key: training_session already points at member (opened_by), and a
    # cycle of foreign keys cannot be created in order on PostgreSQL.
    joined_session_id: Mapped[int | None] = mapped_column(BigId)
    created_at: Mapped[datetime]
    # Set when the member asked for no more referral invitations ("stop such messages").
    invitations_off_at: Mapped[datetime | None]
    # Given by the platform when it can (Slack profile, Teams): the badge recipient's identity.
    email: Mapped[str | None] = mapped_column(String(320))
    # `leave`: no longer an ambassador and no message of any kind until they join again.
    left_at: Mapped[datetime | None]
    # Their earliest contribution not hidden (storage/activity.py keeps it): the dashboard's
    # "first contribution" step and "contributed at least once" share.
    first_contributed_at: Mapped[datetime | None]


class TrainingSession(Base):
    """A live training session with its join window."""

    __tablename__ = "training_session"
    __table_args__ = (
        UniqueConstraint("workspace_id", "code", name="uq_training_session_code"),
        Index("ix_training_session_open", "workspace_id", "conversation", "closed_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    code: Mapped[str] = mapped_column(String(16))
    conversation: Mapped[str] = mapped_column(String(200))
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    # Who was present in the conversation when the window closed, if the platform tells.
    present_count: Mapped[int | None]


class SessionParticipation(Base):
    """A member took part in a training session (joined during its window)."""

    __tablename__ = "session_participation"
    __table_args__ = (
        UniqueConstraint("session_id", "member_id", name="uq_session_participation"),
        # A member's sessions (the ladder's counts, mentoring's lineage).
        Index("ix_session_participation_member", "member_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("training_session.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    joined_at: Mapped[datetime]


class MembershipEvent(Base):
    """An append-only history of what happened to a member (joins, roles, levels)."""

    __tablename__ = "membership_event"
    __table_args__ = (Index("ix_membership_event_member", "member_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("training_session.id", ondelete="SET NULL")
    )
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    detail: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime]


class OutboxMessage(Base):
    """A message the bot must post or edit, written in the same transaction as its cause.

    The sender claims due rows with a lease, so a crash mid-send only delays the
    message; the unique idempotency key makes a second enqueue a no-op.
    """

    __tablename__ = "outbox_message"
    __table_args__ = (
        one_of("kind", OutboxKind),
        one_of("status", OutboxStatus),
        Index("ix_outbox_message_due", "status", "next_attempt_at"),
        Index("ix_outbox_message_coalesce", "coalesce_key", "status"),
        # A reaction names the message it is on: find what the bot posted there.
        Index("ix_outbox_message_platform_id", "platform_message_id"),
        # The retention purge: the oldest rows of each status (sent_at >= created_at).
        Index("ix_outbox_message_age", "status", "created_at"),
        # Each lane's claim (urgent replies, everything else): its pending rows, oldest first.
        Index("ix_outbox_message_lane", "status", "urgent", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    platform: Mapped[str] = mapped_column(String(16))
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    # A conversation id, or dm:<user id> for a direct message.
    target: Mapped[str] = mapped_column(String(200))
    kind: Mapped[OutboxKind] = mapped_column(Vocabulary(OutboxKind), default=OutboxKind.POST)
    update_of: Mapped[str | None] = mapped_column(String(255))
    # Later rows with the same coalesce_key make earlier pending ones redundant.
    coalesce_key: Mapped[str | None] = mapped_column(String(255))
    payload: Mapped[dict[str, Any]]
    # Names a live renderer that rebuilds the payload from the database at send time.
    refresh: Mapped[dict[str, Any] | None]
    # A reply to a person's own request: sent in the urgent lane, never behind a fan-out.
    urgent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    status: Mapped[OutboxStatus] = mapped_column(
        Vocabulary(OutboxStatus), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    claimed_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    platform_message_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class LocalMessage(Base):
    """A message posted in the local playground (the local adapter's "platform")."""

    __tablename__ = "local_message"
    __table_args__ = (
        Index("ix_local_message_conversation", "conversation", "id"),
        # Later edits name a message by its id: never given again after a purge (0018).
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    conversation: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    card: Mapped[dict[str, Any] | None]
    in_reply_to: Mapped[int | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # The outbox key it was sent for: the playground, unlike Slack, can refuse a second
    # delivery of the same message after a crash between "posted" and "recorded".
    dedupe_key: Mapped[str | None] = mapped_column(String(255), unique=True)


class ConversationPresence(Base):
    """Who the platform says is in a conversation (the local adapter: who spoke there)."""

    __tablename__ = "conversation_presence"
    __table_args__ = (
        UniqueConstraint(
            "workspace_id", "conversation", "user_id", name="uq_conversation_presence"
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    conversation: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[str] = mapped_column(String(128))
    seen_at: Mapped[datetime]


class Challenge(Base):
    """A challenge an animator wrote, with its schedule (the source of truth for posting)."""

    __tablename__ = "challenge"
    __table_args__ = (
        one_of("status", ChallengeStatus),
        Index("ix_challenge_due", "status", "next_run_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    text: Mapped[str] = mapped_column(Text)
    conversation: Mapped[str] = mapped_column(String(200))
    # The language of the animator who wrote it: the card and its thread speak it too.
    locale: Mapped[str] = mapped_column(String(8))
    # bot.scheduling.recurrence.Recurrence as JSON; None for a challenge posted at once.
    recurrence: Mapped[dict[str, Any] | None]
    status: Mapped[ChallengeStatus] = mapped_column(
        Vocabulary(ChallengeStatus), default=ChallengeStatus.ACTIVE
    )
    next_run_at: Mapped[datetime | None]
    # How long a one-off occurrence stays open for answers.
    open_days: Mapped[int] = mapped_column(Integer, default=7)
    # Remind members who have not answered this many hours before an occurrence closes.
    remind_hours: Mapped[int | None]
    created_at: Mapped[datetime]
    cancelled_at: Mapped[datetime | None]


class ChallengeOccurrence(Base):
    """One planned posting of a challenge: posted once, or skipped with a reason."""

    __tablename__ = "challenge_occurrence"
    __table_args__ = (
        one_of("status", OccurrenceStatus),
        UniqueConstraint("challenge_id", "planned_at", name="uq_challenge_occurrence_planned"),
        Index("ix_challenge_occurrence_conversation", "workspace_id", "conversation", "posted_at"),
        Index("ix_challenge_occurrence_remind", "remind_at"),
        # The dashboard's latest posted occurrences.
        Index("ix_challenge_occurrence_posted", "workspace_id", "posted_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenge.id", ondelete="CASCADE"))
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    conversation: Mapped[str] = mapped_column(String(200))
    planned_at: Mapped[datetime]
    status: Mapped[OccurrenceStatus] = mapped_column(Vocabulary(OccurrenceStatus))
    posted_at: Mapped[datetime | None]
    closes_at: Mapped[datetime | None]
    skip_reason: Mapped[str | None] = mapped_column(Text)
    # When the reminder to non-respondents is due, and when it went out.
    remind_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]


class Contribution(Base):
    """Learner-generated content: a challenge answer (success / not yet) or something
    shared freely: a tip, a question, an experience report, a watch link (`kind`)."""

    __tablename__ = "contribution"
    __table_args__ = (
        one_of("kind", ContributionKind),
        one_of("outcome", ContributionOutcome),
        UniqueConstraint("occurrence_id", "member_id", name="uq_contribution_answer"),
        Index("ix_contribution_member", "member_id", "kind"),
        # The dashboard's answers per occurrence by outcome, from the index alone.
        Index("ix_contribution_occurrence", "occurrence_id", "outcome", "hidden_at"),
        # A question's replies (its thread, moving the "helped" mark).
        Index("ix_contribution_parent_id", "parent_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    kind: Mapped[ContributionKind] = mapped_column(Vocabulary(ContributionKind))
    # Answers only.
    outcome: Mapped[ContributionOutcome | None] = mapped_column(Vocabulary(ContributionOutcome))
    occurrence_id: Mapped[int | None] = mapped_column(
        ForeignKey("challenge_occurrence.id", ondelete="CASCADE")
    )
    text: Mapped[str] = mapped_column(Text)
    # An answer's optional link; a watch's link (required for that kind).
    link: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    hidden_at: Mapped[datetime | None]
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    hidden_reason: Mapped[str | None] = mapped_column(Text)
    # Where it was posted (the outbox key of its post), so it can be edited or hidden.
    post_key: Mapped[str | None] = mapped_column(String(255))
    # Replies only: the question replied to (its thread); when the asker marked this reply
    # as the one that helped (at most one reply of a question has it: moving the mark is
    # one UPDATE over the question's replies, storage/contributions.py mark_helped).
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("contribution.id", ondelete="CASCADE"))
    helped_at: Mapped[datetime | None]


class ContributionLike(Base):
    """A member's reaction to a contribution: a like or a dislike ("not useful to me"),
    by a button or an emoji. One per member and contribution (a switch changes `kind`, a
    removal deletes the row)."""

    __tablename__ = "contribution_like"
    __table_args__ = (
        one_of("kind", ReactionKind),
        UniqueConstraint("contribution_id", "member_id", name="uq_contribution_like"),
        # A member's likes given (the activity rollup when they move or are erased).
        Index("ix_contribution_like_member", "member_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    contribution_id: Mapped[int] = mapped_column(ForeignKey("contribution.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    kind: Mapped[ReactionKind] = mapped_column(
        Vocabulary(ReactionKind), default=ReactionKind.LIKE, server_default=ReactionKind.LIKE.value
    )
    # When it was given, or last switched between like and dislike (the rollup's week).
    created_at: Mapped[datetime]


class ContributionVoice(Base):
    """What the community's voice reads of a contribution (bot/voice/): its language, its
    sentiment and the vector of its content words, computed once, after it is written
    (bot/voice/service.py), and its theme in the workspace's latest `ThemeMap`.

    Derived from the post's text, so personal data like the text: it goes with the
    contribution (ON DELETE CASCADE: erasing a person erases their vectors), and hidden
    contributions are left out where themes are read.
    """

    __tablename__ = "contribution_voice"
    __table_args__ = (
        one_of("sentiment", Sentiment),
        # A workspace's posts by theme (the themes view, the regrouping).
        Index("ix_contribution_voice_workspace_id", "workspace_id", "theme"),
    )

    contribution_id: Mapped[int] = mapped_column(
        ForeignKey("contribution.id", ondelete="CASCADE"), primary_key=True
    )
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(8))
    sentiment: Mapped[Sentiment] = mapped_column(Vocabulary(Sentiment))
    # The encoder's unit vector of the post's content words, float16 (1 KiB).
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    # Its theme's number in the workspace's theme map (None until it has one).
    theme: Mapped[int | None]


class ThemeMap(Base):
    """A workspace's themes, as last found (bot/voice/service.py regroups when the posts
    have grown or a day has passed): each theme's centre, the corrections applied before
    comparing (each language's mean), and each theme's key words per language. A new
    post is placed in the nearest centre without regrouping."""

    __tablename__ = "theme_map"

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspace.id", ondelete="CASCADE"), primary_key=True
    )
    computed_at: Mapped[datetime]
    # How many posts it was found from.
    posts: Mapped[int]
    # The encoder it was found with (a new one means regrouping).
    model: Mapped[str] = mapped_column(String(32))
    # float32 rows: the themes' centres, then each language's mean (`languages` order).
    centres: Mapped[bytes] = mapped_column(LargeBinary)
    means: Mapped[bytes] = mapped_column(LargeBinary)
    languages: Mapped[str] = mapped_column(String(64))
    # {"<theme>": {"<language>": [key words]}}: names in each language the theme has.
    names: Mapped[dict[str, Any]]


class WeeklyActivity(Base):
    """Learner-generated content per UTC week (Monday) and contributors' session: the
    dashboard's rollup (storage/activity.py keeps it exact in each writer's transaction and
    `rebuild` recomputes it), so that no page load scans the contributions.

    `session_id` is the contributor's `member.joined_session_id` (the session they joined
    the community through), 0 for none: part of the primary key, so never NULL. Only
    contributions not hidden count, and only likes on them; likes given count for the
    liker's session, likes received for the author's. Counts only: no personal data.
    """

    __tablename__ = "activity_week"
    __table_args__ = (
        UniqueConstraint("workspace_id", "week", "session_id", name="uq_activity_week"),
        # The page's sums read the index alone (no row lookups over thousands of rows).
        Index(
            "ix_activity_week_sums",
            "workspace_id",
            "week",
            "session_id",
            "answers",
            "successes",
            "not_yets",
            "shares",
            "likes_given",
            "likes_received",
            "dislikes_received",
            "arrivals",
            "departures",
            "questions",
            "experiences",
            "watches",
            "replies",
        ),
    )

    # A single-column key, as the retention purge's batched deletes need.
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    week: Mapped[date] = mapped_column(Date)
    session_id: Mapped[int] = mapped_column(BigInteger)
    answers: Mapped[int] = mapped_column(Integer, default=0)
    successes: Mapped[int] = mapped_column(Integer, default=0)
    not_yets: Mapped[int] = mapped_column(Integer, default=0)
    shares: Mapped[int] = mapped_column(Integer, default=0)
    likes_given: Mapped[int] = mapped_column(Integer, default=0)
    likes_received: Mapped[int] = mapped_column(Integer, default=0)
    # "Not useful to me" received (migration 0025); dislikes given are counted nowhere.
    dislikes_received: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The community's size: members who start counting that week, and who left that week.
    arrivals: Mapped[int] = mapped_column(Integer, default=0)
    departures: Mapped[int] = mapped_column(Integer, default=0)
    # Of `shares` (every free contribution), those of each kind but the plain tip
    # (migration 0024): the dashboard's density per kind.
    questions: Mapped[int] = mapped_column(Integer, default=0)
    experiences: Mapped[int] = mapped_column(Integer, default=0)
    watches: Mapped[int] = mapped_column(Integer, default=0)
    # Replies to questions (migration 0026): not in `shares` (nothing shared with `share`).
    replies: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class OccurrenceActivity(Base):
    """Answers to one challenge occurrence per answerers' session (see `WeeklyActivity`):
    the dashboard's participation per occurrence without counting the answers (a popular
    occurrence has thousands). Kept by storage/activity.py with `activity_week`."""

    __tablename__ = "activity_occurrence"
    __table_args__ = (
        UniqueConstraint("occurrence_id", "session_id", name="uq_activity_occurrence"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    occurrence_id: Mapped[int] = mapped_column(
        ForeignKey("challenge_occurrence.id", ondelete="CASCADE")
    )
    session_id: Mapped[int] = mapped_column(BigInteger)
    answers: Mapped[int] = mapped_column(Integer, default=0)
    successes: Mapped[int] = mapped_column(Integer, default=0)
    not_yets: Mapped[int] = mapped_column(Integer, default=0)


class Pulse(Base):
    """An NPS pulse about a training session (or the whole community), sent once by DM."""

    __tablename__ = "pulse"
    __table_args__ = (
        one_of("status", PulseStatus),
        Index("ix_pulse_send", "status", "send_at"),
        Index("ix_pulse_reminder", "status", "next_reminder_at"),
        Index("ix_pulse_close", "status", "closes_at"),
        Index("ix_pulse_workspace", "workspace_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    # None: the whole community.
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("training_session.id", ondelete="SET NULL")
    )
    created_by_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    # Where it was asked for (`pulse results` there defaults to it).
    conversation: Mapped[str] = mapped_column(String(200))
    status: Mapped[PulseStatus] = mapped_column(
        Vocabulary(PulseStatus), default=PulseStatus.SCHEDULED
    )
    # None while waiting for its session to close (`at close + N days`).
    send_at: Mapped[datetime | None]
    after_close_days: Mapped[int | None]
    # The deadline asked for (`until`); else closes_at = sent + settings.pulse.deadline_days.
    until_at: Mapped[datetime | None]
    closes_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)
    next_reminder_at: Mapped[datetime | None]
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    # The sums of its answers, computed by the database when it closed: a closed pulse's
    # answers never change again, so results over years of pulses scan only open ones.
    final_sums: Mapped[dict[str, Any] | None]
    # Its answers counted by (score, LSAT) when it closed, as [[score, lsat or null, n], …]
    # (the dashboard's NPS × LSAT scatter); None for pulses closed before migration 0020.
    final_grid: Mapped[list[list[int | None]] | None] = mapped_column(JSON)
    created_at: Mapped[datetime]


class PulseRecipient(Base):
    """A member a pulse was sent to (written with the outbox message that asks them)."""

    __tablename__ = "pulse_recipient"
    __table_args__ = (UniqueConstraint("pulse_id", "member_id", name="uq_pulse_recipient"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    pulse_id: Mapped[int] = mapped_column(ForeignKey("pulse.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    asked_at: Mapped[datetime]


class PulseAnswer(Base):
    """A member's current, named answer to a pulse (the last one counts)."""

    __tablename__ = "pulse_answer"
    __table_args__ = (
        UniqueConstraint("pulse_id", "member_id", name="uq_pulse_answer"),
        # A member's answers, for the ladder's counts after each event.
        Index("ix_pulse_answer_member", "member_id"),
        # Results read only these columns: the sums scan this index, not the table.
        Index("ix_pulse_answer_scores", "pulse_id", "score", "lsat"),
        # Named answers, most recent first, without sorting a whole pulse.
        Index("ix_pulse_answer_recent", "pulse_id", "updated_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    pulse_id: Mapped[int] = mapped_column(ForeignKey("pulse.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    # NPS question, 0-10.
    score: Mapped[int] = mapped_column(Integer)
    # Learner satisfaction, 1-5 (None until given).
    lsat: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class PulseAnswerChange(Base):
    """The history of answers: every score, LSAT or comment given, in order."""

    __tablename__ = "pulse_answer_change"
    __table_args__ = (
        one_of("field", PulseAnswerField),
        Index("ix_pulse_answer_change_answer", "pulse_id", "member_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    pulse_id: Mapped[int] = mapped_column(ForeignKey("pulse.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    field: Mapped[PulseAnswerField] = mapped_column(Vocabulary(PulseAnswerField))
    value: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class Referral(Base):
    """A learner recommends the training to a colleague (a member, or a name typed freely)."""

    __tablename__ = "referral"
    __table_args__ = (
        one_of("response", ReferralResponse),
        UniqueConstraint("pulse_id", "referrer_id", "referred_key", name="uq_referral"),
        Index("ix_referral_referred", "referred_member_id", "converted_at"),
        Index("ix_referral_referrer", "referrer_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    pulse_id: Mapped[int] = mapped_column(ForeignKey("pulse.id", ondelete="CASCADE"))
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("training_session.id", ondelete="SET NULL")
    )
    referrer_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    referred_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="SET NULL")
    )
    referred_name: Mapped[str] = mapped_column(String(200))
    # m:<member id> or n:<folded name>: one referral per colleague per answer.
    referred_key: Mapped[str] = mapped_column(String(220))
    # The invitation's buttons; None until one is pressed.
    response: Mapped[ReferralResponse | None] = mapped_column(Vocabulary(ReferralResponse))
    responded_at: Mapped[datetime | None]
    converted_at: Mapped[datetime | None]
    converted_session_id: Mapped[int | None] = mapped_column(
        ForeignKey("training_session.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime]


class Download(Base):
    """A short-lived link to a file (a CSV export), for the animator who asked for it."""

    __tablename__ = "download"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # SHA-256 of the token in the link: a leaked database does not leak working links.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict[str, Any]]
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime]


class BadgeAward(Base):
    """A level of the badge ladder awarded to a member: an Open Badges assertion.

    At most one active award per member and level (a partial unique index, so a
    revoked award stays, answering 410, and a new grant makes a new assertion).
    """

    __tablename__ = "badge_award"
    __table_args__ = (
        one_of("source", BadgeSource),
        Index(
            "uq_badge_award_active",
            "member_id",
            "level",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
        Index("ix_badge_award_level", "member_id", "level"),
        # The steering dashboard's ladder figures read only these (awards not revoked): per
        # level, by month (ranges of awarded_at) and by days after joining (in order).
        Index(
            "ix_badge_award_months",
            "workspace_id",
            "level",
            "awarded_at",
            "joined_days",
            "member_id",
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
        Index(
            "ix_badge_award_days",
            "workspace_id",
            "level",
            "joined_days",
            "awarded_at",
            "member_id",
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # The public id of the assertion in its URLs (random: award URLs cannot be guessed).
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    level: Mapped[str] = mapped_column(String(32))
    # 1 for the ladder's first level, and so on (the member's level is the highest held).
    rank: Mapped[int] = mapped_column(Integer)
    awarded_at: Mapped[datetime]
    source: Mapped[BadgeSource] = mapped_column(Vocabulary(BadgeSource))
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(Text)
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    revoke_reason: Mapped[str | None] = mapped_column(Text)
    # Whole days from the member's joining to the award, as it stood then (None: not a
    # community member then, or an award made before migration 0020 to someone who left).
    joined_days: Mapped[int | None] = mapped_column(Integer)


class ErasedBadge(Base):
    """An Open Badge whose recipient asked to be forgotten: the award and everything about
    them are gone; only its random uid remains, so its URLs answer 410 (revoked), not 404."""

    __tablename__ = "erased_badge"

    uid: Mapped[str] = mapped_column(String(36), primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    level: Mapped[str] = mapped_column(String(32))
    erased_at: Mapped[datetime]


class ErasureSweep(Base):
    """The second step of an erasure (storage/erasure.py): a few minutes after `forget me`,
    the last records about the person (the goodbye message's delivery) are deleted, then
    this row. It holds their ids and names only for that purpose."""

    __tablename__ = "erasure_sweep"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(128))
    # {"all": every trace (ids, names, texts), "ids": the exact identifiers}
    traces: Mapped[dict[str, Any]]
    due_at: Mapped[datetime]


class SigningKey(Base):
    """A key the bot generated once to sign Open Badges 3.0 credentials (Ed25519).

    Only the newest key signs; older ones stay published so what they signed still verifies.
    """

    __tablename__ = "signing_key"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    # PKCS#8 PEM of the private key, sealed (storage/sealing.py) under the secret key.
    private_pem: Mapped[str] = mapped_column(Text)
    # The public key as a JWK (RFC 8037 OKP/Ed25519), as published.
    public_jwk: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class MentorProfile(Base):
    """A member who volunteered to mentor: places, languages, topics, availability."""

    __tablename__ = "mentor_profile"
    __table_args__ = (
        one_of("status", MentorStatus),
        UniqueConstraint("member_id", name="uq_mentor_profile_member"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    status: Mapped[MentorStatus] = mapped_column(Vocabulary(MentorStatus))
    capacity: Mapped[int] = mapped_column(Integer)
    # Comma-separated language codes (ISO 639-1) and free topics.
    languages: Mapped[str] = mapped_column(String(200))
    topics: Mapped[str] = mapped_column(Text, default="")
    paused_until: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class MenteeWish(Base):
    """A novice's consent to be mentored, and where they stand."""

    __tablename__ = "mentee_wish"
    __table_args__ = (
        one_of("status", WishStatus),
        UniqueConstraint("member_id", name="uq_mentee_wish_member"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    status: Mapped[WishStatus] = mapped_column(Vocabulary(WishStatus))
    # Languages asked for (`mentor request languages pt`); empty: the member's language.
    languages: Mapped[str] = mapped_column(String(200), default="")
    # Why the last round left them waiting (a matcher reason code).
    waiting_reason: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime]


class MentoringRound(Base):
    """One matching round (run by an animator, or by the schedule)."""

    __tablename__ = "mentoring_round"
    __table_args__ = (Index("ix_mentoring_round_workspace", "workspace_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    run_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    pairs: Mapped[int] = mapped_column(Integer)
    waiting: Mapped[int] = mapped_column(Integer)
    repeats_avoided: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime]


class MentoringPair(Base):
    """A mentor and a novice paired by a round, until it ends."""

    __tablename__ = "mentoring_pair"
    __table_args__ = (
        one_of("mentor_answer", CheckInAnswer),
        one_of("novice_answer", CheckInAnswer),
        one_of("end_reason", PairEndReason),
        Index("ix_mentoring_pair_members", "mentor_id", "novice_id"),
        Index("ix_mentoring_pair_check_in", "check_in_at", "checked_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    round_id: Mapped[int] = mapped_column(ForeignKey("mentoring_round.id", ondelete="CASCADE"))
    mentor_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    novice_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]
    # When both are asked "Have you met?", and when that went out.
    check_in_at: Mapped[datetime]
    checked_at: Mapped[datetime | None]
    mentor_answer: Mapped[CheckInAnswer | None] = mapped_column(Vocabulary(CheckInAnswer))
    novice_answer: Mapped[CheckInAnswer | None] = mapped_column(Vocabulary(CheckInAnswer))
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[PairEndReason | None] = mapped_column(Vocabulary(PairEndReason, 32))


class MentoringAllowance(Base):
    """An animator allows a mentor and a novice to be paired again."""

    __tablename__ = "mentoring_allowance"
    __table_args__ = (
        UniqueConstraint("mentor_id", "novice_id", name="uq_mentoring_allowance_pair"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    mentor_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    novice_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    allowed_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]


class ReplayKey(Base):
    """A platform request, event or activity already handled, by its replay key (a Slack
    request's signature, an event or activity id, an OAuth state): a retry or a duplicate
    delivery, even to another replica, finds it here and has no second effect. Not the
    request itself (`InboxEvent`), nor the core's neutral event (`bot.core.events`)."""

    __tablename__ = "replay_key"
    # The retention purge deletes keys past every platform's retry window.
    __table_args__ = (Index("ix_replay_key_received", "received_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # <platform>:<event id>
    key: Mapped[str] = mapped_column(String(255), unique=True)
    received_at: Mapped[datetime]


class SlackInstallation(Base):
    """One Slack workspace's installation of the app (OAuth), the latest only: its bot token
    (and refresh token when token rotation is on) and who installed it."""

    __tablename__ = "slack_installation"
    __table_args__ = (
        UniqueConstraint("enterprise_id", "team_id", name="uq_slack_installation_team"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # "" rather than NULL, so that the unique key holds for workspaces outside a grid.
    enterprise_id: Mapped[str] = mapped_column(String(32), default="")
    team_id: Mapped[str] = mapped_column(String(32))
    team_name: Mapped[str | None] = mapped_column(String(200))
    app_id: Mapped[str | None] = mapped_column(String(32))
    bot_id: Mapped[str | None] = mapped_column(String(32))
    bot_user_id: Mapped[str | None] = mapped_column(String(32))
    # Both tokens sealed (storage/sealing.py) under the secret key: longer than the tokens.
    bot_token: Mapped[str] = mapped_column(Text)
    bot_refresh_token: Mapped[str | None] = mapped_column(Text)
    bot_token_expires_at: Mapped[datetime | None]
    bot_scopes: Mapped[str | None] = mapped_column(Text)
    installer_user_id: Mapped[str | None] = mapped_column(String(32))
    installed_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class SecretKeyCheck(Base):
    """Which key seals this database's secrets: one row, a known text sealed under it.

    Start-up opens it before anything else, so a wrong or missing key stops the bot at
    once, even before a sealed token is needed (storage/sealed_columns.py).
    """

    __tablename__ = "secret_key_check"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always 1
    key_id: Mapped[str] = mapped_column(String(32))
    sealed_check: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]


class InboxEvent(Base):
    """A platform request recorded before it is acknowledged, handled after (the inbox).

    Slack wants an answer within 3 seconds and Teams within a few: the adapter writes the
    raw request here (many per transaction), answers at once, and a worker on any replica
    handles it; a crash after the answer only delays it (the lease runs out, it is due again).
    """

    __tablename__ = "inbox_event"
    __table_args__ = (
        one_of("status", InboxStatus),
        Index("ix_inbox_event_due", "status", "next_attempt_at"),
        # The retention purge: the oldest handled or failed requests (done_at >= received_at).
        Index("ix_inbox_event_age", "status", "received_at"),
        # Ids name effects' keys: never given again after a purge (migration 0018).
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    # What the adapter received: command | action | view | event | activity …
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]]
    status: Mapped[InboxStatus] = mapped_column(
        Vocabulary(InboxStatus), default=InboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    claimed_until: Mapped[datetime | None]
    done_at: Mapped[datetime | None]


class TeamsConversation(Base):
    """Where the bot can write in Teams (a conversation reference): every conversation it
    has seen, with the service URL and tenant a proactive message needs after a restart."""

    __tablename__ = "teams_conversation"
    __table_args__ = (
        UniqueConstraint("tenant_id", "conversation_id", name="uq_teams_conversation"),
        Index("ix_teams_conversation_personal", "tenant_id", "aad_object_id"),
        Index("ix_teams_conversation_team", "tenant_id", "team_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    conversation_id: Mapped[str] = mapped_column(String(400))
    service_url: Mapped[str] = mapped_column(String(400))
    # personal | channel | groupChat
    conversation_type: Mapped[str] = mapped_column(String(16))
    # A channel's team (channelData.team.id): removing the bot from a team forgets all of its
    # channels. None for chats, and for channels remembered before migration 0017.
    team_id: Mapped[str | None] = mapped_column(String(200))
    bot_id: Mapped[str] = mapped_column(String(200))
    # For a personal (1:1) conversation: the person's AAD object id and Teams user id.
    aad_object_id: Mapped[str | None] = mapped_column(String(64))
    user_id: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime]


class TeamsMember(Base):
    """A Teams user the bot has seen (in any conversation): their Teams id, which a new 1:1
    conversation needs, under the AAD object id the core knows them by."""

    __tablename__ = "teams_member"
    __table_args__ = (
        UniqueConstraint("tenant_id", "aad_object_id", name="uq_teams_member"),
        Index("ix_teams_member_user", "tenant_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    aad_object_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(200))
    service_url: Mapped[str] = mapped_column(String(400))
    updated_at: Mapped[datetime]


class AuditEntry(Base):
    """Who changed what, when, from which platform: roles, badges, pulses, exports, erasures.

    No name and no typed text is ever stored here: names are read from the member rows when
    the log is shown, so erasing a person (their member row deleted, the ids here set to
    NULL) leaves no trace of who they were, only that "a former member" acted or was acted on.
    """

    __tablename__ = "audit_entry"
    __table_args__ = (
        one_of("actor_kind", ActorKind),
        Index("ix_audit_entry_workspace", "workspace_id", "at"),
        # The retention purge deletes by age across workspaces.
        Index("ix_audit_entry_at", "at"),
        # Deleting a member sets these to NULL: indexed so an erasure does not scan the log.
        Index("ix_audit_entry_actor", "actor_member_id"),
        Index("ix_audit_entry_subject", "subject_member_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    # slack | teams | local: where the command came from.
    platform: Mapped[str] = mapped_column(String(16))
    actor_kind: Mapped[ActorKind] = mapped_column(Vocabulary(ActorKind))
    actor_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="SET NULL")
    )
    # A short stable code: role.add, badge.revoke, pulse.export, member.forget …
    action: Mapped[str] = mapped_column(String(32))
    subject_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="SET NULL")
    )
    # Codes and ids only ({"role": "animator"}, {"pulse": 12}), checked by bot/audit.py.
    detail: Mapped[dict[str, Any] | None]
