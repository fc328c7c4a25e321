"""The dashboard's tables, built from a `Dashboard` in the reader's language.

Each `Table` is what the page shows under a section and what `/dashboard/<key>.csv`
downloads: the same rows, so a figure on the page is the figure in the spreadsheet.
Cells stay typed (counts, figures, days, instants; None for "not enough answers" or
"unknown"); only words are translated here (level names, reasons, the totals' label,
indicators). How a cell reads is decided once per medium: `page_text` for the page (the
reader's number and date formats), `csv_text` for the CSV (plain numbers and ISO dates, so
a spreadsheet computes with them).

Percentages are 0-100 with one decimal, NPS −100 to +100 with one decimal (the page rounds
it as `pulse results` does), LSAT and densities two decimals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import get_decimal_symbol, get_group_symbol, get_minus_sign_symbol

from bot.core import stats
from bot.i18n import Translator
from bot.ladder import Ladder
from bot.steering.model import (
    COMMUNITY,
    Cell,
    Dashboard,
    Feeling,
    FunnelStep,
    PulsePoint,
    Table,
)
from storage.pulses import PulseSums

# The order of the page; `named_answers` only for animators (the page is animators-only).
KEYS = (
    "kpis",
    "funnel",
    "nps_pulses",
    "nps_months",
    "nps_trainings",
    "nps_lsat",
    "lgc_weeks",
    "lgc_heat",
    "themes",
    "themes_trainings",
    "challenges",
    "referrals",
    "badge_levels",
    "badge_months",
    "mentoring_waiting",
    "mentoring_loads",
    "named_answers",
)

# Columns whose None means "fewer than 3 answers" (bot.core.stats.MIN_ANSWERS); any other
# None reads "—" (unknown, or nothing to divide by).
NOT_ENOUGH = frozenset({"nps", "lsat", "value"})
# Columns holding a percentage (0-100).
PERCENT = frozenset({"response_rate"})
# Columns signed like an NPS (+25, −17): the NPS, the feeling, a theme's trend (%).
SIGNED = frozenset({"nps", "feeling", "trend"})
# Columns with two decimals on the page; "nps" is rounded and signed as in the chat.
# The kinds of share the LGC table gives counts and densities of (bot/steering/model.py):
# every kind, tips included (the shares that are none of the others).
SHARE_KINDS = ("tips", "questions", "experiences", "watches")
TWO_DECIMALS = frozenset({"lsat", "density", *(f"{kind}_density" for kind in SHARE_KINDS)})


@cache
def _symbols(locale: str) -> tuple[str, str, str]:
    """The decimal sign, group separator and minus sign of `locale` (CLDR, via Babel)."""
    return (
        get_decimal_symbol(locale),
        get_group_symbol(locale),
        get_minus_sign_symbol(locale),
    )


@dataclass(frozen=True)
class Reader:
    """Who reads the tables: their language, time zone, and the ladder's level names."""

    t: Translator
    timezone: str
    ladder: Ladder

    def number(self, value: float, digits: int = 0) -> str:
        """`value` as `Translator.number` writes it (the same rounding: half to even on
        the decimal text), without Babel's cost per call: a page holds thousands of cells."""
        decimal_sign, group, minus = _symbols(self.t.locale)
        exact = Decimal(str(value)).quantize(Decimal(1).scaleb(-digits), ROUND_HALF_EVEN)
        text = f"{abs(exact):,.{digits}f}"
        text = text.replace(",", "\0").replace(".", decimal_sign).replace("\0", group)
        return minus + text if exact.is_signed() else text  # as Babel: -0.004 → "-0"

    def signed(self, value: float) -> str:
        """An NPS as `pulse results` writes it (bot.handlers.pulse_results.signed): an
        integer, halves away from zero, + before a positive one."""
        rounded = int(math.copysign(math.floor(abs(value) + 0.5), value))
        return ("+" if rounded > 0 else "") + self.number(rounded)

    def level(self, code: str) -> str:
        """A level's name in the reader's language (its code if the ladder lost it)."""
        found = self.ladder.find(code)
        return found.name(self.t.locale) if found is not None else code


@dataclass(frozen=True)
class Kpi:
    """One key figure: its code (`dashboard.kpi.<code>`), value, and whether a percentage."""

    code: str
    value: float | int | None
    percent: bool = False
    nps: bool = False


