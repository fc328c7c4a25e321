"""A realistic community, generated from a seed: the rows the bot would have written.

`community` returns rows per table (explicit ids, for bulk loading) for one workspace:
trainings and their sessions over the last six months, learners in French and English,
weekly challenges and their answers, shares of every kind (tips, questions, experience
reports, watch links), replies to questions and the askers' "helped" marks, likes and a few
dislikes, pulses 30 days after each session with named answers, comments and referrals,
badges along the ladder, mentoring rounds.

The rows respect what the bot's own code writes, so that the dashboard, `pulse results`,
`mentoring stats` and the hourly promotion read them as real history:

- every participant of a session is a member who joined (joined_at, joined_session_id at
  their first session) with a `joined` event, later sessions a `took_part` event;
- a closed pulse carries `final_sums` equal to the sums of its answers
  (storage/pulses.freeze_sums); an open one has none; a scheduled one no answers;
- badges are awarded when the ladder's criteria were first met (daily caps, hidden
  contributions left out, days as a member passed by the hourly promotion), so that
  `storage.badges.award_due` at `now` finds nothing more to award; `member.level` is the
  highest level held;
- a referral to a colleague who later took part in a session is converted at that join
  (storage/referrals.convert); mentoring pairs never repeat, check-ins are answered once
  due, novices left waiting carry the matcher's reason codes.

Shapes: engagement is heavy-tailed (a few super-contributors) and decays after a
member's latest session; promoters tend to give a high LSAT; the NPS lands around +30.
"""

from __future__ import annotations

import hashlib
import math
import random
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.demo import texts
from bot.ladder import DEFAULT_LADDER, Ladder
from bot.mentoring.matcher import LANGUAGE_FULL, NO_LANGUAGE, ONLY_PREVIOUS, OUTNUMBERED
from storage.models import Base
from storage.referrals import referred_key
from storage.vocabulary import (
    BadgeSource,
    ChallengeStatus,
    CheckInAnswer,
    ContributionKind,
    ContributionOutcome,
    MemberRole,
    MentorStatus,
    OccurrenceStatus,
    PairEndReason,
    PulseAnswerField,
    PulseStatus,
    ReactionKind,
    ReferralResponse,
    WishStatus,
)

Rows = dict[str, list[dict[str, Any]]]

# The tables `community` fills, parents before children (the order to insert them in).
TABLES = (
    "workspace",
    "member",
    "training_session",
    "session_participation",
    "membership_event",
    "challenge",
    "challenge_occurrence",
    "contribution",
    "contribution_like",
    "pulse",
    "pulse_recipient",
    "pulse_answer",
    "pulse_answer_change",
    "referral",
    "badge_award",
    "mentor_profile",
    "mentee_wish",
    "mentoring_round",
    "mentoring_pair",
)
ANIMATOR_USER_ID = "anim1"
ANIMATOR_NAME = "Anim1"
COMMUNITY_CONVERSATION = "general"
DAYS = 182  # six months of history
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # as bot/handlers/signup.py
PULSE_AFTER_CLOSE_DAYS = 30
PULSE_OPEN_DAYS = 7
REMINDER_AFTER_DAYS = 3
ROUND_EVERY_DAYS = 14
CHECK_IN_DAYS = 14
MENTOR_LEVEL_RANK = 2  # "confirmed" on the default ladder: [mentoring] mentor_level


@dataclass(frozen=True)
class Volume:
    """How much activity to generate. None: the natural shape of a community of that size;
    a number: probabilities scaled so that the total comes close to it (the bench)."""

    contributions: int | None = None
    pulse_answers: int | None = None
    likes_per_contribution: float = 1.6
    # Of the reactions, the share that are "not useful to me" (dislikes): rare.
    dislike_share: float = 0.06
    # The per-event history rows (answered / shared events, pulse answer changes): what the
    # bot writes, but nothing the dashboard reads; the bench may leave them out.
    history: bool = True


@dataclass
class _Member:
    id: int
    name: str
    locale: str
    engagement: float
    created_at: datetime
    joined_at: datetime | None = None
    joined_session: int | None = None
    left_at: datetime | None = None
    sessions: list[tuple[int, datetime, datetime]] = field(default_factory=list)  # id, join, close
    trainings: set[str] = field(default_factory=set)
    events: list[tuple[datetime, str]] = field(default_factory=list)  # ladder events
    awards: dict[str, datetime] = field(default_factory=dict)


@dataclass
class _Session:
    id: int
    training: texts.Training
    trainer_id: int
    opened_at: datetime
    closed_at: datetime
    conversation: str
    members: list[int] = field(default_factory=list)


