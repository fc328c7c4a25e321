"""A `Dashboard` made by hand (bot/steering/model.py): the page's tests render it without
the query layer, with hostile text where people write (names, comments, trainings)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.steering.filters import Filters
from bot.steering.model import (
    Activity,
    ActivityWeek,
    Badges,
    ChallengeRun,
    Challenges,
    Dashboard,
    Feeling,
    Funnel,
    FunnelStep,
    LevelFigures,
    Mentoring,
    MentorLoad,
    NamedAnswer,
    PulsePoint,
    Pulses,
    Quote,
    ReferralRow,
    Scope,
    Theme,
    Themes,
    WaitingNovice,
)
from storage.pulses import PulseSums
from storage.vocabulary import ContributionKind

HOSTILE = '<script>alert("x")</script>'
OPENED = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
GENERATED = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def sums(*answers: tuple[int, int | None]) -> PulseSums:
    """The sums of (score, LSAT) answers, as storage.pulses computes them."""
    total = PulseSums()
    for score, lsat in answers:
        pair = lsat is not None
        total = total + PulseSums(
            answers=1,
            promoters=int(score >= 9),
            detractors=int(score <= 6),
            lsat_count=int(pair),
            lsat_sum=lsat or 0,
            pairs=int(pair),
            sum_x=score if pair else 0,
            sum_y=lsat or 0,
            sum_xx=score * score if pair else 0,
            sum_yy=(lsat or 0) ** 2,
            sum_xy=score * (lsat or 0),
        )
    return total


# Four answers: NPS = (2 promoters − 1 detractor) / 4 = +25; two answers in October only.
SEPTEMBER = sums((10, 5), (9, 4), (7, 3), (3, 1))
OCTOBER = sums((10, 5), (2, 2))


def scope(filters: Filters | None = None, session_ids: tuple[int, ...] | None = None) -> Scope:
    """A scope offering two trainings and two sessions in its menus."""
    return Scope(
        filters=filters or Filters(),
        session_ids=session_ids,
        start=None,
        end=None,
        timezone="Europe/Paris",
        trainings=("Excel avancé", HOSTILE),
        sessions=(("K7Q2", "Excel avancé", OPENED), ("ZZ99", HOSTILE, OPENED)),
    )


def sample(filters: Filters | None = None, session_ids: tuple[int, ...] | None = None) -> Dashboard:
    """A small community's dashboard: every section has rows."""
    step = FunnelStep("K7Q2", "Excel avancé", OPENED, 12, 10, 6, 5, 2)
    return Dashboard(
        scope=scope(filters, session_ids),
        generated_at=GENERATED,
        funnel=Funnel(sessions=(step,), total=step, sessions_in_scope=1),
        pulses=Pulses(
            per_pulse=(
                PulsePoint("#1 Excel avancé", date(2026, 9, 30), SEPTEMBER, 8),
                PulsePoint("#2 " + HOSTILE, date(2026, 10, 30), OCTOBER, 4),
            ),
            per_month=(
                PulsePoint("2026-09", date(2026, 9, 1), SEPTEMBER, 8),
                PulsePoint("2026-10", date(2026, 10, 1), OCTOBER, 4),
            ),
            total=SEPTEMBER + OCTOBER,
            asked=12,
            grid={(10, 5): 2, (9, 4): 1, (7, 3): 1, (3, 1): 1, (2, 2): 1},
            named=(
                NamedAnswer(
                    HOSTILE,
                    "#1 Excel avancé",
                    datetime(2026, 10, 1, 9, 0, tzinfo=UTC),
                    10,
                    5,
                    '=HYPERLINK("https://evil.example")',
                    ("Dana", HOSTILE),
                ),
            ),
        ),
        activity=Activity(
            weeks=(
                ActivityWeek(date(2026, 9, 7), 10, 4, 3, 1, 2, 5, 5),
                ActivityWeek(date(2026, 9, 14), 10, 0, 0, 0, 0, 0, 0),
            ),
            members=10,
            contributors=6,
            heat={(date(2026, 9, 7), "Excel avancé"): 0.6, (date(2026, 9, 7), HOSTILE): 0.25},
        ),
        challenges=Challenges(
            runs=(ChallengeRun(3, OPENED, HOSTILE, 4, 3, 1),),
            occurrences=1,
            answers=4,
            successes=3,
            not_yets=1,
        ),
        referrals=(ReferralRow("Excel avancé", 5, 3, 2, 1),),
        badges=Badges(
            levels=(
                LevelFigures("junior", 3, 5, 4.0),
                LevelFigures("confirmed", 2, 2, 31.5),
                LevelFigures("senior", 0, 0, None),
            ),
            per_month={("2026-09", "junior"): 4, ("2026-10", "confirmed"): 2},
            without_level=5,
        ),
        mentoring=Mentoring(
            pairs=3,
            active=2,
            checked=2,
            met=1,
            repeats_avoided=0,
            waiting=(WaitingNovice(HOSTILE, OPENED, "mentors_full"),),
            loads=(MentorLoad("Nina", 2, 3),),
        ),
        voice=Themes(
            themes=(
                Theme(
                    number=0,
                    names={"fr": ("délégation", "équipe"), "en": ("delegation", HOSTILE)},
                    posts=5,
                    before=2,
                    now=4,
                    questions=2,
                    experiences=1,
                    feeling=Feeling(positive=3, neutral=1, negative=1),
                    quotes=(Quote(7, HOSTILE, ContributionKind.QUESTION, "Dana"),),
                ),
            ),
            posts=5,
            feeling=Feeling(positive=3, neutral=1, negative=1),
            found_at=GENERATED,
            by_training={"Excel avancé": Feeling(positive=3, neutral=1, negative=1)},
        ),
    )
