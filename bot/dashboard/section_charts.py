"""Each section of the dashboard as charts, in the reader's language: what the page draws
as inline SVG (bot/dashboard/svg.py) and the PDF snapshot draws with reportlab — one place
decides what a chart shows, so the two agree.

Every function takes the section's figures (bot/steering/model.py) and a translator, and
returns a `Chart`. Aggregates over fewer than `bot.core.stats.MIN_ANSWERS` answers are no
value (a gap), as elsewhere; so is a scatter over fewer answers than that.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from zoneinfo import ZoneInfo

from babel.dates import format_date

from bot.core import stats
from bot.dashboard.charts import (
    Chart,
    Value,
    bar_chart,
    heat_map,
    line_chart,
    locale_number,
    scatter_chart,
)
from bot.dashboard.headline import level_name
from bot.dashboard.tables import community_label
from bot.i18n import Translator
from bot.ladder import Ladder
from bot.steering.model import (
    Activity,
    Badges,
    Challenges,
    Funnel,
    FunnelStep,
    Mentoring,
    PulsePoint,
    Pulses,
    ReferralRow,
    Theme,
)

KEY = "dashboard.chart."
STEPS = ("present", "joined", "contributed", "junior", "confirmed")
# Past this many bars a chart stops being read; the page's tables have the rest.
MOST_MENTORS = 15


def funnel_total(
    funnel: Funnel, t: Translator, width: float = 640, height: float | None = None
) -> Chart:
    """The funnel of every session in view, step by step (horizontal bars)."""
    total = funnel.total
    return bar_chart(
        t(KEY + "funnel_total"),
        [t(KEY + f"step_{step}") for step in STEPS],
        [(t(KEY + "people"), [getattr(total, step) for step in STEPS])],
        horizontal=True,
        format_number=locale_number(t.locale),
        empty=t(KEY + "empty"),
        width=width,
        height=height,
    )


def funnel_sessions(
    funnel: Funnel, t: Translator, width: float = 640, height: float | None = None
) -> Chart:
    """The latest sessions' funnels side by side, oldest first."""
    sessions: Sequence[FunnelStep] = tuple(reversed(funnel.sessions))
    return bar_chart(
        t(KEY + "funnel_sessions"),
        [session.session_code for session in sessions],
        [(t(KEY + f"step_{step}"), [getattr(s, step) for s in sessions]) for step in STEPS],
        format_number=locale_number(t.locale),
        empty=t(KEY + "empty"),
        width=width,
        height=height,
    )


def nps(
    points: Sequence[PulsePoint],
    t: Translator,
    *,
    per: str,
    width: float = 640,
    height: float | None = None,
) -> Chart:
    """NPS from −100 to +100 per pulse (`per="pulse"`) or per month (`per="month"`)."""
    return line_chart(
        t(KEY + f"nps_{per}"),
        _point_labels(points, t, per),
        [("NPS", [stats.nps(point.sums) for point in points])],
        y_min=-100,
        y_max=100,
        format_number=locale_number(t.locale),
        empty=t(KEY + "empty"),
        width=width,
        height=height,
    )


def nps_mix(
    points: Sequence[PulsePoint],
    t: Translator,
    *,
    per: str,
    width: float = 640,
    height: float | None = None,
) -> Chart:
    """Promoters, passives and detractors stacked, per pulse or month, as shares of the
    answers (%), with the response rate beside them."""

    def shares(part: str) -> list[Value]:
        return [
            round(100 * getattr(p.sums, part) / p.sums.answers, 1)
            if p.sums.answers >= stats.MIN_ANSWERS
            else None
            for p in points
        ]

    return bar_chart(
        t(KEY + f"mix_{per}"),
        _point_labels(points, t, per),
        [(t(KEY + part), shares(part)) for part in ("promoters", "passives", "detractors")],
        stacked=True,
        value_max=100,
        unit=t(KEY + "percent_unit"),
        format_number=locale_number(t.locale),
        empty=t(KEY + "empty"),
        width=width,
        height=height,
    )


def response_rate(
    points: Sequence[PulsePoint],
    t: Translator,
    *,
    per: str,
    width: float = 640,
    height: float | None = None,
) -> Chart:
    """Answers as a share of those asked (%), per pulse or month."""
    return line_chart(
        t(KEY + f"rate_{per}"),
        _point_labels(points, t, per),
        [
            (
                t(KEY + "response_rate"),
                [round(100 * p.sums.answers / p.asked, 1) if p.asked else None for p in points],
            )
        ],
        y_min=0,
        y_max=100,
        unit=t(KEY + "percent_unit"),
        format_number=locale_number(t.locale),
        empty=t(KEY + "empty"),
        width=width,
        height=height,
    )


