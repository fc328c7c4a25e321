"""The dashboard page, server-rendered with Jinja2 (templates/), in the viewer's language.

Jinja2's autoescape is on for every template: names, comments, training names and
challenge texts are user data and reach the page escaped; the only markup inserted
unescaped is the charts' SVG, built by code (`Markup`). No script, nothing fetched from
elsewhere: the Content-Security-Policy (`CSP`) allows the page's own stylesheet and
images only.

Charts: one function per section (`funnel_charts`, `pulse_charts`, …) returns that
section's charts as inline SVG, drawn server-side (bot/dashboard/section_charts.py, svg.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from bot.core.stats import correlation
from bot.dashboard import section_charts
from bot.dashboard import tables as tables_
from bot.dashboard.charts import Chart, in_language
from bot.dashboard.svg import svg
from bot.dashboard.tables import Reader
from bot.i18n import SUPPORTED, Translator
from bot.steering.filters import FilterError, Filters
from bot.steering.model import Dashboard, Table

ENV = Environment(
    loader=PackageLoader("bot.dashboard", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
STYLESHEET = "/dashboard/dashboard.css"
# Tables longer than this fold under their title (<details>, no script): the page reads as
# charts and short tables first; the CSV link stays in view.
UNFOLDED_ROWS = 12
# Tables with more columns than this are set compact (`.table.wide`).
WIDE_COLUMNS = 10
# Tables whose columns the page heads in groups: each group's label (`dashboard.col_group.
# <code>`) over its columns' short headers (`dashboard.col_short.<column>`, the full one as
# a tooltip), so that the weekly LGC table's twenty columns fit a laptop's width; None: a
# column standing alone, headed in full on both rows. The CSV keeps the full headers.
GROUPS: dict[str, tuple[tuple[str | None, tuple[str, ...]], ...]] = {
    "lgc_weeks": (
        (None, ("week",)),
        (None, ("members",)),
        ("challenge_answers", ("answers", "successes", "not_yets")),
        ("shares", ("shares", "tips", "questions", "experiences", "watches")),
        ("contributions", ("contributions", "density")),
        (
            "per_member",
            ("tips_density", "questions_density", "experiences_density", "watches_density"),
        ),
        (None, ("replies",)),
        ("likes", ("likes_given", "likes_received")),
        (None, ("dislikes_received",)),
    ),
}
_CODE = re.compile(r"`([^`]+)`")


def _code(text: str) -> Markup:
    """Catalogue text with its `commands` as <code>, everything else escaped."""
    parts = _CODE.split(str(text))
    return Markup("").join(
        Markup("<code>{}</code>").format(part) if index % 2 else escape(part)
        for index, part in enumerate(parts)
    )


ENV.filters["code"] = _code


# The pages' Content-Security-Policy: nothing runs, nothing comes from elsewhere; styles
# only from the bot's own stylesheet (no inline style: the charts' SVG uses presentation
# attributes and classes), images only from the bot or inline data.
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


# --- the charts: one function per section ------------------------------------------------
# Each draws its section's charts (bot/dashboard/section_charts.py, the same chart model as
# the PDF snapshot) as inline SVG (bot/dashboard/svg.py: no script, no style attribute, every
# text escaped), at the page's width.


def _svg(t: Translator, *charts: Chart) -> tuple[Markup, ...]:
    return tuple(svg(in_language(chart, t.locale)) for chart in charts)


def funnel_charts(d: Dashboard, reader: Reader) -> tuple[Markup, ...]:
    """The funnel of every session in view, and of the latest sessions side by side."""
    t = reader.t
    return _svg(
        t, section_charts.funnel_total(d.funnel, t), section_charts.funnel_sessions(d.funnel, t)
    )


def pulse_charts(d: Dashboard, reader: Reader) -> tuple[Markup, ...]:
    """NPS per pulse and per month, promoters/passives/detractors, the response rate, LSAT
    per month, and the score × LSAT scatter with r and n."""
    t, pulses = reader.t, d.pulses
    return _svg(
        t,
        section_charts.nps(pulses.per_pulse, t, per="pulse"),
        section_charts.nps(pulses.per_month, t, per="month"),
        section_charts.nps_mix(pulses.per_month, t, per="month"),
        section_charts.response_rate(pulses.per_pulse, t, per="pulse"),
        section_charts.lsat(pulses.per_month, t, per="month"),
        section_charts.scatter(pulses, t),
    )


def activity_charts(d: Dashboard, reader: Reader) -> tuple[Markup, ...]:
    """LGC density per week and the week × training heat map."""
    t = reader.t
    return _svg(
        t, section_charts.density(d.activity, t, per_kind=True), section_charts.heat(d.activity, t)
    )


def voice_charts(d: Dashboard, reader: Reader) -> tuple[Markup, ...]:
    """The biggest themes, their posts stacked by feeling."""
    t = reader.t
    return _svg(t, section_charts.theme_feelings(d.voice.themes, t))


def challenge_charts(d: Dashboard, reader: Reader) -> tuple[Markup, ...]:
    """Success against not yet, per challenge occurrence."""
    chart = section_charts.challenges(d.challenges, reader.t, zone=d.scope.timezone)
    return _svg(reader.t, chart)


def referral_charts(d: Dashboard, reader: Reader) -> tuple[Markup, ...]:
    """Referrals per training: made, invited, interested, converted."""
    return _svg(reader.t, section_charts.referrals(d.referrals, reader.t))


def badge_charts(d: Dashboard, reader: Reader) -> tuple[Markup, ...]:
    """Members per level, promotions per month, days to each level."""
    t, ladder = reader.t, reader.ladder
    return _svg(
        t,
        section_charts.badge_holders(d.badges, t, ladder),
        section_charts.promotions(d.badges, t, ladder),
        section_charts.time_to_level(d.badges, t, ladder),
    )


def mentoring_charts(d: Dashboard, reader: Reader) -> tuple[Markup, ...]:
    """Each mentor's load against their capacity."""
    return _svg(reader.t, section_charts.mentor_load(d.mentoring, reader.t))


