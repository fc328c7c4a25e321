"""The dashboard's figures as plain data: what `bot/steering/figures.gather` returns and
what the page (bot/dashboard/), its CSV exports (`Table`, built by
bot/dashboard/tables.py in the reader's language) and its PDF snapshot draw.

Language-neutral: dates are dates, levels and reasons are codes, None means "not enough
answers to say" (fewer than `bot.core.stats.MIN_ANSWERS`) or "unknown"; the page
translates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from bot.steering.filters import Filters
from storage.pulses import PulseSums
from storage.vocabulary import ContributionKind, Sentiment

# A table cell: text, a count, a figure, a day or an instant, or nothing to say.
Cell = str | int | float | date | datetime | None


@dataclass(frozen=True)
class Table:
    """One table of the page, and its CSV.

    `key` names the CSV (`<key>.csv`) and the page's anchor; `columns` are column codes
    (the page reads the header as the catalogue's `dashboard.col.<code>`); each row has one
    cell per column.
    """

    key: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


@dataclass(frozen=True)
class Scope:
    """The filters resolved against the database: which sessions, which instants."""

    filters: Filters
    # None: every session of the workspace; else exactly these (empty: nothing matched).
    session_ids: tuple[int, ...] | None
    # [start, end) in UTC, from the filters' days in the viewer's time zone; None: open.
    start: datetime | None
    end: datetime | None
    timezone: str
    # The trainings and sessions the filter menus offer: (name) and (code, name, opened_at).
    trainings: tuple[str, ...] = ()
    sessions: tuple[tuple[str, str, datetime], ...] = ()
    # How many sessions the workspace has when the menu lists only the latest of them.
    sessions_total: int | None = None


# --- sign-up funnel -----------------------------------------------------------------------


@dataclass(frozen=True)
class FunnelStep:
    """One session's funnel: present → joined → contributed → Junior → Confirmed.

    `present` is None when nobody could count who was there (the platform did not say).
    Contributed counts a contribution at any time; Junior and Confirmed count the current
    level (`member.level`, the highest award not revoked), so a Junior now Senior counts at
    both and a revoked award at neither.
    """

    session_code: str
    training: str
    opened_at: datetime
    present: int | None
    joined: int
    contributed: int
    junior: int
    confirmed: int


@dataclass(frozen=True)
class Funnel:
    """The funnel of the latest sessions in scope (newest first), and of all of them."""

    sessions: tuple[FunnelStep, ...]
    total: FunnelStep
    sessions_in_scope: int


# --- pulses -------------------------------------------------------------------------------

# What `PulsePoint.label` and `ReferralRow.training` say for pulses about the whole
# community (no session): a code the page translates (their `community` flag says it,
# so that a training named "community" is not mistaken for it).
COMMUNITY = "community"


@dataclass(frozen=True)
class PulsePoint:
    """NPS and LSAT of one pulse or one month: the sums (NPS, LSAT and r come from
    bot/core/stats) and how many were asked (the response rate's denominator)."""

    label: str  # a pulse: "#12 Excel avancé"; a month: "2026-09"; a training: its name
    when: date
    sums: PulseSums
    asked: int
    # A pulse (or the training) about the whole community: the label says COMMUNITY.
    community: bool = False


@dataclass(frozen=True)
class NamedAnswer:
    """A named answer, for animators: who, about what, score, LSAT, comment, whom they
    recommend the training to."""

    name: str
    pulse_label: str
    answered_at: datetime
    score: int
    lsat: int | None
    comment: str | None
    recommends: tuple[str, ...]


@dataclass(frozen=True)
class Pulses:
    """NPS over time (per pulse, per month), the total, the score × LSAT grid, named
    answers. The total is the figure `pulse results all` gives for the same scope."""

    per_pulse: tuple[PulsePoint, ...]
    per_month: tuple[PulsePoint, ...]
    total: PulseSums
    asked: int
    # (score 0-10, LSAT 1-5) → how many answers; the scatter's points.
    grid: dict[tuple[int, int], int] = field(default_factory=dict)
    named: tuple[NamedAnswer, ...] = ()
    # Per training (its sessions' pulses added up; `when` its first pulse's day), in the
    # order of their first pulse: `pulse results all`'s per-training lines.
    per_training: tuple[PulsePoint, ...] = ()
    # How many pulses are in scope when `per_pulse` holds only the latest of them (the
    # page's view); None: `per_pulse` is every one (the CSV, the chat).
    pulses_in_scope: int | None = None


# --- learner-generated content ------------------------------------------------------------


@dataclass(frozen=True)
class ActivityWeek:
    """One UTC week (named by its Monday, as the rollup files it) of learner-generated content.

    `members`: the community that week (joined by its end, not left): the denominator of
    the density. Likes given are those the scope's members gave; received, those their
    contributions received (they differ once the scope is a training or a session).
    """

    week: date
    members: int
    answers: int
    successes: int
    not_yets: int
    shares: int  # every free contribution: tips, questions, experience reports, watches
    likes_given: int
    likes_received: int
    # Of `shares`, those of each kind (the rest are tips).
    questions: int = 0
    experiences: int = 0
    watches: int = 0
    # "Not useful to me" their contributions received (never given by anyone's count).
    dislikes_received: int = 0
    # Replies to questions (neither in `shares` nor in `contributions`: shown beside them).
    replies: int = 0

    @property
    def tips(self) -> int:
        """Plain tips: the shares that are none of the other kinds."""
        return self.shares - self.questions - self.experiences - self.watches

    @property
    def contributions(self) -> int:
        """Answers and shares."""
        return self.answers + self.shares

    @property
    def density(self) -> float | None:
        """Contributions per member that week; None without members."""
        return self.contributions / self.members if self.members else None

    def density_of(self, kind: str) -> float | None:
        """Shares of one kind (`tips`, `questions`, `experiences`, `watches`) per member that week;
        None without members."""
        return getattr(self, kind) / self.members if self.members else None


@dataclass(frozen=True)
class Activity:
    """LGC density week by week, who contributed at least once, and the week × training
    heat map (contributions per member of that training that week)."""

    weeks: tuple[ActivityWeek, ...]
    members: int
    contributors: int  # members in scope with at least one contribution, ever in the period
    heat: dict[tuple[date, str], float] = field(default_factory=dict)
    # How many trainings the heat map has when `heat` holds only the biggest of them (the
    # page's view); None: every training.
    heat_trainings: int | None = None


# --- challenges ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ChallengeRun:
    """One posted occurrence of a challenge: how many answered, successes, not-yets."""

    number: int  # the challenge's number, as people know it
    posted_at: datetime
    excerpt: str
    answers: int
    successes: int
    not_yets: int


@dataclass(frozen=True)
class Challenges:
    """The latest occurrences in scope (newest first) and the totals over all of them."""

    runs: tuple[ChallengeRun, ...]
    occurrences: int
    answers: int
    successes: int
    not_yets: int


# --- referrals ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReferralRow:
    """Referrals made in pulses about one training: made, invited on the platform,
    interested (said yes to the invitation), converted (joined a later session)."""

    training: str
    made: int
    invited: int
    interested: int
    converted: int
    # Referrals from pulses about the whole community: `training` says COMMUNITY.
    community: bool = False


# --- badges -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LevelFigures:
    """One level of the ladder: current holders (its highest level), promotions to it,
    median days from joining to it (None without holders)."""

    level: str
    holders: int
    awarded: int
    median_days: float | None


@dataclass(frozen=True)
class Badges:
    """The ladder's distribution, promotions per month and level, time to each level."""

    levels: tuple[LevelFigures, ...]
    # (month "2026-09", level) → promotions that month.
    per_month: dict[tuple[str, str], int] = field(default_factory=dict)
    without_level: int = 0


# --- mentoring ----------------------------------------------------------------------------


@dataclass(frozen=True)
class WaitingNovice:
    """A novice waiting for a mentor and why (a code of mentoring.reason_*)."""

    name: str
    since: datetime
    reason: str | None
    # The languages they asked for, else their own; empty: the workspace's language.
    languages: tuple[str, ...] = ()


@dataclass(frozen=True)
class MentorLoad:
    """A volunteer mentor's current novices against their capacity."""

    name: str
    load: int
    capacity: int


@dataclass(frozen=True)
class Mentoring:
    """The figures of `mentoring stats`, and the waiting list and loads (whole for the chat
    and the CSV, cut for the page: see `waiting_count`)."""

    pairs: int
    active: int
    checked: int
    met: int
    repeats_avoided: int
    waiting: tuple[WaitingNovice, ...]
    loads: tuple[MentorLoad, ...]
    # When the lists are cut (the page's view: the novices waiting longest, the busiest
    # mentors): how many novices wait, how many mentors are available, and their novices
    # and capacity added up. None: the lists are whole (the CSV, the chat).
    waiting_count: int | None = None
    mentors_count: int | None = None
    load_sum: int | None = None
    capacity_sum: int | None = None

    @property
    def met_rate(self) -> float | None:
        """Share of checked pairs that met, 0-1; None before any check-in."""
        return self.met / self.checked if self.checked else None


# --- the page -----------------------------------------------------------------------------


# --- community voice (themes, feeling) -------------------------------------------------

# Under this many posts, a feeling or a trend is not given (as NPS under 3 answers).
MIN_POSTS_FOR_FIGURES = 5


@dataclass(frozen=True)
class Feeling:
    """How many posts are positive, neutral, negative; `net` from -100 to +100 (the
    share of positive minus the share of negative, read like an NPS)."""

    positive: int = 0
    neutral: int = 0
    negative: int = 0

    @property
    def total(self) -> int:
        """Posts counted."""
        return self.positive + self.neutral + self.negative

    @property
    def net(self) -> int | None:
        """Positive share minus negative share, in points; None under
        MIN_POSTS_FOR_FIGURES posts (one misread post would read as ±100)."""
        if self.total < MIN_POSTS_FOR_FIGURES:
            return None
        return round(100 * (self.positive - self.negative) / self.total)

    def plus(self, sentiment: Sentiment, count: int = 1) -> Feeling:
        """This feeling with `count` more posts of `sentiment`."""
        return Feeling(
            self.positive + (count if sentiment == Sentiment.POSITIVE else 0),
            self.neutral + (count if sentiment == Sentiment.NEUTRAL else 0),
            self.negative + (count if sentiment == Sentiment.NEGATIVE else 0),
        )


@dataclass(frozen=True)
class Quote:
    """A post quoted as an example: its words (shortened), its kind, and its author's
    name (for animators only: None otherwise)."""

    contribution_id: int
    text: str
    kind: ContributionKind
    author: str | None


@dataclass(frozen=True)
class Theme:
    """One theme in the scope."""

    number: int
    # Its key words in each language it has posts in.
    names: dict[str, tuple[str, ...]]
    posts: int
    # Posts in the window before (the trend); None when there is no window to compare.
    before: int | None
    now: int | None
    questions: int
    experiences: int
    feeling: Feeling
    quotes: tuple[Quote, ...] = ()
    # Challenge answers among its posts (they often share a challenge's words).
    answers: int = 0

    def label(self, language: str) -> str:
        """Its key words in the reader's language, then two in another ("déléguer /
        team"), so that readers of either language can tell they mean the same theme;
        "" when it has none."""
        words = " · ".join(self.words_in(language))
        other = self.other_words(language)[:2]
        return f"{words} / {' · '.join(other)}" if words and other else words

    def other_words(self, language: str) -> tuple[str, ...]:
        """Its key words in another language than `language` (so that readers of either
        language can tell they speak of the same theme), or nothing."""
        for other, words in sorted(self.names.items()):
            if other != language and words and self.names.get(language):
                return words
        return ()

    def words_in(self, language: str) -> tuple[str, ...]:
        """Its key words for a reader of `language`: in that language when the theme has
        posts in it, else in another."""
        if self.names.get(language):
            return self.names[language]
        for _, words in sorted(self.names.items()):
            if words:
                return words
        return ()

    @property
    def trend(self) -> int | None:
        """Change in posts from the window before to the latest one, in %; None when
        either window has fewer than MIN_POSTS_FOR_FIGURES posts (a change from 1 to 19
        posts is no "+1,800 %")."""
        if self.before is None or self.now is None:
            return None
        if min(self.before, self.now) < MIN_POSTS_FOR_FIGURES:
            return None
        return round(100 * (self.now - self.before) / self.before)


@dataclass(frozen=True)
class Themes:
    """The themes of a scope, biggest first, and what they were found from."""

    themes: tuple[Theme, ...]
    posts: int
    feeling: Feeling
    found_at: datetime | None
    # Posts of the workspace the voice has not read yet (not in any theme).
    unread: bool = False
    # The feeling of the posts of each training (the trainings of their authors' sessions).
    by_training: dict[str, Feeling] = field(default_factory=dict)


@dataclass(frozen=True)
class Dashboard:
    """Everything the page shows for one scope."""

    scope: Scope
    generated_at: datetime
    funnel: Funnel
    pulses: Pulses
    activity: Activity
    challenges: Challenges
    referrals: tuple[ReferralRow, ...]
    badges: Badges
    mentoring: Mentoring
    voice: Themes = field(default_factory=lambda: Themes((), 0, Feeling(), None))