def lsat(
    points: Sequence[PulsePoint],
    t: Translator,
    *,
    per: str,
    width: float = 640,
    height: float | None = None,
) -> Chart:
    """Mean satisfaction (1-5) per pulse or month."""
    return line_chart(
        t(KEY + f"lsat_{per}"),
        _point_labels(points, t, per),
        [("LSAT", [stats.lsat_mean(point.sums) for point in points])],
        y_min=1,
        y_max=5,
        format_number=locale_number(t.locale),
        empty=t(KEY + "empty"),
        width=width,
        height=height,
    )


def scatter(
    pulses: Pulses, t: Translator, width: float = 640, height: float | None = None
) -> Chart:
    """NPS score × LSAT, bubbles sized by answers, with r and n."""
    number = locale_number(t.locale)
    correlation = stats.correlation(pulses.total)
    if correlation.r is None:
        reason = t(KEY + f"r_{correlation.reason or 'too_few'}")
        note = t(KEY + "r_none", reason=reason, n=number(correlation.n))
    else:
        note = t(KEY + "r_note", r=t.number(correlation.r, 2), n=number(correlation.n))
    answers = sum(pulses.grid.values())
    points = (
        [(x, y, n) for (x, y), n in pulses.grid.items()] if answers >= stats.MIN_ANSWERS else []
    )
    return scatter_chart(
        t(KEY + "scatter"),
        points,
        t(KEY + "scatter_x"),
        t(KEY + "scatter_y"),
        (0, 10),
        (1, 5),
        note,
        format_number=number,
        empty=t(KEY + "empty"),
        width=width,
        height=height,
    )


def density(
    activity: Activity,
    t: Translator,
    width: float = 640,
    height: float | None = None,
    *,
    per_kind: bool = False,
) -> Chart:
    """LGC density: contributions per member, week by week; with `per_kind` (the page),
    also that of each kind of share (tips, questions, experience reports, watch links)."""
    weeks = sorted(activity.weeks, key=lambda week: week.week)
    kinds = ("tips", "questions", "experiences", "watches") if per_kind else ()
    return line_chart(
        t(KEY + "density_week"),
        _week_labels([week.week for week in weeks], t),
        [
            (t(KEY + "density"), [week.density for week in weeks]),
            *(
                (t(KEY + f"density_{kind}"), [week.density_of(kind) for week in weeks])
                for kind in kinds
            ),
        ],
        format_number=locale_number(t.locale),
        empty=t(KEY + "empty"),
        width=width,
        height=height,
    )


def heat(
    activity: Activity, t: Translator, width: float = 640, height: float | None = None
) -> Chart:
    """Density per week (columns) and training (rows); a week without members of a
    training is no value, not 0."""
    weeks = sorted({week for week, _ in activity.heat})
    trainings = sorted({training for _, training in activity.heat}, key=str.casefold)
    labels = dict(zip(weeks, _week_labels(weeks, t), strict=True))
    return heat_map(
        t(KEY + "heat"),
        trainings,
        [labels[week] for week in weeks],
        {(training, labels[week]): value for (week, training), value in activity.heat.items()},
        none_label=t(KEY + "no_value"),
        format_number=locale_number(t.locale),
        empty=t(KEY + "empty"),
        width=width,
        height=height,
    )


def challenges(
    section: Challenges,
    t: Translator,
    width: float = 640,
    height: float | None = None,
    zone: str = "UTC",
) -> Chart:
    """Success and not-yet per occurrence (stacked), oldest first: participation at a glance.
    Each bar is named by the challenge's number and the day it was posted (in `zone`):
    a weekly challenge's occurrences share a number."""
    runs = tuple(reversed(section.runs))
    days = _week_labels([run.posted_at.astimezone(ZoneInfo(zone)).date() for run in runs], t)
    return bar_chart(
        t(KEY + "challenges"),
        [f"#{run.number} · {day}" for run, day in zip(runs, days, strict=True)],
        [
            (t(KEY + "successes"), [run.successes for run in runs]),
            (t(KEY + "not_yets"), [run.not_yets for run in runs]),
        ],
        stacked=True,
        format_number=locale_number(t.locale),
        empty=t(KEY + "empty"),
        width=width,
        height=height,
    )


def referrals(
    rows: Sequence[ReferralRow], t: Translator, width: float = 640, height: float | None = None
) -> Chart:
    """Referrals made, invited, interested, converted, per training (grouped)."""
    return bar_chart(
        t(KEY + "referrals"),
        [community_label(row.training, row, t) for row in rows],
        [
            (t(KEY + f"referrals_{name}"), [getattr(row, name) for row in rows])
            for name in ("made", "invited", "interested", "converted")
        ],
        format_number=locale_number(t.locale),
        empty=t(KEY + "empty"),
        width=width,
        height=height,
    )