def _rounded(value: float | None) -> float | None:
    return round(value, 2) if value is not None else None


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _nps(sums: PulseSums) -> float | None:
    value = stats.nps(sums)
    return round(value, 1) if value is not None else None


def _lsat(sums: PulseSums) -> float | None:
    value = stats.lsat_mean(sums)
    return round(value, 2) if value is not None else None


def kpis(d: Dashboard) -> tuple[Kpi, ...]:
    """The key figures at the top of the page."""
    total = d.pulses.total
    referrals_made = sum(row.made for row in d.referrals)
    met_rate = d.mentoring.met_rate
    return (
        Kpi("members", d.activity.members),
        Kpi("contributors", d.activity.contributors),
        Kpi(
            "contributors_share",
            _percent(d.activity.contributors, d.activity.members),
            percent=True,
        ),
        Kpi("sessions", d.funnel.sessions_in_scope),
        Kpi("answers", total.answers),
        Kpi("nps", _nps(total), nps=True),
        Kpi("lsat", _lsat(total)),
        Kpi("response_rate", _percent(total.answers, d.pulses.asked), percent=True),
        Kpi("referrals_made", referrals_made),
        Kpi("referrals_converted", sum(row.converted for row in d.referrals)),
        Kpi("pairs", d.mentoring.pairs),
        Kpi(
            "met_rate",
            round(100 * met_rate, 1) if met_rate is not None else None,
            percent=True,
        ),
    )


def community_label(label: str, row: object, t: Translator) -> str:
    """A pulse's, training's or referral row's label in words: rows about the whole
    community carry the code `community` (after the pulse's number, `#8 community`) and a
    `community` flag; the code becomes the reader's words, the number stays."""
    if not getattr(row, "community", False):
        return label
    prefix = label[: -len(COMMUNITY)] if label.endswith(COMMUNITY) else ""
    return prefix + t("dashboard.community")


def _pulse_rows(points: tuple[PulsePoint, ...], t: Translator) -> tuple[tuple[Cell, ...], ...]:
    return tuple(
        (
            community_label(point.label, point, t),
            point.when,
            point.asked,
            point.sums.answers,
            _percent(point.sums.answers, point.asked),
            point.sums.promoters,
            point.sums.passives,
            point.sums.detractors,
            _nps(point.sums),
            _lsat(point.sums),
        )
        for point in points
    )


def _feeling_cells(d: Dashboard, training: str | None) -> tuple[Cell, ...]:
    """The feeling of a training's posts next to its NPS (net points, posts read)."""
    feeling = d.voice.by_training.get(training or "")
    if feeling is None:
        return (None, 0)
    return (_net(feeling), feeling.total)


def _net(feeling: Feeling) -> float | None:
    """A feeling's net points as a float, so that the page signs it like an NPS."""
    return None if feeling.net is None else float(feeling.net)


def _funnel_row(
    step: FunnelStep, label: str, training: str | None, opened_at: datetime | None
) -> tuple[Cell, ...]:
    return (
        label,
        training,
        opened_at,
        step.present,
        step.joined,
        step.contributed,
        step.junior,
        step.confirmed,
    )


_PULSE_COLUMNS = (
    "asked",
    "answers",
    "response_rate",
    "promoters",
    "passives",
    "detractors",
    "nps",
    "lsat",
)