# --- the view model -------------------------------------------------------------------------


@dataclass(frozen=True)
class HeaderCell:
    """One `<th>` of a table's head: its text, span, and full header as a tooltip."""

    text: str
    colspan: int = 1
    rowspan: int = 1
    numeric: bool = False
    group: bool = False  # heads a group of columns (scope="colgroup")
    title: str | None = None


@dataclass(frozen=True)
class TableView:
    """A table as the page shows it: headers and cells in words, and its CSV's address."""

    key: str
    title: str
    summary: str
    # Shown unfolded (short tables); a long one folds under its title, charts first.
    unfolded: bool
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    csv_url: str
    # Columns read as numbers (right-aligned).
    numeric: tuple[bool, ...]
    # Many columns (the weekly LGC table): set compact, so that it fits a laptop's width;
    # its box scrolls sideways, the first column staying in view, when it still does not.
    wide: bool = False
    # The head's rows (one, or two when its columns are grouped).
    head: tuple[tuple[HeaderCell, ...], ...] = ()


@dataclass(frozen=True)
class Section:
    """One section: its anchor, title, notes, charts and tables."""

    key: str
    title: str
    notes: tuple[str, ...] = ()
    charts: tuple[Markup, ...] = ()
    tables: tuple[TableView, ...] = ()
    kpis: tuple[tuple[str, str], ...] = field(default_factory=tuple)