def badge_holders(
    badges: Badges, t: Translator, ladder: Ladder, width: float = 640, height: float | None = None
) -> Chart:
    """The ladder's distribution: members without a level, then each level's holders."""
    levels = badges.levels
    return bar_chart(
        t(KEY + "badges"),
        [t(KEY + "no_level")] + [level_name(ladder, lv.level, t.locale) for lv in levels],
        [(t(KEY + "holders"), [badges.without_level] + [lv.holders for lv in levels])],
        format_number=locale_number(t.locale),
        empty=t(KEY + "empty"),
        width=width,
        height=height,
    )


def promotions(
    badges: Badges, t: Translator, ladder: Ladder, width: float = 640, height: float | None = None
) -> Chart:
    """Promotions per month, stacked by level (lowest level at the bottom)."""
    months = sorted({month for month, _ in badges.per_month})
    present = {level for _, level in badges.per_month}
    known = [spec.id for spec in ladder.levels if spec.id in present]
    levels = known + sorted(present - set(known))
    return bar_chart(
        t(KEY + "promotions"),
        [_month_label(month, t) for month in months],
        [
            (
                level_name(ladder, level, t.locale),
                [badges.per_month.get((month, level), 0) for month in months],
            )
            for level in levels
        ],
        stacked=True,
        format_number=locale_number(t.locale),
        empty=t(KEY + "empty"),
        width=width,
        height=height,
    )


def time_to_level(
    badges: Badges, t: Translator, ladder: Ladder, width: float = 640, height: float | None = None
) -> Chart:
    """Median days from joining to each level (no holders: no value)."""
    return bar_chart(
        t(KEY + "time_to_level"),
        [level_name(ladder, lv.level, t.locale) for lv in badges.levels],
        [(t(KEY + "median_days"), [lv.median_days for lv in badges.levels])],
        horizontal=True,
        format_number=locale_number(t.locale),
        empty=t(KEY + "empty"),
        width=width,
        height=height,
    )


def mentor_load(
    mentoring: Mentoring, t: Translator, width: float = 640, height: float | None = None
) -> Chart:
    """Each mentor's current novices against their capacity (the busiest first)."""
    loads = sorted(mentoring.loads, key=lambda m: (-m.load, m.name.casefold()))[:MOST_MENTORS]
    return bar_chart(
        t(KEY + "mentor_load"),
        [load.name for load in loads],
        [
            (t(KEY + "novices"), [load.load for load in loads]),
            (t(KEY + "capacity"), [load.capacity for load in loads]),
        ],
        horizontal=True,
        format_number=locale_number(t.locale),
        empty=t(KEY + "empty"),
        width=width,
        height=height,
    )


# --- labels -------------------------------------------------------------------------------


def _point_labels(points: Sequence[PulsePoint], t: Translator, per: str) -> list[str]:
    if per == "month":
        return [format_date(point.when, "MMM y", locale=t.locale) for point in points]
    return [community_label(point.label, point, t) for point in points]


def _month_label(month: str, t: Translator) -> str:
    """`2026-09` as the reader writes it (`sept. 2026`); anything else as is."""
    try:
        year, number = (int(part) for part in month.split("-", 1))
        return format_date(date(year, number, 1), "MMM y", locale=t.locale)
    except ValueError:
        return month


def _week_labels(weeks: Sequence[date], t: Translator) -> list[str]:
    """Days (weeks' Mondays, posts' days) as `7 sept.`, with the year when they span more
    than one."""
    pattern = "d MMM" if len({week.year for week in weeks}) <= 1 else "d MMM y"
    return [format_date(week, pattern, locale=t.locale) for week in weeks]


def theme_feelings(
    themes: Sequence[Theme], t: Translator, *, width: float = 640, shown: int = 12
) -> Chart:
    """The biggest themes, each a bar of its posts stacked by feeling (positive, neutral,
    negative), labelled by its key words in the reader's language."""
    listed = list(themes[:shown])
    labels = [" · ".join(theme.words_in(t.locale)) or f"#{theme.number + 1}" for theme in listed]
    return bar_chart(
        t(KEY + "themes"),
        labels,
        [
            (t(KEY + "feeling_" + part), [getattr(theme.feeling, part) for theme in listed])
            for part in ("positive", "neutral", "negative")
        ],
        stacked=True,
        horizontal=True,
        format_number=locale_number(t.locale),
        empty=t(KEY + "empty"),
        width=width,
    )