def tables(d: Dashboard, reader: Reader) -> dict[str, Table]:
    """Every table of the page, by key, in page order."""
    t = reader.t
    built = [
        Table(
            "kpis",
            ("indicator", "value"),
            tuple(
                (t(f"dashboard.kpi.{kpi.code}") + (" (%)" if kpi.percent else ""), kpi.value)
                for kpi in kpis(d)
            ),
        ),
        Table(
            "funnel",
            (
                "session",
                "training",
                "opened",
                "present",
                "joined",
                "contributed",
                "junior",
                "confirmed",
            ),
            (
                *(
                    _funnel_row(step, step.session_code, step.training, step.opened_at)
                    for step in d.funnel.sessions
                ),
                _funnel_row(d.funnel.total, t("dashboard.funnel_total"), None, None),
            ),
        ),
        Table("nps_pulses", ("pulse", "date", *_PULSE_COLUMNS), _pulse_rows(d.pulses.per_pulse, t)),
        Table(
            "nps_months",
            ("month", *_PULSE_COLUMNS),
            tuple(row[:1] + row[2:] for row in _pulse_rows(d.pulses.per_month, t)),
        ),
        Table(
            "nps_trainings",
            ("training", *_PULSE_COLUMNS, "feeling", "feeling_posts"),
            tuple(
                row[:1] + row[2:] + _feeling_cells(d, point.label)
                for row, point in zip(
                    _pulse_rows(tuple(getattr(d.pulses, "per_training", ())), t),
                    tuple(getattr(d.pulses, "per_training", ())),
                    strict=True,
                )
            ),
        ),
        Table(
            "nps_lsat",
            ("score", "lsat_answer", "count"),
            tuple((score, lsat, n) for (score, lsat), n in sorted(d.pulses.grid.items())),
        ),
        Table(
            "lgc_weeks",
            (
                "week",
                "members",
                "answers",
                "successes",
                "not_yets",
                "shares",
                *SHARE_KINDS,
                "contributions",
                "density",
                *(f"{kind}_density" for kind in SHARE_KINDS),
                "replies",
                "likes_given",
                "likes_received",
                "dislikes_received",
            ),
            tuple(
                (
                    week.week,
                    week.members,
                    week.answers,
                    week.successes,
                    week.not_yets,
                    week.shares,
                    *(getattr(week, kind) for kind in SHARE_KINDS),
                    week.contributions,
                    _rounded(week.density),
                    *(_rounded(week.density_of(kind)) for kind in SHARE_KINDS),
                    week.replies,
                    week.likes_given,
                    week.likes_received,
                    week.dislikes_received,
                )
                for week in d.activity.weeks
            ),
        ),
        Table(
            "lgc_heat",
            ("week", "training", "density"),
            tuple(
                (week, training, round(value, 2))
                for (week, training), value in sorted(d.activity.heat.items())
            ),
        ),
        Table(
            "themes",
            (
                "theme",
                "words",
                "posts",
                "trend",
                "questions",
                "experiences",
                "challenge_answers",
                "positive",
                "neutral",
                "negative",
                "feeling",
                "quotes",
            ),
            tuple(
                (
                    theme.number + 1,
                    theme.label(t.locale),
                    theme.posts,
                    None if theme.trend is None else float(theme.trend),
                    theme.questions,
                    theme.experiences,
                    theme.answers,
                    theme.feeling.positive,
                    theme.feeling.neutral,
                    theme.feeling.negative,
                    _net(theme.feeling),
                    " / ".join(
                        t("themes.named", name=quote.text)
                        + (f" — {quote.author}" if quote.author else "")
                        for quote in theme.quotes
                    ),
                )
                for theme in d.voice.themes
            ),
        ),
        Table(
            "themes_trainings",
            ("training", "posts", "positive", "neutral", "negative", "feeling"),
            tuple(
                (
                    training,
                    feeling.total,
                    feeling.positive,
                    feeling.neutral,
                    feeling.negative,
                    _net(feeling),
                )
                for training, feeling in sorted(d.voice.by_training.items())
            ),
        ),
        Table(
            "challenges",
            ("challenge", "posted", "excerpt", "answers", "successes", "not_yets"),
            tuple(
                (run.number, run.posted_at, run.excerpt, run.answers, run.successes, run.not_yets)
                for run in d.challenges.runs
            ),
        ),
        Table(
            "referrals",
            ("training", "made", "invited", "interested", "converted"),
            tuple(
                (
                    community_label(row.training, row, t),
                    row.made,
                    row.invited,
                    row.interested,
                    row.converted,
                )
                for row in d.referrals
            ),
        ),
        Table(
            "badge_levels",
            ("level", "holders", "awarded", "median_days"),
            tuple(
                (
                    reader.level(level.level),
                    level.holders,
                    level.awarded,
                    round(level.median_days, 1) if level.median_days is not None else None,
                )
                for level in d.badges.levels
            ),
        ),
        Table(
            "badge_months",
            ("month", "level", "promotions"),
            tuple(
                (month, reader.level(level), count)
                for (month, level), count in sorted(
                    d.badges.per_month.items(),
                    key=lambda item: (item[0][0], reader.ladder.rank(item[0][1])),
                )
            ),
        ),
        Table(
            "mentoring_waiting",
            ("name", "since", "reason"),
            tuple(
                (
                    novice.name,
                    novice.since,
                    t(f"dashboard.reason.{novice.reason or 'no_round_yet'}"),
                )
                for novice in d.mentoring.waiting
            ),
        ),
        Table(
            "mentoring_loads",
            ("name", "load", "capacity"),
            tuple((load.name, load.load, load.capacity) for load in d.mentoring.loads),
        ),
        Table(
            "named_answers",
            ("name", "pulse", "answered", "score", "lsat_answer", "comment", "recommends"),
            tuple(
                (
                    answer.name,
                    answer.pulse_label,
                    answer.answered_at,
                    answer.score,
                    answer.lsat,
                    answer.comment,
                    ", ".join(answer.recommends) or None,
                )
                for answer in d.pulses.named
            ),
        ),
    ]
    return {table.key: table for table in built}


