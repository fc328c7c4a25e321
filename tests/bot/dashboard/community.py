"""A small hand-made dashboard whose figures the tests compute by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from bot.steering.filters import Filters
from bot.steering.model import (
    Activity,
    ActivityWeek,
    Badges,
    ChallengeRun,
    Challenges,
    Dashboard,
    Funnel,
    FunnelStep,
    LevelFigures,
    Mentoring,
    MentorLoad,
    PulsePoint,
    Pulses,
    ReferralRow,
    Scope,
)
from storage.pulses import PulseSums

# Ten answers (score, LSAT): 6 promoters, 3 passives, 1 detractor → NPS +50; LSAT 40/10.
ANSWERS = [(10, 5), (10, 5), (9, 5), (9, 4), (10, 4), (9, 4), (8, 4), (7, 3), (8, 4), (3, 2)]
GENERATED = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)


def sums(answers: list[tuple[int, int]]) -> PulseSums:
    return PulseSums(
        answers=len(answers),
        promoters=sum(1 for x, _ in answers if x >= 9),
        detractors=sum(1 for x, _ in answers if x <= 6),
        lsat_count=len(answers),
        lsat_sum=sum(y for _, y in answers),
        pairs=len(answers),
        sum_x=sum(x for x, _ in answers),
        sum_y=sum(y for _, y in answers),
        sum_xx=sum(x * x for x, _ in answers),
        sum_yy=sum(y * y for _, y in answers),
        sum_xy=sum(x * y for x, y in answers),
    )


def week(start: date, members: int, answers: int, shares: int) -> ActivityWeek:
    return ActivityWeek(start, members, answers, answers // 2, answers - answers // 2, shares, 3, 3)


def dashboard(*, empty: bool = False) -> Dashboard:
    monday = date(2026, 10, 19)
    weeks = [
        week(monday + timedelta(weeks=n), members, answers, shares)
        for n, (members, answers, shares) in enumerate(
            # The last four: 90 member-weeks, 9 + 15 + 15 + 24 = 63 contributions → 0.70.
            [(10, 40, 0), (15, 0, 0), (20, 9, 0), (20, 12, 3), (25, 10, 5), (25, 20, 4)]
        )
    ]
    first, second = ANSWERS[:5], ANSWERS[5:]
    months = (
        PulsePoint("2026-10", date(2026, 10, 1), sums(first), 10),
        PulsePoint("2026-11", date(2026, 11, 1), sums(second[:2]), 10),  # too few: no NPS
    )
    opened = datetime(2026, 9, 1, 9, tzinfo=UTC)
    total = FunnelStep("", "Excel avancé", opened, None, 40, 18, 18, 6)
    sessions = (  # newest first, as the model gives them
        FunnelStep("K7Q2", "Excel avancé", opened + timedelta(days=30), 25, 22, 10, 10, 2),
        FunnelStep("B3ZT", "Excel avancé", opened, None, 18, 8, 8, 4),
    )
    per_pulse = (
        PulsePoint("#1 Excel avancé", date(2026, 10, 2), sums(first), 10),
        PulsePoint("#2 Excel avancé", date(2026, 11, 2), sums(second), 10),
    )
    runs = (  # newest first
        ChallengeRun(3, opened + timedelta(days=20), "Un TCD", 6, 4, 2),
        ChallengeRun(2, opened + timedelta(days=13), "RECHERCHEX", 0, 0, 0),
        ChallengeRun(1, opened + timedelta(days=6), "Somme.si", 9, 8, 1),
    )
    grid: dict[tuple[int, int], int] = {}
    for answer in ANSWERS:
        grid[answer] = grid.get(answer, 0) + 1
    heat = {
        (monday, "Excel avancé"): 0.5,
        (monday, "Power BI"): 0.0,
        (monday + timedelta(weeks=1), "Excel avancé"): 1.25,
    }
    return Dashboard(
        scope=Scope(
            Filters(training="Excel avancé", start=date(2026, 9, 1), end=date(2026, 11, 30)),
            session_ids=(1, 2),
            start=None,
            end=None,
            timezone="Europe/Paris",
        ),
        generated_at=GENERATED,
        funnel=Funnel(() if empty else sessions, total, 2),
        pulses=Pulses(
            per_pulse=() if empty else per_pulse,
            per_month=() if empty else months,
            total=PulseSums() if empty else sums(ANSWERS),
            asked=0 if empty else 20,
            grid={} if empty else grid,
        ),
        activity=Activity(weeks=() if empty else tuple(weeks), members=0 if empty else 40,
                          contributors=0 if empty else 18, heat={} if empty else heat),
        challenges=Challenges(() if empty else runs, 3, 15, 12, 3),
        referrals=() if empty else (
            ReferralRow("Excel avancé", 6, 4, 2, 1),
            ReferralRow("Power BI", 2, 2, 0, 0),
        ),
        badges=Badges(
            levels=(
                LevelFigures("junior", 12, 18, 10.0),
                LevelFigures("confirmed", 5, 6, 45.5),
                LevelFigures("senior", 1, 1, 120.0),
            ),
            per_month={} if empty else {
                ("2026-10", "junior"): 10, ("2026-10", "confirmed"): 2,
                ("2026-11", "senior"): 1, ("2026-11", "junior"): 8,
                ("2026-11", "confirmed"): 4,
            },
            without_level=22,
        ),
        mentoring=Mentoring(
            pairs=9, active=4, checked=0 if empty else 8, met=0 if empty else 6,
            repeats_avoided=0, waiting=(),
            loads=tuple(MentorLoad(f"Mentor {n}", n % 3, 3) for n in range(20)),
        ),
    )  # fmt: skip