def _head(
    table: Table, t: Translator, headers: tuple[str, ...], numeric: tuple[bool, ...]
) -> tuple[tuple[HeaderCell, ...], ...]:
    groups = GROUPS.get(table.key)
    if groups is None:
        return (tuple(HeaderCell(h, numeric=n) for h, n in zip(headers, numeric, strict=True)),)
    grouped = [column for _, columns in groups for column in columns]
    if grouped != list(table.columns):
        raise ValueError(f"GROUPS[{table.key!r}] does not list the table's columns in order")
    full = dict(zip(table.columns, headers, strict=True))
    number = dict(zip(table.columns, numeric, strict=True))
    top: list[HeaderCell] = []
    below: list[HeaderCell] = []
    for group, columns in groups:
        if group is None:
            top.extend(HeaderCell(full[c], rowspan=2, numeric=number[c]) for c in columns)
            continue
        top.append(HeaderCell(t(f"dashboard.col_group.{group}"), colspan=len(columns), group=True))
        below.extend(
            HeaderCell(t(f"dashboard.col_short.{c}"), numeric=number[c], title=full[c])
            for c in columns
        )
    return (tuple(top), tuple(below))


def _table_view(table: Table, reader: Reader, query: str) -> TableView:
    t = reader.t
    numeric = tuple(
        all(isinstance(row[i], int | float) or row[i] is None for row in table.rows)
        and any(row[i] is not None for row in table.rows)
        for i in range(len(table.columns))
    )
    headers = tuple(t(f"dashboard.col.{column}") for column in table.columns)
    return TableView(
        key=table.key,
        title=t(f"dashboard.table.{table.key}"),
        summary=t("dashboard.rows", count=len(table.rows)),
        unfolded=len(table.rows) <= UNFOLDED_ROWS,
        headers=headers,
        head=_head(table, t, headers, numeric),
        rows=tuple(
            tuple(
                tables_.page_text(reader, column, cell)
                for column, cell in zip(table.columns, row, strict=True)
            )
            for row in table.rows
        ),
        csv_url=f"/dashboard/{table.key}.csv" + (f"?{query}" if query else ""),
        numeric=numeric,
        wide=len(table.columns) > WIDE_COLUMNS,
    )


def _correlation_text(d: Dashboard, t: Translator) -> str:
    found = correlation(d.pulses.total)
    if found.r is not None:
        return t("dashboard.scatter_r", r=t.number(found.r, 2), n=found.n)
    if found.reason == "no_variance":
        return t("dashboard.scatter_no_variance", n=found.n)
    return t("dashboard.scatter_too_few", n=found.n)


def _voice_notes(d: Dashboard, reader: Reader) -> tuple[str, ...]:
    """What the themes are, how they were found, and the overall feeling."""
    t = reader.t
    voice = d.voice
    notes = [t("dashboard.voice_note")]
    if voice.found_at is None:
        notes.append(t("dashboard.voice_none"))
        return tuple(notes)
    net = voice.feeling.net
    notes.append(
        t(
            "dashboard.voice_summary",
            count=voice.posts,
            posts=t.number(voice.posts),
            themes=t.number(len(voice.themes)),
            feeling="—" if net is None else reader.signed(net),
        )
    )
    if voice.unread:
        notes.append(t("themes.reading"))
    return tuple(notes)


def _cut(t: Translator, key: str, shown: int, total: int | None, **more: str) -> tuple[str, ...]:
    """The note saying a list is cut (`total` long, `shown` on the page), or nothing."""
    if total is None or total <= shown:
        return ()
    return (t(key, count=total, shown=t.number(shown), total=t.number(total), **more),)


