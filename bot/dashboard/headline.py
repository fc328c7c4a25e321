"""The headline figures of a dashboard, as a steering committee reads them first, in the
reader's language: members, NPS (with n and the response rate), LSAT, r, LGC density of
the last four complete weeks, who contributed, badge holders per level, mentoring met rate.

A figure that cannot be given (too few answers, no members, no check-in) reads "—" with
the reason underneath, never 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from bot.core import stats
from bot.i18n import Translator
from bot.ladder import Ladder
from bot.steering.model import Activity, Badges, Dashboard, Mentoring, Pulses

NONE = "—"
DENSITY_WEEKS = 4


@dataclass(frozen=True)
class Headline:
    """One figure: what it is, its value, and a detail (n, unit, reason it is missing)."""

    label: str
    value: str
    detail: str = ""


def headlines(dashboard: Dashboard, t: Translator, ladder: Ladder) -> list[Headline]:
    """The eight headline figures of `dashboard`, in the order the snapshot shows them."""
    key = "dashboard.snapshot."
    activity = dashboard.activity
    return [
        Headline(t(key + "kpi_members"), t.number(activity.members)),
        *_pulses(dashboard.pulses, t),
        _density(activity, t, _today(dashboard)),
        _contributed(activity, t),
        _badges(dashboard.badges, t, ladder),
        _mentoring(dashboard.mentoring, t),
    ]


def _today(dashboard: Dashboard) -> date:
    """The day the figures were made, in the view's time zone (weeks start there)."""
    zone = ZoneInfo(dashboard.scope.timezone)
    return dashboard.generated_at.astimezone(zone).date()


def level_name(ladder: Ladder, level: str, locale: str) -> str:
    """A level code as the reader's word (`confirmed` → `Confirmé`); unknown codes as is."""
    spec = next((spec for spec in ladder.levels if spec.id == level), None)
    return spec.name(locale) if spec else level


def percent(t: Translator, part: float, whole: float) -> str:
    """`part` of `whole` as a whole percentage in the reader's language (`45 %`)."""
    return t("dashboard.snapshot.percent", value=t.number(100 * part / whole))


def _pulses(pulses: Pulses, t: Translator) -> list[Headline]:
    key = "dashboard.snapshot."
    total = pulses.total
    n = t(key + "n", n=t.number(total.answers))
    score = stats.nps(total)
    if score is None:
        nps = Headline(t(key + "kpi_nps"), NONE, f"{t(key + 'not_enough')} ({n})")
    else:
        sign = "+" if round(score) > 0 else ""
        detail = n
        if pulses.asked:
            rate = percent(t, total.answers, pulses.asked)
            detail = f"{n} · {t(key + 'response_rate', rate=rate)}"
        nps = Headline(t(key + "kpi_nps"), sign + t.number(round(score)), detail)
    mean = stats.lsat_mean(total)
    lsat_n = t(key + "n", n=t.number(total.lsat_count))
    lsat = Headline(
        t(key + "kpi_lsat"),
        NONE if mean is None else t.number(mean, 1),
        lsat_n if mean is not None else f"{t(key + 'not_enough')} ({lsat_n})",
    )
    correlation = stats.correlation(total)
    r_n = t(key + "n", n=t.number(correlation.n))
    if correlation.r is None:
        reason = "no_variance" if correlation.reason == "no_variance" else "not_enough"
        r = Headline(t(key + "kpi_r"), NONE, f"{t(key + reason)} ({r_n})")
    else:
        r = Headline(t(key + "kpi_r"), t.number(correlation.r, 2), r_n)
    return [nps, lsat, r]


def _density(activity: Activity, t: Translator, today: date) -> Headline:
    """Contributions per member-week over the latest complete weeks (weighted, so a week
    with more members counts more, as the figure is about the community, not the weeks).
    The week under way is left out, as its few days would pull the figure down."""
    key = "dashboard.snapshot."
    weeks = sorted(activity.weeks, key=lambda week: week.week)
    weeks = [w for w in weeks if w.week + timedelta(days=7) <= today][-DENSITY_WEEKS:]
    members = sum(week.members for week in weeks)
    contributions = sum(week.contributions for week in weeks)
    value = t.number(contributions / members, 2) if members else NONE
    return Headline(t(key + "kpi_density"), value, t(key + "density_unit"))


def _contributed(activity: Activity, t: Translator) -> Headline:
    key = "dashboard.snapshot."
    if not activity.members:
        return Headline(t(key + "kpi_contributed"), NONE)
    detail = t(
        key + "part_of", part=t.number(activity.contributors), whole=t.number(activity.members)
    )
    value = percent(t, activity.contributors, activity.members)
    return Headline(t(key + "kpi_contributed"), value, detail)


def _badges(badges: Badges, t: Translator, ladder: Ladder) -> Headline:
    key = "dashboard.snapshot."
    holders = sum(level.holders for level in badges.levels)
    detail = " · ".join(
        f"{level_name(ladder, level.level, t.locale)} {t.number(level.holders)}"
        for level in badges.levels
    )
    return Headline(t(key + "kpi_badges"), t.number(holders), detail)


def _mentoring(mentoring: Mentoring, t: Translator) -> Headline:
    key = "dashboard.snapshot."
    if mentoring.met_rate is None:
        return Headline(t(key + "kpi_met"), NONE, t(key + "no_check"))
    detail = t(key + "part_of", part=t.number(mentoring.met), whole=t.number(mentoring.checked))
    return Headline(t(key + "kpi_met"), percent(t, mentoring.met, mentoring.checked), detail)