class _Pool:
    """Mentors with room in one language: O(1) removal, a bounded random sample."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self._at: dict[int, int] = {}

    def add(self, profile: dict[str, Any]) -> None:
        self._at[profile["member_id"]] = len(self.items)
        self.items.append(profile)

    def remove(self, member_id: int) -> None:
        index = self._at.pop(member_id, None)
        if index is None:
            return
        last = self.items.pop()
        if index < len(self.items):
            self.items[index] = last
            self._at[last["member_id"]] = index

    def sample(self, rng: random.Random, size: int = 25) -> list[dict[str, Any]]:
        if len(self.items) <= size:
            return list(self.items)
        return [self.items[i] for i in rng.sample(range(len(self.items)), size)]


class _Ids:
    """The next id of each table, from `first_ids` (1 for a table it does not name)."""

    def __init__(self, first_ids: Mapping[str, int]) -> None:
        self._next = {table: int(first_ids.get(table, 1)) for table in TABLES}

    def take(self, table: str) -> int:
        value = self._next[table]
        self._next[table] = value + 1
        return value

    def number(self, table: str, rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
        """Give ids to `rows` in the order of their `key` instant (ids grow with time)."""
        rows.sort(key=lambda row: row[key])
        for row in rows:
            row["id"] = self.take(table)
        return rows


def session_code(session_id: int) -> str:
    """A six-character join code, distinct for distinct session ids (a bijection of the id
    onto the codes' space), looking as random as the bot's."""
    space = len(CODE_ALPHABET) ** 6
    # 3^18 is prime to 31: distinct ids give distinct codes, whatever the seed.
    value = (session_id * 387_420_489 + 123_456) % space
    chars = []
    for _ in range(6):
        value, digit = divmod(value, len(CODE_ALPHABET))
        chars.append(CODE_ALPHABET[digit])
    return "".join(chars)


def _uid(seed: int, award_id: int) -> str:
    """An award's public id: unique per award id, 32 hex digits like the bot's on SQLite."""
    return hashlib.sha256(f"ambassador-demo:{seed}:{award_id}".encode()).hexdigest()[:32]


def community(
    members: int,
    now: datetime,
    seed: int,
    first_ids: Mapping[str, int],
    *,
    workspace_id: int | None = None,
    animator_id: int | None = None,
    ladder: Ladder = DEFAULT_LADDER,
    volume: Volume | None = None,
    timezone: str = "Europe/Paris",
) -> Rows:
    """The rows of a community of `members` learners for one workspace, as of `now`.

    Ids start at `first_ids[table]` (1 when not given). Without `workspace_id` the rows
    include the workspace (the playground's: platform "local", external id "local");
    without `animator_id` they include the playground's animator `anim1`. The same
    arguments give the same rows.
    """
    return _Generator(
        members,
        now,
        seed,
        first_ids,
        workspace_id,
        animator_id,
        ladder,
        volume or Volume(),
        timezone,
    ).run()


class _Generator:
    def __init__(
        self,
        members: int,
        now: datetime,
        seed: int,
        first_ids: Mapping[str, int],
        workspace_id: int | None,
        animator_id: int | None,
        ladder: Ladder,
        volume: Volume,
        timezone: str,
    ) -> None:
        if members < 1:
            raise ValueError("a community needs at least one member")
        self.count = members
        self.now = now.astimezone(UTC)
        self.seed = seed
        self.rng = random.Random(seed)
        # The learner voice (kinds of share, replies, the helped mark, dislikes) draws from
        # a stream of its own, so that adding it left the rest of a seed's community as it
        # was (the same members, sessions, pulses and referrals).
        self.voice = random.Random(f"voice:{seed}")
        self.ids = _Ids(first_ids)
        self.ladder = ladder
        self.volume = volume
        self.zone = ZoneInfo(timezone)
        self.timezone = timezone
        self.start = self.now - timedelta(days=DAYS)
        self.rows: Rows = {table: [] for table in TABLES}
        self.workspace_id = workspace_id
        self.animator_id = animator_id
        self.members: dict[int, _Member] = {}
        self.learners: list[int] = []  # by join time
        self.sessions: list[_Session] = []
        self.used_names: set[str] = set()

    # --- the whole community ------------------------------------------------------------

    def run(self) -> Rows:
        self._workspace()
        trainers = self._staff()
        self._sessions(trainers)
        self._colleagues()
        self._challenges()
        self._pulses()
        self._awards(with_mentoring=False)
        self._mentoring()
        self._awards(with_mentoring=True)
        self._badge_rows()
        self._member_rows()
        return {table: rows for table, rows in self.rows.items() if rows or table != "workspace"}

    def _workspace(self) -> None:
        if self.workspace_id is not None:
            return
        self.workspace_id = self.ids.take("workspace")
        public = hashlib.sha256(f"workspace:{self.seed}:{self.workspace_id}".encode()).hexdigest()
        self.rows["workspace"].append(
            {
                "id": self.workspace_id,
                "platform": "local",
                "external_id": "local",
                "name": "Ambassador playground",
                "locale": None,
                "timezone": self.timezone,
                "community_conversation": COMMUNITY_CONVERSATION,
                "created_at": self.start - timedelta(days=21),
                "public_id": public[:22],
                "legacy_badge_urls": False,
            }
        )

    def _staff(self) -> dict[str, list[int]]:
        """The animator and the trainers (animators who run the sessions)."""
        created = self.start - timedelta(days=20)
        if self.animator_id is None:
            self.animator_id = self._new_member(ANIMATOR_NAME, "en", 0.0, created, "anim1")
            self._event(
                self.animator_id, "role_added", created, detail={"role": MemberRole.ANIMATOR}
            )
        trainers: dict[str, list[int]] = {}
        by_name: dict[str, int] = {}
        for training in texts.TRAININGS:
            for name, locale in training.trainers:
                if name not in by_name:
                    at = created + timedelta(hours=len(by_name) + 1)
                    by_name[name] = self._new_member(name, locale, 0.0, at)
                    self._event(
                        by_name[name],
                        "role_added",
                        at,
                        actor=self.animator_id,
                        detail={"role": MemberRole.ANIMATOR},
                    )
                trainers.setdefault(training.name, []).append(by_name[name])
        return trainers

    def _new_member(
        self,
        name: str,
        locale: str,
        engagement: float,
        created_at: datetime,
        user_id: str | None = None,
        *,
        role: MemberRole = MemberRole.ANIMATOR,
    ) -> int:
        member_id = self.ids.take("member")
        self.members[member_id] = _Member(member_id, name, locale, engagement, created_at)
        self.used_names.add(name)
        self.rows["member"].append(
            {
                "id": member_id,
                "workspace_id": self.workspace_id,
                "user_id": user_id or f"demo-{member_id}",
                "display_name": name,
                "locale": None,
                "platform_locale": locale,
                "timezone": self._member_zone(locale),
                "role": role,
                "level": None,
                "joined_at": None,
                "joined_session_id": None,
                "created_at": created_at,
                "invitations_off_at": None,
                "email": None,
                "left_at": None,
            }
        )
        return member_id

    def _member_zone(self, locale: str) -> str:
        if locale == "fr":
            return "Europe/Paris"
        return self.rng.choice(
            ("Europe/London", "Europe/London", "America/New_York", "Asia/Singapore")
        )

    def _name(self, locale: str) -> str:
        french = self.rng.random() < (0.8 if locale == "fr" else 0.15)
        firsts, lasts = (
            (texts.FIRST_FR, texts.LAST_FR) if french else (texts.FIRST_INTL, texts.LAST_INTL)
        )
        name = ""
        for _ in range(6):  # homonyms happen, but rarely
            name = f"{self.rng.choice(firsts)} {self.rng.choice(lasts)}"
            if name not in self.used_names:
                break
        return name

    def _engagement(self) -> float:
        value = min(6.0, self.rng.lognormvariate(-0.35, 0.85))
        if self.rng.random() < 0.02:  # the super-contributors
            value *= 3.0
        return value

    # --- sessions and who took part --------------------------------------------------------

    def _sessions(self, trainers: dict[str, list[int]]) -> None:
        # The sizes first (new learners and returning ones), then the calendar.
        plan: list[tuple[texts.Training, int]] = []
        placed = 0
        weights = [t.weight for t in texts.TRAININGS]
        while placed < self.count:
            training = self.rng.choices(texts.TRAININGS, weights)[0]
            size = self.rng.randint(8, 25)
            plan.append((training, size))
            placed += max(1, round(size * 0.85))
        span = (self.now - timedelta(days=3)) - (self.start + timedelta(days=1))
        step = span / len(plan)
        pending = list(range(self.count))  # learners not yet created, in join order
        for index, (training, size) in enumerate(plan):
            day = (
                (self.start + timedelta(days=1) + step * (index + self.rng.random() * 0.8))
                .astimezone(self.zone)
                .date()
            )
            while day.weekday() >= 5:
                day -= timedelta(days=1)
            hour = self.rng.choice((9, 9, 10, 14))
            opened = datetime.combine(day, time(hour), self.zone).astimezone(UTC)
            opened = min(opened, self.now - timedelta(days=1))
            closed = opened + timedelta(hours=self.rng.choice((3, 4, 7)))
            session = _Session(
                self.ids.take("training_session"),
                training,
                self.rng.choice(trainers[training.name]),
                opened,
                closed,
                f"{training.slug}-{index + 1}",
            )
            self.sessions.append(session)
            returning = self._returning(training, opened, size)
            new = max(0, size - len(returning))
            if index == len(plan) - 1:
                new = len(pending)
            fresh = [self._new_learner(training, opened) for _ in range(min(new, len(pending)))]
            del pending[: len(fresh)]
            for member_id in returning + fresh:
                self._take_part(session, member_id)
            present = len(session.members) + self.rng.choice((0, 0, 1, 1, 2, 3, 4))
            self.rows["training_session"].append(
                {
                    "id": session.id,
                    "workspace_id": self.workspace_id,
                    "name": training.name,
                    "code": session_code(session.id),
                    "conversation": session.conversation,
                    "opened_by_id": session.trainer_id,
                    "opened_at": opened,
                    "closed_at": closed,
                    "closed_by_id": session.trainer_id,
                    "present_count": present,
                }
            )
        self.rows["session_participation"] = self.ids.number(
            "session_participation", self.rows["session_participation"], "joined_at"
        )

    def _returning(self, training: texts.Training, opened: datetime, size: int) -> list[int]:
        """Learners back for another training (about one in seven places)."""
        if not self.learners:
            return []
        wanted = sum(1 for _ in range(size) if self.rng.random() < 0.14)
        chosen: list[int] = []
        for _ in range(wanted * 3):
            if len(chosen) >= wanted:
                break
            member = self.members[self.rng.choice(self.learners)]
            if (
                member.id not in chosen
                and training.name not in member.trainings
                and member.left_at is None
                and member.sessions[-1][2] < opened - timedelta(days=14)
            ):
                chosen.append(member.id)
        return chosen

    def _new_learner(self, training: texts.Training, opened: datetime) -> int:
        locale = (
            training.locale
            if self.rng.random() < 0.85
            else ("en" if training.locale == "fr" else "fr")
        )
        member_id = self._new_member(
            self._name(locale), locale, self._engagement(), opened, role=MemberRole.LEARNER
        )
        self.learners.append(member_id)
        return member_id

    def _take_part(self, session: _Session, member_id: int) -> None:
        member = self.members[member_id]
        joined = session.opened_at + timedelta(seconds=self.rng.randint(60, 2400))
        member.created_at = min(member.created_at, joined)
        first = member.joined_at is None
        if first:
            member.joined_at = joined
            member.joined_session = session.id
        member.sessions.append((session.id, joined, session.closed_at))
        member.trainings.add(session.training.name)
        member.events.append((joined, "sessions"))
        session.members.append(member_id)
        self.rows["session_participation"].append(
            {"session_id": session.id, "member_id": member_id, "joined_at": joined}
        )
        self._event(member_id, "joined" if first else "took_part", joined, session=session.id)
        if first:
            self._wish(member, joined)

    def _colleagues(self) -> None:
        """People the bot knows who never joined: colleagues named in pulse answers."""
        self.colleagues = []
        for _ in range(max(3, self.count // 15)):
            locale = "fr" if self.rng.random() < 0.6 else "en"
            created = self.start + timedelta(days=self.rng.uniform(0, DAYS - 5))
            member_id = self._new_member(
                self._name(locale), locale, 0.0, created, role=MemberRole.LEARNER
            )
            self.colleagues.append(member_id)

    def _event(
        self,
        member_id: int,
        kind: str,
        at: datetime,
        *,
        session: int | None = None,
        actor: int | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        self.rows["membership_event"].append(
            {
                "member_id": member_id,
                "kind": kind,
                "session_id": session,
                "actor_id": actor,
                "detail": detail,
                "created_at": at,
            }
        )

    # --- engagement --------------------------------------------------------------------

    def _active(self, member: _Member, at: datetime) -> float:
        """How likely the member is to act at `at`: their engagement, decaying after their
        latest session (0 before they joined or after they left)."""
        if member.joined_at is None or member.joined_at > at:
            return 0.0
        if member.left_at is not None and member.left_at <= at:
            return 0.0
        latest = max((closed for _, joined, closed in member.sessions if joined <= at), default=at)
        days = max(0.0, (at - latest).total_seconds() / 86400)
        return member.engagement * (0.18 + 0.82 * math.exp(-days / 35))

    def _joined_by(self, at: datetime) -> list[int]:
        """Learners who joined by `at` (a prefix of the learners in join order)."""
        return self.learners[: bisect_right(self._join_times, at)]

    # --- challenges, answers, shares, likes --------------------------------------------------

    def _challenges(self) -> None:
        self.learners.sort(key=lambda m: self.members[m].joined_at or self.now)
        self._join_times = [self.members[m].joined_at or self.now for m in self.learners]
        occurrences: list[dict[str, Any]] = []
        specs: list[tuple[dict[str, Any], list[tuple[datetime, datetime | None]]]] = []
        for index, (text, locale, weekday, hour) in enumerate(texts.CHALLENGES):
            begin = self.start + timedelta(days=7 + 60 * index)
            runs = self._weekly(begin, weekday, hour)
            created = runs[0] - timedelta(days=2)
            following = self._weekly(runs[-1] + timedelta(minutes=1), weekday, hour, once=True)[0]
            recurrence = {
                "kind": "cron",
                "timezone": self.timezone,
                "start": created.isoformat(),
                "end": None,
                "cron": {"day_of_week": str(weekday), "hour": str(hour), "minute": "0"},
                "interval_days": 0,
            }
            challenge = {
                "workspace_id": self.workspace_id,
                "created_by_id": self.animator_id,
                "text": text,
                "conversation": COMMUNITY_CONVERSATION,
                "locale": locale,
                "recurrence": recurrence,
                "status": ChallengeStatus.ACTIVE,
                "next_run_at": following,
                "open_days": 7,
                "remind_hours": None,
                "created_at": created,
                "cancelled_at": None,
            }
            until: list[datetime | None] = [*runs[1:], following]
            specs.append((challenge, list(zip(runs, until, strict=True))))
        for index, (text, locale) in enumerate(texts.ONE_OFFS):
            posted = self.start + timedelta(days=25 + index * 40, hours=8)
            if posted > self.now - timedelta(days=8):
                continue
            challenge = {
                "workspace_id": self.workspace_id,
                "created_by_id": self.animator_id,
                "text": text,
                "conversation": COMMUNITY_CONVERSATION,
                "locale": locale,
                "recurrence": None,
                "status": ChallengeStatus.FINISHED,
                "next_run_at": None,
                "open_days": 7,
                "remind_hours": None,
                "created_at": posted,
                "cancelled_at": None,
            }
            specs.append((challenge, [(posted, posted + timedelta(days=7))]))
        self.ids.number("challenge", [c for c, _ in specs], "created_at")
        for challenge, schedule in specs:
            self.rows["challenge"].append(challenge)
            for planned, closes in schedule:
                occurrences.append(
                    {
                        "challenge_id": challenge["id"],
                        "workspace_id": self.workspace_id,
                        "conversation": COMMUNITY_CONVERSATION,
                        "planned_at": planned,
                        "status": OccurrenceStatus.POSTED,
                        "posted_at": planned + timedelta(seconds=2),
                        "closes_at": closes,
                        "skip_reason": None,
                        "remind_at": None,
                        "reminded_at": None,
                    }
                )
        self.rows["challenge_occurrence"] = self.ids.number(
            "challenge_occurrence", occurrences, "posted_at"
        )
        self.rows["challenge"].sort(key=lambda c: c["id"])
        self._contributions()

    def _weekly(
        self, begin: datetime, weekday: int, hour: int, *, once: bool = False
    ) -> list[datetime]:
        """Each `weekday` at `hour` (workspace time) from `begin` until now (the first only
        with `once`)."""
        day = begin.astimezone(self.zone).date()
        day += timedelta(days=(weekday - day.weekday()) % 7)
        found = []
        while True:
            at = datetime.combine(day, time(hour), self.zone).astimezone(UTC)
            if at >= begin and (once or at <= self.now):
                found.append(at)
                if once:
                    return found
            elif at > self.now:
                return found
            day += timedelta(days=7)

    def _contributions(self) -> None:
        base_answer, base_share = 0.21, 0.06
        target = self.volume.contributions
        if target is not None:
            # Probabilities are capped, so the scale is found in a few steps (on a sample).
            for _ in range(4):
                expected = self._expected(base_answer, base_share)
                factor = target / expected if expected else 1.0
                base_answer *= factor
                base_share *= factor
                if abs(factor - 1) < 0.02:
                    break
        made: list[dict[str, Any]] = []
        for occurrence in self.rows["challenge_occurrence"]:
            posted, closes = occurrence["posted_at"], occurrence["closes_at"]
            locale = self._challenge_locale(occurrence["challenge_id"])
            for member_id in self._joined_by(posted):
                member = self.members[member_id]
                if self.rng.random() >= min(0.95, base_answer * self._active(member, posted)):
                    continue
                at = posted + timedelta(days=min(6.5, self.rng.expovariate(1 / 1.2)))
                if at > self.now or (closes is not None and at >= closes):
                    continue
                if member.left_at is not None and at >= member.left_at:
                    continue
                outcome = (
                    ContributionOutcome.SUCCESS
                    if self.rng.random() < 0.68
                    else ContributionOutcome.NOT_YET
                )
                language = member.locale if self.rng.random() < 0.8 else locale
                made.append(
                    self._contribution(
                        member_id,
                        ContributionKind.ANSWER,
                        at,
                        outcome=outcome,
                        occurrence=occurrence["id"],
                        text=self.rng.choice(texts.ANSWERS[(language, outcome)]),
                    )
                )
        week = self.start
        while week < self.now:
            for member_id in self._joined_by(week):
                member = self.members[member_id]
                if self.rng.random() >= min(0.95, base_share * self._active(member, week)):
                    continue
                at = week + timedelta(seconds=self.rng.uniform(0, 7 * 86400))
                if at > self.now or (member.left_at is not None and at >= member.left_at):
                    continue
                made.append(self._free_contribution(member_id, member.locale, at))
            week += timedelta(days=7)
        replies = self._replies(made)
        made += replies
        self.rows["contribution"] = self.ids.number("contribution", made, "created_at")
        for row in made:
            row["post_key"] = f"{row['kind']}:{row['id']}"
            parent = row.pop("parent", None)
            row["parent_id"] = parent["id"] if parent is not None else None
            hidden = row["hidden_at"] is not None
            if not hidden:
                self.members[row["member_id"]].events.append((row["created_at"], row["kind"]))
            if self.volume.history:
                detail: dict[str, Any] = {"contribution": row["id"]}
                if row["kind"] == ContributionKind.ANSWER:
                    detail["outcome"] = row["outcome"]
                    kind = "answered"
                elif row["kind"] == ContributionKind.REPLY:
                    detail["question"] = row["parent_id"]
                    kind = "replied"
                else:
                    detail["kind"] = row["kind"]
                    kind = "shared"
                self._event(row["member_id"], kind, row["created_at"], detail=detail)
                if row["helped_at"] is not None and parent is not None:
                    self._event(
                        row["member_id"],
                        "reply_helped",
                        row["helped_at"],
                        actor=parent["member_id"],
                        detail={"contribution": row["id"], "question": parent["id"]},
                    )
                if hidden:
                    self._event(
                        row["member_id"],
                        "contribution_hidden",
                        row["hidden_at"],
                        actor=self.animator_id,
                        detail={"contribution": row["id"], "reason": row["hidden_reason"]},
                    )
        self._likes()

    # How free contributions split among their kinds: mostly tips, then questions, then
    # experience reports and watch links (a community's first months).
    FREE_KINDS: tuple[ContributionKind, ...] = (
        ContributionKind.SHARE,
        ContributionKind.QUESTION,
        ContributionKind.EXPERIENCE,
        ContributionKind.WATCH,
    )
    FREE_WEIGHTS: tuple[float, ...] = (0.5, 0.2, 0.15, 0.15)

    def _free_contribution(self, member_id: int, locale: str, at: datetime) -> dict[str, Any]:
        """A tip, question, experience report or watch link, in the member's language."""
        # The main stream draws a tip's text and link as it always did; the kind, and the
        # words of any other kind, come from the voice's stream.
        text, link = self.rng.choice(texts.SHARES[locale]), self.rng.choice(texts.LINKS)
        voice = self.voice
        kind = voice.choices(self.FREE_KINDS, self.FREE_WEIGHTS)[0]
        if kind == ContributionKind.WATCH:
            text, link = voice.choice(texts.WATCHES[locale]), voice.choice(texts.WATCH_LINKS)
        elif kind != ContributionKind.SHARE:
            pool = texts.QUESTIONS if kind == ContributionKind.QUESTION else texts.EXPERIENCES
            text, link = voice.choice(pool[locale]), None
        return self._contribution(member_id, kind, at, text=text, link=link)

    def _replies(self, made: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Replies to each visible question by other members (one to three for four
        questions in five, within a few days, mostly in the question's language), and, for
        about six answered questions in ten, the asker's "this helped" on one of the replies
        (the mark on the reply, as the bot keeps it). Each reply carries its question as
        `parent` until ids are given."""
        replies: list[dict[str, Any]] = []
        questions = [
            row
            for row in made
            if row["kind"] == ContributionKind.QUESTION and row["hidden_at"] is None
        ]
        for question in questions:
            asked = question["created_at"]
            asker = self.members[question["member_id"]]
            pool = bisect_right(self._join_times, asked)
            # Most questions find someone: one reply, sometimes two or three; one in five none.
            unanswered = self.voice.random() < 0.2
            wanted = 0 if unanswered else 1 + min(2, int(self.voice.expovariate(1 / 0.7)))
            if pool < 2 or wanted == 0:
                continue
            repliers: set[int] = set()
            for _ in range(wanted * 3):
                if len(repliers) >= wanted:
                    break
                member_id = self.learners[self.voice.randrange(pool)]
                if member_id != asker.id:
                    repliers.add(member_id)
            these = []
            for member_id in sorted(repliers):
                member = self.members[member_id]
                at = asked + timedelta(hours=min(120.0, self.voice.expovariate(1 / 18)))
                if at > self.now or (member.left_at is not None and at >= member.left_at):
                    continue
                language = asker.locale if self.voice.random() < 0.8 else member.locale
                reply = self._contribution(
                    member_id,
                    ContributionKind.REPLY,
                    at,
                    text=self.voice.choice(texts.REPLIES[language]),
                    rng=self.voice,
                )
                reply["parent"] = question
                these.append(reply)
            replies += these
            visible = [reply for reply in these if reply["hidden_at"] is None]
            if visible and self.voice.random() < 0.6:
                chosen = self.voice.choice(visible)
                last = max(reply["created_at"] for reply in these)
                marked = last + timedelta(hours=self.voice.expovariate(1 / 10))
                gone = asker.left_at
                if marked <= self.now and (gone is None or marked < gone):
                    chosen["helped_at"] = marked
        return replies

    def _challenge_locale(self, challenge_id: int) -> str:
        for challenge in self.rows["challenge"]:
            if challenge["id"] == challenge_id:
                return str(challenge["locale"])
        return "en"

    def _expected(self, base_answer: float, base_share: float) -> float:
        """The expected count of contributions at these rates, from one learner in ten."""
        sample = self.learners[::10] or self.learners
        total = 0.0
        for occurrence in self.rows["challenge_occurrence"]:
            posted = occurrence["posted_at"]
            total += sum(
                min(0.95, base_answer * self._active(self.members[m], posted)) for m in sample
            )
        week = self.start
        while week < self.now:
            total += sum(
                min(0.95, base_share * self._active(self.members[m], week)) for m in sample
            )
            week += timedelta(days=7)
        return total * len(self.learners) / len(sample)

    def _contribution(
        self,
        member_id: int,
        kind: str,
        at: datetime,
        *,
        text: str,
        outcome: str | None = None,
        occurrence: int | None = None,
        link: str | None = None,
        rng: random.Random | None = None,
    ) -> dict[str, Any]:
        rng = rng or self.rng
        hidden_at = hidden_reason = hidden_by = None
        if rng.random() < 0.006:
            hidden_at = min(self.now, at + timedelta(hours=rng.uniform(1, 30)))
            hidden_reason = rng.choice(texts.HIDE_REASONS)
            hidden_by = self.animator_id
        return {
            "workspace_id": self.workspace_id,
            "member_id": member_id,
            "kind": kind,
            "outcome": outcome,
            "occurrence_id": occurrence,
            "text": text,
            "link": link,
            "created_at": at,
            "updated_at": at,
            "hidden_at": hidden_at,
            "hidden_by_id": hidden_by,
            "hidden_reason": hidden_reason,
            "post_key": None,
            "parent_id": None,
            "helped_at": None,
        }

    def _likes(self) -> None:
        mean = self.volume.likes_per_contribution
        likes: list[dict[str, Any]] = []
        for row in self.rows["contribution"]:
            if row["hidden_at"] is not None or mean <= 0:
                continue
            # A reply, read in its question's thread, draws fewer reactions; its draws come
            # from the voice's stream (the rest of the community stays the seed's).
            reply = row["kind"] == ContributionKind.REPLY
            rng = self.voice if reply else self.rng
            author = self.members[row["member_id"]]
            wanted = min(
                15,
                int(
                    rng.expovariate(1 / (mean / 2 if reply else mean))
                    * (0.6 + 0.4 * min(3.0, author.engagement))
                ),
            )
            pool = bisect_right(self._join_times, row["created_at"])
            if wanted == 0 or pool < 2:
                continue
            likers: set[int] = set()
            for _ in range(wanted * 2):
                if len(likers) >= wanted:
                    break
                liker = self.learners[rng.randrange(pool)]
                if liker != author.id:
                    likers.add(liker)
            for liker in sorted(likers):
                at = row["created_at"] + timedelta(hours=rng.expovariate(1 / 14))
                left = self.members[liker].left_at
                if at > self.now or (left is not None and at >= left):
                    continue
                # One reaction per person: now and then a "not useful to me" instead.
                kind = (
                    ReactionKind.DISLIKE
                    if self.voice.random() < self.volume.dislike_share
                    else ReactionKind.LIKE
                )
                likes.append(
                    {
                        "contribution_id": row["id"],
                        "member_id": liker,
                        "created_at": at,
                        "kind": kind,
                    }
                )
        self.rows["contribution_like"] = self.ids.number("contribution_like", likes, "created_at")

    # --- pulses, answers, referrals ----------------------------------------------------------

    def _pulses(self) -> None:
        specs: list[dict[str, Any]] = []
        for session in self.sessions:
            specs.append(self._session_pulse(session))
        session_answers = sum(len(s.members) for s in self.sessions) * 0.62
        community_count = 1
        target = self.volume.pulse_answers
        if target is not None:
            per_pulse = max(1.0, len(self.learners) * 0.6 * 0.7)
            community_count = max(1, math.ceil((target - session_answers) / per_pulse))
        for index in range(community_count):
            sent = (
                self.now
                - timedelta(days=120)
                + timedelta(days=110) * (index + 1) / (community_count + 1)
            )
            specs.append(self._community_pulse(sent))
        self.ids.number("pulse", specs, "created_at")
        self.rows["pulse"] = specs
        answers: list[dict[str, Any]] = []
        recipients: list[dict[str, Any]] = []
        for pulse in specs:
            if pulse["sent_at"] is None:
                continue
            about = self._session(pulse["session_id"])
            targets = about.members if about is not None else self._joined_by(pulse["sent_at"])
            asked = []
            for member_id in targets:
                left = self.members[member_id].left_at
                if left is None or left > pulse["sent_at"]:
                    asked.append(member_id)
            pulse["recipients"] = len(asked)
            for member_id in asked:
                recipients.append(
                    {"pulse_id": pulse["id"], "member_id": member_id, "asked_at": pulse["sent_at"]}
                )
                answer = self._answer(pulse, about, member_id)
                if answer is not None:
                    answers.append(answer)
        self.rows["pulse_recipient"] = self.ids.number("pulse_recipient", recipients, "asked_at")
        self.rows["pulse_answer"] = self.ids.number("pulse_answer", answers, "created_at")
        self._answer_history()
        self._freeze()
        self._referrals()

    def _session(self, session_id: int | None) -> _Session | None:
        if session_id is None:
            return None
        return self._sessions_by_id[session_id]

    @property
    def _sessions_by_id(self) -> dict[int, _Session]:
        if not hasattr(self, "_by_id"):
            self._by_id = {s.id: s for s in self.sessions}
        return self._by_id

    def _session_pulse(self, session: _Session) -> dict[str, Any]:
        send_at = session.closed_at + timedelta(days=PULSE_AFTER_CLOSE_DAYS)
        created = session.opened_at + timedelta(minutes=self.rng.randint(20, 180))
        pulse = self._pulse_row(send_at, created, session.trainer_id, session.conversation)
        pulse["session_id"] = session.id
        pulse["after_close_days"] = PULSE_AFTER_CLOSE_DAYS
        return pulse

    def _community_pulse(self, sent: datetime) -> dict[str, Any]:
        created = sent - timedelta(days=1)
        return self._pulse_row(sent, created, self.animator_id, COMMUNITY_CONVERSATION)

    def _pulse_row(
        self, send_at: datetime, created: datetime, by: int | None, conversation: str
    ) -> dict[str, Any]:
        row: dict[str, Any] = {
            "workspace_id": self.workspace_id,
            "session_id": None,
            "created_by_id": by,
            "conversation": conversation,
            "status": PulseStatus.SCHEDULED,
            "send_at": send_at,
            "after_close_days": None,
            "until_at": None,
            "closes_at": None,
            "sent_at": None,
            "closed_at": None,
            "cancelled_at": None,
            "reminders_sent": 0,
            "next_reminder_at": None,
            "recipients": 0,
            "final_sums": None,
            "created_at": created,
        }
        if send_at > self.now:
            return row
        closes = send_at + timedelta(days=PULSE_OPEN_DAYS)
        reminder = send_at + timedelta(days=REMINDER_AFTER_DAYS)
        row.update(sent_at=send_at, closes_at=closes)
        if closes <= self.now:
            row.update(status=PulseStatus.CLOSED, closed_at=closes, reminders_sent=1)
        else:
            reminded = reminder <= self.now
            row.update(
                status=PulseStatus.OPEN,
                reminders_sent=1 if reminded else 0,
                next_reminder_at=None if reminded else reminder,
            )
        return row

    def _answer(
        self, pulse: dict[str, Any], session: _Session | None, member_id: int
    ) -> dict[str, Any] | None:
        member = self.members[member_id]
        rate = 0.5 + 0.12 * min(2.5, member.engagement)
        if session is None:
            rate *= 0.85
        if self.volume.pulse_answers is not None:
            rate = min(0.97, rate * 1.15)
        if self.rng.random() >= rate:
            return None
        at = pulse["sent_at"] + timedelta(days=min(6.9, self.rng.expovariate(1 / 1.1)))
        if at >= pulse["closes_at"] or at > self.now:
            return None
        if member.left_at is not None and at >= member.left_at:
            return None
        tilt = self._tilt(session)
        draw = self.rng.random()
        promoter = 0.48 + tilt + 0.05 * min(2.0, member.engagement - 1)
        detractor = max(0.05, 0.14 - tilt / 2)
        if draw < promoter:
            kind, score = "promoter", self.rng.choice((9, 9, 10, 10, 10))
            lsat_weights = (0, 1, 8, 33, 58)
        elif draw < 1 - detractor:
            kind, score = "passive", self.rng.choice((7, 8, 8))
            lsat_weights = (1, 5, 38, 46, 10)
        else:
            kind, score = "detractor", self.rng.choice((2, 3, 4, 5, 5, 6, 6, 6))
            lsat_weights = (14, 36, 38, 10, 2)
        lsat = None
        if self.rng.random() < 0.92:
            lsat = self.rng.choices((1, 2, 3, 4, 5), lsat_weights)[0]
        comment = None
        if lsat is not None and self.rng.random() < 0.35:
            comment = self.rng.choice(texts.COMMENTS[(member.locale, kind)])
        updated = at + timedelta(seconds=25 if comment is None else 90)
        member.events.append((at, "pulse"))
        return {
            "pulse_id": pulse["id"],
            "member_id": member_id,
            "score": score,
            "lsat": lsat,
            "comment": comment,
            "created_at": at,
            "updated_at": updated if lsat is not None else at,
        }

    def _tilt(self, session: _Session | None) -> float:
        """Some trainings please more than others (the per-training NPS differs)."""
        if session is None:
            return 0.0
        return {"excel": 0.08, "management": -0.06, "data": 0.04, "sales": 0.0}.get(
            session.training.slug, -0.03
        )

    def _answer_history(self) -> None:
        if not self.volume.history:
            return
        changes: list[dict[str, Any]] = []
        for answer in self.rows["pulse_answer"]:
            base = {"pulse_id": answer["pulse_id"], "member_id": answer["member_id"]}
            at = answer["created_at"]
            changes.append(
                {
                    **base,
                    "field": PulseAnswerField.SCORE,
                    "value": str(answer["score"]),
                    "created_at": at,
                }
            )
            if answer["lsat"] is not None:
                changes.append(
                    {
                        **base,
                        "field": PulseAnswerField.LSAT,
                        "value": str(answer["lsat"]),
                        "created_at": at + timedelta(seconds=25),
                    }
                )
            if answer["comment"] is not None:
                changes.append(
                    {
                        **base,
                        "field": PulseAnswerField.COMMENT,
                        "value": answer["comment"],
                        "created_at": at + timedelta(seconds=90),
                    }
                )
        self.rows["pulse_answer_change"] = self.ids.number(
            "pulse_answer_change", changes, "created_at"
        )

    def _freeze(self) -> None:
        """A closed pulse keeps the sums of its answers (storage/pulses.freeze_sums)."""
        by_pulse: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for answer in self.rows["pulse_answer"]:
            by_pulse[answer["pulse_id"]].append(answer)
        # The (score, LSAT) grid kept at close too, where the schema has it (migration 0020).
        grid = "final_grid" in Base.metadata.tables["pulse"].c
        for pulse in self.rows["pulse"]:
            if grid:
                pulse["final_grid"] = None
            if pulse["status"] == PulseStatus.CLOSED:
                pulse["final_sums"] = final_sums(by_pulse.get(pulse["id"], []))
                if grid:
                    pulse["final_grid"] = final_grid(by_pulse.get(pulse["id"], []))

    def _referrals(self) -> None:
        """Promoters name colleagues: some on the platform (a few join a later session: the
        referral converts), some typed freely."""
        made: list[dict[str, Any]] = []
        future = {m: self.members[m].joined_at for m in self.learners}
        claimed: set[int] = set()
        # Converted referrals name someone who first joined after the answer: so that the
        # first session after it converts them (storage/referrals.convert).
        newcomers = sorted(self.learners, key=lambda m: future[m] or self.now)
        newcomer_times = [future[m] or self.now for m in newcomers]
        for answer in self.rows["pulse_answer"]:
            # About a third of promoters name someone when the form asks them to.
            if answer["score"] < 9 or self.rng.random() >= 0.35:
                continue
            pulse = self._pulse_by_id(answer["pulse_id"])
            at = answer["updated_at"] + timedelta(seconds=30)
            names: set[str] = set()
            for _ in range(self.rng.choice((1, 1, 1, 2))):
                row: dict[str, Any] = {
                    "workspace_id": self.workspace_id,
                    "pulse_id": pulse["id"],
                    "session_id": pulse["session_id"],
                    "referrer_id": answer["member_id"],
                    "referred_member_id": None,
                    "response": None,
                    "responded_at": None,
                    "converted_at": None,
                    "converted_session_id": None,
                    "created_at": at,
                }
                draw = self.rng.random()
                target = None
                if draw < 0.3:
                    start = bisect_right(newcomer_times, at + timedelta(days=5))
                    window = newcomers[start : start + 40]
                    options = [m for m in window if m not in claimed and m != answer["member_id"]]
                    if options:
                        target = self.rng.choice(options)
                        claimed.add(target)
                        member = self.members[target]
                        assert member.joined_at is not None
                        member.created_at = min(member.created_at, at - timedelta(days=2))
                        row.update(
                            referred_member_id=target,
                            converted_at=member.joined_at,
                            converted_session_id=member.joined_session,
                            response=ReferralResponse.INTERESTED,
                            responded_at=at + timedelta(hours=self.rng.uniform(1, 48)),
                        )
                        self.members[answer["member_id"]].events.append(
                            (member.joined_at, "referral")
                        )
                if target is None and draw < 0.65 and self.colleagues:
                    target = self.rng.choice(self.colleagues)
                    colleague = self.members[target]
                    colleague.created_at = min(colleague.created_at, at - timedelta(days=1))
                    response = self.rng.choice(
                        (
                            ReferralResponse.INTERESTED,
                            ReferralResponse.NOT_NOW,
                            ReferralResponse.NOT_NOW,
                            None,
                            None,
                            ReferralResponse.STOP,
                        )
                    )
                    row.update(referred_member_id=target, response=response)
                    if response is not None:
                        row["responded_at"] = min(
                            self.now, at + timedelta(hours=self.rng.uniform(1, 72))
                        )
                    if response == ReferralResponse.STOP:
                        self._invitations_off[target] = row["responded_at"]
                if target is not None:
                    row["referred_name"] = self.members[target].name
                    row["referred_key"] = referred_key(target, "")
                else:
                    name = self.rng.choice(texts.FREE_NAMES)
                    row["referred_name"] = name
                    row["referred_key"] = referred_key(None, name)
                if row["referred_key"] in names:
                    continue
                names.add(row["referred_key"])
                made.append(row)
        self.rows["referral"] = self.ids.number("referral", made, "created_at")

    @property
    def _invitations_off(self) -> dict[int, datetime]:
        if not hasattr(self, "_stops"):
            self._stops: dict[int, datetime] = {}
        return self._stops

    def _pulse_by_id(self, pulse_id: int) -> dict[str, Any]:
        if not hasattr(self, "_pulses_by_id"):
            self._pulses_by_id = {p["id"]: p for p in self.rows["pulse"]}
        return self._pulses_by_id[pulse_id]

    # --- badges ------------------------------------------------------------------------

    def _awards(self, *, with_mentoring: bool) -> None:
        """When each member first met each level (what the bot's promotions would award)."""
        for member_id in self.learners:
            member = self.members[member_id]
            events = [e for e in member.events if with_mentoring or e[1] != "mentored"]
            member.awards = award_times(member.joined_at, events, self.ladder, self.now, self.rng)

    def _badge_rows(self) -> None:
        awards: list[dict[str, Any]] = []
        for member_id in self.learners:
            for level, at in self.members[member_id].awards.items():
                awards.append(
                    {
                        "workspace_id": self.workspace_id,
                        "member_id": member_id,
                        "level": level,
                        "rank": self.ladder.rank(level),
                        "awarded_at": at,
                        "source": BadgeSource.AUTO,
                        "granted_by_id": None,
                        "reason": None,
                        "revoked_at": None,
                        "revoked_by_id": None,
                        "revoke_reason": None,
                    }
                )
        self.rows["badge_award"] = self.ids.number("badge_award", awards, "awarded_at")
        for award in awards:
            award["uid"] = _uid(self.seed, award["id"])

    # --- mentoring -----------------------------------------------------------------------

    def _wish(self, member: _Member, joined: datetime) -> None:
        """The welcome's question "Would you like a mentor?": yes, no, or no answer."""
        draw = self.rng.random()
        if draw >= 0.45:
            return
        languages = ""
        if self.rng.random() < 0.06:
            languages = self.rng.choice(("de", "pt", "es,en", "it"))
        self._wishes[member.id] = {
            "workspace_id": self.workspace_id,
            "member_id": member.id,
            "status": WishStatus.WAITING if draw < 0.22 else WishStatus.DECLINED,
            "languages": languages,
            "waiting_reason": None,
            "updated_at": joined + timedelta(minutes=self.rng.randint(2, 600)),
        }

    @property
    def _wishes(self) -> dict[int, dict[str, Any]]:
        if not hasattr(self, "_wish_rows"):
            self._wish_rows: dict[int, dict[str, Any]] = {}
        return self._wish_rows

    def _mentoring(self) -> None:
        mentor_level = self.ladder.levels[min(MENTOR_LEVEL_RANK, len(self.ladder.levels)) - 1].id
        profiles: dict[int, dict[str, Any]] = {}
        for member_id in self.learners:
            member = self.members[member_id]
            confirmed = member.awards.get(mentor_level)
            if confirmed is None or self.rng.random() >= 0.6:
                continue
            at = confirmed + timedelta(days=self.rng.uniform(0.5, 20))
            if at > self.now:
                continue
            languages = member.locale if self.rng.random() < 0.7 else "fr,en"
            topics = ", ".join(t.topics for t in texts.TRAININGS if t.name in member.trainings)
            profiles[member_id] = {
                "workspace_id": self.workspace_id,
                "member_id": member_id,
                "status": MentorStatus.ACTIVE,
                "capacity": self.rng.choice((2, 2, 3, 3, 4)),
                "languages": languages,
                "topics": topics,
                "paused_until": None,
                "updated_at": at,
            }
        rounds: list[dict[str, Any]] = []
        pairs: list[dict[str, Any]] = []
        when = min(
            (p["updated_at"] for p in profiles.values()), default=self.now + timedelta(days=1)
        )
        when = max(when, self.start + timedelta(days=30))
        ever: set[tuple[int, int]] = set()
        load: dict[int, int] = defaultdict(int)
        active: list[dict[str, Any]] = []
        first = True
        while when <= self.now:
            # Check-ins due before this round: answered; "another" ends the pair.
            for pair in list(active):
                if pair["checked_at"] is None and pair["check_in_at"] <= when:
                    self._check_in(pair)
                    if pair["ended_at"] is not None:
                        active.remove(pair)
                        load[pair["mentor_id"]] -= 1
                        wish = self._wishes[pair["novice_id"]]
                        wish.update(status=WishStatus.WAITING, updated_at=pair["ended_at"])
            made, waiting, score = self._round(when, profiles, load, ever)
            round_id = self.ids.take("mentoring_round")
            rounds.append(
                {
                    "id": round_id,
                    "workspace_id": self.workspace_id,
                    "run_by_id": self.animator_id if first else None,
                    "pairs": len(made),
                    "waiting": waiting,
                    "repeats_avoided": 0,
                    "score": round(score, 2),
                    "created_at": when,
                }
            )
            first = False
            for mentor_id, novice_id in made:
                pair = {
                    "workspace_id": self.workspace_id,
                    "round_id": round_id,
                    "mentor_id": mentor_id,
                    "novice_id": novice_id,
                    "created_at": when,
                    "check_in_at": when + timedelta(days=CHECK_IN_DAYS),
                    "checked_at": None,
                    "mentor_answer": None,
                    "novice_answer": None,
                    "ended_at": None,
                    "end_reason": None,
                }
                pairs.append(pair)
                active.append(pair)
            when += timedelta(days=ROUND_EVERY_DAYS)
        for pair in active:
            if pair["checked_at"] is None and pair["check_in_at"] <= self.now:
                self._check_in(pair)
                if pair["ended_at"] is not None:  # waits for the next round
                    wish = self._wishes[pair["novice_id"]]
                    wish.update(
                        status=WishStatus.WAITING, waiting_reason=None, updated_at=pair["ended_at"]
                    )
        self.rows["mentor_profile"] = self.ids.number(
            "mentor_profile", list(profiles.values()), "updated_at"
        )
        self.rows["mentee_wish"] = self.ids.number(
            "mentee_wish", list(self._wishes.values()), "updated_at"
        )
        self.rows["mentoring_round"] = rounds
        self.rows["mentoring_pair"] = self.ids.number("mentoring_pair", pairs, "created_at")

    def _round(
        self,
        when: datetime,
        profiles: dict[int, dict[str, Any]],
        load: dict[int, int],
        ever: set[tuple[int, int]],
    ) -> tuple[list[tuple[int, int]], int, float]:
        """One round, greedily: each waiting novice (oldest wish first) gets the mentor with
        room who speaks one of their languages and shares the most with them."""
        mentors = [p for p in profiles.values() if p["updated_at"] <= when]
        # Mentors by language, and those with room (kept up to date as places are taken):
        # a round of tens of thousands of novices stays linear.
        speakers: dict[str, int] = defaultdict(int)
        room: dict[str, _Pool] = defaultdict(_Pool)
        for profile in mentors:
            for language in profile["languages"].split(","):
                speakers[language] += 1
                if load[profile["member_id"]] < profile["capacity"]:
                    room[language].add(profile)
        room_at_start = {language for language, found in room.items() if found.items}
        waiting = sorted(
            (
                w
                for w in self._wishes.values()
                if w["status"] == WishStatus.WAITING
                and w["updated_at"] <= when
                and self.members[w["member_id"]].left_at is None
            ),
            key=lambda w: w["updated_at"],
        )
        made: list[tuple[int, int]] = []
        score = 0.0
        left = 0
        for wish in waiting:
            novice = self.members[wish["member_id"]]
            wanted = sorted(set((wish["languages"] or novice.locale).split(",")))
            open_places = [
                p
                for language in wanted
                if language in room
                for p in room[language].sample(self.rng)
            ]
            fresh = [
                p
                for p in open_places
                if load[p["member_id"]] < p["capacity"]
                and (novice.id, p["member_id"]) not in ever
                and p["member_id"] != novice.id
            ]
            if not fresh:
                left += 1
                if not any(speakers.get(language) for language in wanted):
                    wish["waiting_reason"] = NO_LANGUAGE
                elif any(language in room and room[language].items for language in wanted):
                    wish["waiting_reason"] = ONLY_PREVIOUS
                elif any(language in room_at_start for language in wanted):
                    wish["waiting_reason"] = OUTNUMBERED
                else:
                    wish["waiting_reason"] = LANGUAGE_FULL
                continue

            def fit(profile: dict[str, Any], novice: _Member = novice) -> float:
                shared = novice.trainings & self.members[profile["member_id"]].trainings
                return 3.0 * bool(shared) - load[profile["member_id"]] + self.rng.random()

            chosen = max(fresh, key=fit)
            mentor_id = chosen["member_id"]
            load[mentor_id] += 1
            if load[mentor_id] >= chosen["capacity"]:
                for language in chosen["languages"].split(","):
                    room[language].remove(mentor_id)
            ever.add((novice.id, mentor_id))
            made.append((mentor_id, novice.id))
            shared = novice.trainings & self.members[mentor_id].trainings
            score += 10.0 + (2.0 if shared else 0.0) - (load[mentor_id] - 1)
            wish.update(status=WishStatus.PAIRED, waiting_reason=None, updated_at=when)
        return made, left, score

    def _check_in(self, pair: dict[str, Any]) -> None:
        """Both are asked "Have you met?" at check-in time; most answer."""
        checked = pair["check_in_at"] + timedelta(seconds=3)
        pair["checked_at"] = checked
        draw = self.rng.random()
        answered = checked + timedelta(hours=self.rng.uniform(1, 40))
        if draw < 0.62:
            pair["novice_answer"] = CheckInAnswer.MET
            pair["mentor_answer"] = CheckInAnswer.MET if self.rng.random() < 0.9 else None
        elif draw < 0.86:
            pair["novice_answer"] = CheckInAnswer.NOT_YET
            pair["mentor_answer"] = self.rng.choice((CheckInAnswer.NOT_YET, None))
        elif draw < 0.92 and answered < self.now:
            pair["novice_answer"] = CheckInAnswer.ANOTHER
            pair["ended_at"] = answered
            pair["end_reason"] = PairEndReason.ANOTHER
        if answered > self.now:
            pair["novice_answer"] = pair["mentor_answer"] = None
            return
        if CheckInAnswer.MET in (pair["novice_answer"], pair["mentor_answer"]):
            self.members[pair["mentor_id"]].events.append((answered, "mentored"))

    # --- the members' final state ---------------------------------------------------------

    def _member_rows(self) -> None:
        for row in self.rows["member"]:
            member = self.members[row["id"]]
            row["created_at"] = member.created_at
            row["joined_at"] = member.joined_at
            row["joined_session_id"] = member.joined_session
            row["left_at"] = member.left_at
            row["invitations_off_at"] = self._invitations_off.get(member.id)
            if member.awards:
                row["level"] = max(member.awards, key=self.ladder.rank)
            if row["role"] == MemberRole.LEARNER and self.rng.random() < 0.1:
                row["locale"] = member.locale  # chose it with `settings language`
        for wish in self.rows["mentee_wish"]:
            if wish["status"] != WishStatus.WAITING:
                wish["waiting_reason"] = None
        self.rows["membership_event"] = self.ids.number(
            "membership_event", self.rows["membership_event"], "created_at"
        )


# --- what the bot computes, replayed -------------------------------------------------------


def final_sums(answers: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """The sums storage/pulses.freeze_sums keeps for a closed pulse with these answers."""
    paired = [(a["score"], a["lsat"]) for a in answers if a["lsat"] is not None]
    lsat_sum = sum(y for _, y in paired)
    return {
        "answers": len(answers),
        "promoters": sum(1 for a in answers if a["score"] >= 9),
        "detractors": sum(1 for a in answers if a["score"] <= 6),
        "lsat_count": len(paired),
        "lsat_sum": lsat_sum,
        "pairs": len(paired),
        "sum_x": sum(x for x, _ in paired),
        "sum_y": lsat_sum,
        "sum_xx": sum(x * x for x, _ in paired),
        "sum_yy": sum(y * y for _, y in paired),
        "sum_xy": sum(x * y for x, y in paired),
    }


def final_grid(answers: Sequence[Mapping[str, Any]]) -> list[list[int | None]]:
    """The (score, LSAT) counts a closed pulse keeps (storage/pulses.frozen_grid):
    [[score, lsat or null, n], …] by score, then LSAT (a missing LSAT first)."""
    counted: Counter[tuple[int, int | None]] = Counter((a["score"], a["lsat"]) for a in answers)
    return [
        [score, lsat, n]
        for (score, lsat), n in sorted(counted.items(), key=lambda c: (c[0][0], c[0][1] or 0))
    ]


# What each ladder event counts toward (storage/badges.member_counts): a question is a
# share and a question; a reply counts as a reply only.
_KIND_COUNTS: dict[str, tuple[str, ...]] = {
    "answer": ("challenge_answers",),
    "share": ("shares",),
    "question": ("shares", "questions"),
    "experience": ("shares", "experiences"),
    "watch": ("shares", "watches"),
    "reply": ("replies",),
    "pulse": ("pulse_answers",),
    "referral": ("converted_referrals",),
    "mentored": ("novices_mentored",),
    "sessions": ("sessions",),
}
# Counters whose daily cap, when they have none of their own, is that of `shares`.
_CAPPED_AS_SHARES = ("questions", "experiences", "watches", "replies")


def award_times(
    joined_at: datetime | None,
    events: list[tuple[datetime, str]],
    ladder: Ladder,
    now: datetime,
    rng: random.Random,
) -> dict[str, datetime]:
    """When each level was first met by a member with these events (storage/badges.award_due
    replayed over time): answers and shares capped per UTC day, the days as a member passed
    by the hourly promotion (within the hour), the event-driven ones within seconds."""
    if joined_at is None:
        return {}
    thresholds = {
        days
        for level in ladder.levels
        for group in (level.requires, level.requires_one_of)
        for kind, days in group.items()
        if kind == "days_member"
    }
    moments = sorted(
        [(at, kind) for at, kind in events if at <= now]
        + [
            (joined_at + timedelta(days=d), "time")
            for d in thresholds
            if joined_at + timedelta(days=d) <= now
        ]
        + [(joined_at, "time")]
    )
    counts: dict[str, int] = defaultdict(int)
    per_day: dict[tuple[str, date], int] = defaultdict(int)
    caps = ladder.daily_caps
    points = ladder.points
    found: dict[str, datetime] = {}
    rules = [(level, *ladder.cumulative(level)) for level in ladder.levels]
    for at, kind in moments:
        for counted in _KIND_COUNTS.get(kind, ()):
            cap = caps.get(counted)
            if cap is None and counted in _CAPPED_AS_SHARES:
                cap = caps.get("shares")
            key = (counted, at.astimezone(UTC).date())
            per_day[key] += 1
            if cap is None or per_day[key] <= cap:
                counts[counted] += 1
                counts["points"] += points.get(counted, 0)
        counts["contributions"] = counts["challenge_answers"] + counts["shares"]
        for level, requires, groups in rules:
            if level.id in found:
                continue
            if all(
                _meets(counts, joined_at, at, kind_, needed) for kind_, needed in requires.items()
            ) and all(
                any(_meets(counts, joined_at, at, k, n) for k, n in group.items())
                for group in groups
            ):
                delay = (
                    timedelta(minutes=rng.uniform(1, 59))
                    if kind == "time"
                    else timedelta(seconds=rng.uniform(1, 5))
                )
                found[level.id] = min(now, at + delay)
    return found


def _meets(
    counts: Mapping[str, int], joined_at: datetime, at: datetime, kind: str, needed: int
) -> bool:
    if kind == "days_member":
        return joined_at <= at - timedelta(days=needed)
    return counts.get(kind, 0) >= needed