def sections(d: Dashboard, reader: Reader, query: str) -> tuple[Section, ...]:
    """The page's sections after the header, in the order of the issue."""
    t = reader.t
    built = tables_.tables(d, reader)

    def views(*keys: str) -> tuple[TableView, ...]:
        return tuple(_table_view(built[key], reader, query) for key in keys)

    activity = d.activity
    share = (
        t("dashboard.percent", value=t.number(100 * activity.contributors / activity.members, 1))
        if activity.members
        else "—"
    )
    mentoring = d.mentoring
    met_rate = mentoring.met_rate
    challenges = d.challenges
    return (
        Section(
            "kpis",
            t("dashboard.section_kpis"),
            kpis=tuple(
                (t(f"dashboard.kpi.{kpi.code}"), tables_.kpi_text(reader, kpi))
                for kpi in tables_.kpis(d)
            ),
            tables=views("kpis"),
        ),
        Section(
            "funnel",
            t("dashboard.section_funnel"),
            (t("dashboard.funnel_note"),),
            funnel_charts(d, reader),
            views("funnel"),
        ),
        Section(
            "pulses",
            t("dashboard.section_pulses"),
            (
                t("dashboard.pulses_note"),
                _correlation_text(d, t),
                *_cut(t, "dashboard.cut_pulses", len(d.pulses.per_pulse), d.pulses.pulses_in_scope),
            ),
            pulse_charts(d, reader),
            views("nps_pulses", "nps_months", "nps_trainings", "nps_lsat"),
        ),
        Section(
            "activity",
            t("dashboard.section_activity"),
            (
                t("dashboard.activity_note"),
                t(
                    "dashboard.activity_share",
                    contributors=t.number(activity.contributors),
                    members=t.number(activity.members),
                    share=share,
                ),
                *_cut(
                    t,
                    "dashboard.cut_heat",
                    len({name for _, name in activity.heat}),
                    activity.heat_trainings,
                ),
            ),
            activity_charts(d, reader),
            views("lgc_weeks", "lgc_heat"),
        ),
        Section(
            "voice",
            t("dashboard.section_voice"),
            _voice_notes(d, reader),
            voice_charts(d, reader),
            views("themes", "themes_trainings"),
        ),
        Section(
            "challenges",
            t("dashboard.section_challenges"),
            (
                t("dashboard.challenges_note"),
                t(
                    "dashboard.challenges_totals",
                    occurrences=t.number(challenges.occurrences),
                    answers=t.number(challenges.answers),
                    successes=t.number(challenges.successes),
                    not_yets=t.number(challenges.not_yets),
                ),
            ),
            challenge_charts(d, reader),
            views("challenges"),
        ),
        Section(
            "referrals",
            t("dashboard.section_referrals"),
            (t("dashboard.referrals_note"),),
            referral_charts(d, reader),
            views("referrals"),
        ),
        Section(
            "badges",
            t("dashboard.section_badges"),
            (
                t("dashboard.badges_note"),
                t("dashboard.badges_without", value=t.number(d.badges.without_level)),
            ),
            badge_charts(d, reader),
            views("badge_levels", "badge_months"),
        ),
        Section(
            "mentoring",
            t("dashboard.section_mentoring"),
            (
                t("dashboard.mentoring_note"),
                t(
                    "dashboard.mentoring_summary",
                    pairs=t.number(mentoring.pairs),
                    active=t.number(mentoring.active),
                    met=t.number(mentoring.met),
                    checked=t.number(mentoring.checked),
                    rate=(
                        t("dashboard.percent", value=t.number(100 * met_rate, 1))
                        if met_rate is not None
                        else "—"
                    ),
                    repeats=t.number(mentoring.repeats_avoided),
                ),
                *_cut(t, "dashboard.cut_waiting", len(mentoring.waiting), mentoring.waiting_count),
                *_cut(
                    t,
                    "dashboard.cut_loads",
                    len(mentoring.loads),
                    mentoring.mentors_count,
                    load=t.number(mentoring.load_sum or 0),
                    room=t.number(mentoring.capacity_sum or 0),
                ),
            ),
            mentoring_charts(d, reader),
            views("mentoring_waiting", "mentoring_loads"),
        ),
        Section(
            "named",
            t("dashboard.section_named"),
            (t("dashboard.named_note"),),
            (),
            views("named_answers"),
        ),
    )


# --- the header and the filters -------------------------------------------------------------


def scope_text(t: Translator, filters: Filters) -> str:
    """What the view covers, in words."""
    if filters.session:
        return t("dashboard.scope_session", code=filters.session)
    if filters.training:
        return t("dashboard.scope_training", training=filters.training)
    return t("dashboard.scope_workspace")


def period_text(t: Translator, filters: Filters) -> str:
    """The period in words (both ends included)."""
    start, end = filters.start, filters.end
    if start and end:
        return t(
            "dashboard.period_between",
            start=tables_.day_text(t, start),
            end=tables_.day_text(t, end),
        )
    if start:
        return t("dashboard.period_since", start=tables_.day_text(t, start))
    if end:
        return t("dashboard.period_until", end=tables_.day_text(t, end))
    return t("dashboard.period_all")