# --- how a cell reads -------------------------------------------------------------------


def day_text(t: Translator, day: date) -> str:
    """A day as the reader writes it (`1 Sep 2026`, `1er sept. 2026`)."""
    return _day_text(t.locale, day)


@lru_cache(maxsize=8192)
def _day_text(locale: str, day: date) -> str:
    # French writes the first of a month "1er" (as bot.i18n.Translator.date does).
    first = "d'er'" if locale == "fr" and day.day == 1 else "d"
    # No-break spaces: a date never breaks across lines (French typography; and a table's
    # date column stays one line, `5 juil.` over `2026` read badly).
    return format_date(day, f"{first} MMM y", locale=locale).replace(" ", "\u00a0")


def instant_text(t: Translator, when: datetime, timezone: str) -> str:
    """An instant with its year, as the page's header and a printout need it."""
    local = when.astimezone(ZoneInfo(timezone))
    first = "d'er'" if t.locale == "fr" and local.day == 1 else "d"
    return format_datetime(
        when, f"{first} MMM y, HH:mm", tzinfo=ZoneInfo(timezone), locale=t.locale
    )


def month_text(t: Translator, month: str) -> str:
    """`2026-09` as the reader writes a month (`Sep 2026`, `sept. 2026`)."""
    try:
        year, number = (int(part) for part in month.split("-", 1))
        return format_date(date(year, number, 1), "MMM y", locale=t.locale)
    except ValueError:
        return month


def page_text(reader: Reader, column: str, value: Cell) -> str:
    """A cell as the page shows it, in the reader's language and time zone."""
    t = reader.t
    if value is None:
        return t("dashboard.not_enough") if column in NOT_ENOUGH else "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, datetime):
        # The day in the reader's zone, as Translator.date writes it (cached per day).
        return day_text(t, value.astimezone(ZoneInfo(reader.timezone)).date())
    if isinstance(value, date):
        return day_text(t, value)
    if isinstance(value, int):
        return reader.number(value)
    if isinstance(value, float):
        if column in SIGNED:
            return reader.signed(value)
        if column in PERCENT:
            return t("dashboard.percent", value=reader.number(value, 1))
        if column == "median_days":
            return t("dashboard.days", value=reader.number(value, 1))
        return reader.number(value, 2 if column in TWO_DECIMALS else 1)
    if column == "month":
        return month_text(t, value)
    return value


def kpi_text(reader: Reader, kpi: Kpi) -> str:
    """A key figure as its tile shows it."""
    t = reader.t
    if kpi.value is None:
        return t("dashboard.not_enough")
    if kpi.nps:
        return reader.signed(float(kpi.value))
    if kpi.percent:
        return t("dashboard.percent", value=reader.number(kpi.value, 1))
    if isinstance(kpi.value, float):
        return reader.number(kpi.value, 2)
    return reader.number(kpi.value)


def csv_text(value: Cell, timezone: str) -> str:
    """A cell as the CSV holds it: plain numbers (a dot for decimals), ISO dates, instants
    in the reader's zone with their offset, nothing for "not enough answers"."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(ZoneInfo(timezone)).isoformat(timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return str(value) if math.isfinite(value) else ""
    return str(value)