@dataclass(frozen=True)
class Option:
    """One choice of a filter menu."""

    value: str
    label: str
    selected: bool


def _options(d: Dashboard, t: Translator, timezone: str) -> tuple[list[Option], list[Option]]:
    filters = d.scope.filters
    trainings = list(d.scope.trainings)
    if filters.training and filters.training not in trainings:
        trainings.append(filters.training)  # unknown: kept so the view says what it asked
    training_options = [Option("", t("dashboard.filter_all_trainings"), not filters.training)]
    training_options += [Option(name, name, name == filters.training) for name in trainings]
    session_options = [Option("", t("dashboard.filter_all_sessions"), not filters.session)]
    for code, name, opened_at in d.scope.sessions:
        label = f"{code} — {name} ({t.date(opened_at, timezone)})"
        session_options.append(Option(code, label, code == filters.session))
    return training_options, session_options


def render(
    d: Dashboard,
    reader: Reader,
    *,
    workspace_name: str,
    errors: tuple[FilterError, ...] = (),
) -> str:
    """The whole page for one view."""
    t = reader.t
    filters = d.scope.filters
    query = urlencode(filters.to_query())
    training_options, session_options = _options(d, t, reader.timezone)
    return ENV.get_template("dashboard.html").render(
        t=t,
        lang=t.locale,
        stylesheet=STYLESHEET,
        title=t("dashboard.title"),
        workspace=workspace_name,
        scope=scope_text(t, filters),
        generated=tables_.instant_text(t, d.generated_at, reader.timezone),
        zone=reader.timezone,
        period=period_text(t, filters),
        filters=filters,
        errors=[t(error.key) for error in errors],
        nothing_matches=d.scope.session_ids == (),
        training_options=training_options,
        session_options=session_options,
        sessions_cut=" ".join(
            _cut(t, "dashboard.cut_sessions", len(d.scope.sessions), d.scope.sessions_total)
        ),
        sections=sections(d, reader, query),
        snapshot_url="/dashboard/snapshot.pdf" + (f"?{query}" if query else ""),
    )


def refused(locale: str | None, reason: str) -> str:
    """The refusal page: why, and to type `dashboard` in the chat; in both languages when
    the reader is unknown (no valid link or cookie)."""
    locales = (locale,) if locale else SUPPORTED
    blocks = [
        (
            lang,
            Translator(lang)("dashboard.refused_title"),
            Translator(lang)(f"dashboard.refused_{reason}"),
        )
        for lang in locales
    ]
    return ENV.get_template("refused.html").render(
        lang=locale or "en", stylesheet=STYLESHEET, blocks=blocks
    )


def unavailable(locale: str | None) -> str:
    """The page when something failed (logged; no trace shown), in both languages when the
    reader is not known yet."""
    blocks = [
        (lang, Translator(lang)("dashboard.title"), Translator(lang)("dashboard.unavailable"))
        for lang in ((locale,) if locale else SUPPORTED)
    ]
    return ENV.get_template("refused.html").render(
        lang=locale or "en", stylesheet=STYLESHEET, blocks=blocks
    )


def opening(locale: str, target: str) -> str:
    """The tiny same-site page that takes the token out of the address bar: a meta refresh
    (and a link) to `target`, a path on this site.

    Why not a redirect: the cookie is SameSite=Strict and set on the answer to a cross-site
    navigation (a click in Slack or Teams); a redirect belongs to that same navigation, so
    the browser would not send the cookie it just stored, while a refresh from this page is
    a new, same-site navigation that does. No JavaScript needed.
    """
    t = Translator(locale)
    return ENV.get_template("open.html").render(
        lang=t.locale,
        stylesheet=STYLESHEET,
        title=t("dashboard.open_title"),
        link=t("dashboard.open_link"),
        target=target,
    )
