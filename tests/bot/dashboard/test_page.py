"""The dashboard page rendered from a hand-made `Dashboard`: sections in order, a chart per
section, every table with its CSV, user data escaped, French typography, the filters."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, timedelta
from html import unescape
from html.parser import HTMLParser

import pytest

from bot.dashboard import page, tables
from bot.dashboard.tables import Reader
from bot.i18n import Translator
from bot.ladder import DEFAULT_LADDER
from bot.steering.filters import FilterError, Filters
from tests.support import dashboards

ORDER = [
    "header",
    "kpis",
    "funnel",
    "pulses",
    "activity",
    "voice",
    "challenges",
    "referrals",
    "badges",
    "mentoring",
    "named",
]
WITH_CHARTS = ["funnel", "pulses", "activity", "challenges", "referrals", "badges", "mentoring"]


def _render(
    locale: str,
    filters: Filters | None = None,
    *,
    errors: tuple[FilterError, ...] = (),
    session_ids: tuple[int, ...] | None = None,
) -> str:
    reader = Reader(Translator(locale), "Europe/Paris", DEFAULT_LADDER)
    dashboard = dashboards.sample(filters, session_ids)
    return page.render(dashboard, reader, workspace_name="Acme & <Co>", errors=errors)


class _Text(HTMLParser):
    """The text a reader sees (and the sections' ids), tags left out."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.ids: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag in ("section", "header") and found.get("id"):
            self.ids.append(str(found["id"]))
        if tag == "script":
            self.scripts += 1

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _parsed(html: str) -> _Text:
    parser = _Text()
    parser.feed(html)
    return parser


@pytest.mark.parametrize("locale", ["en", "fr"])
def test_sections_come_in_order_each_with_its_charts_and_csv_links(locale: str) -> None:
    html = _render(locale)
    parsed = _parsed(html)
    assert parsed.ids == ORDER
    assert f'<html lang="{locale}">' in html
    for key in WITH_CHARTS:
        section = html.split(f'<section id="{key}"', 1)[1].split("</section>", 1)[0]
        assert '<figure class="chart"><svg ' in section, key
    links = re.findall(r'href="/dashboard/([a-z_]+)\.csv"', html)
    assert links == list(tables.KEYS)


def test_user_data_is_escaped_and_nothing_runs() -> None:
    html = _render("en")
    parsed = _parsed(html)
    assert parsed.scripts == 0
    assert "<script>" not in html and "&lt;script&gt;alert(" in html
    assert "Acme &amp; &lt;Co&gt;" in html
    text = "".join(parsed.parts)
    assert dashboards.HOSTILE in text  # shown as the text it is


def test_the_header_says_what_the_view_covers() -> None:
    filters = Filters(training="Excel avancé", start=date(2026, 9, 1), end=date(2026, 11, 30))
    text = " ".join(" ".join(_parsed(_render("fr", filters)).parts).split())
    assert "la formation Excel avancé (toutes ses sessions)" in text
    assert "du 1er sept. 2026 au 30 nov. 2026" in text
    assert "27 nov. 2026, 11:00 (Europe/Paris)" in text
    text = " ".join(" ".join(_parsed(_render("en", Filters(session="K7Q2"))).parts).split())
    assert "the session K7Q2" in text and "from the start" in text


def test_figures_under_three_answers_read_not_enough() -> None:
    html = _render("en")
    pulses = html.split('<section id="pulses"', 1)[1].split("</section>", 1)[0]
    assert pulses.count("not enough answers") == 4  # October's NPS and LSAT, both tables
    assert "r = 0.94 over n = 6" in pulses


def test_the_filters_keep_the_view_and_explain_what_was_left_out() -> None:
    filters = Filters(session="K7Q2", start=date(2026, 9, 1))
    errors = (FilterError("dashboard.filter_date_bad", "to"),)
    html = _render("en", filters, errors=errors)
    assert '<option value="K7Q2" selected>' in html
    assert '<input type="date" name="from" value="2026-09-01">' in html
    assert '<input type="date" name="to" value="">' in html
    assert "Write dates as YYYY-MM-DD" in html
    assert 'href="/dashboard/funnel.csv?session=K7Q2&amp;from=2026-09-01"' in html


def test_a_training_nothing_matches_says_so() -> None:
    html = _render("fr", Filters(training="Inconnue"), session_ids=())
    assert "Aucune session ne correspond à ces filtres" in html
    assert '<option value="Inconnue" selected>' in html


_SVG = re.compile(r"<svg .*?</svg>", re.S)


def _french_faults(text: str) -> list[str]:
    for data in (dashboards.HOSTILE, '=HYPERLINK("https://evil.example")', "Europe/Paris"):
        text = text.replace(data, "")  # what people typed stays as they typed it
    text = re.sub(r"\d{1,2}:\d{2}", "", text)  # times
    faults = re.findall(r".{0,20}[^\u202f][;!?%]", text) + re.findall(r".{0,20}[^\u00a0]:", text)
    return faults + (['"'] if '"' in text else [])


def test_french_text_follows_french_typography() -> None:
    html = _render("fr")
    text = "".join(_parsed(_SVG.sub("", html)).parts)
    assert _french_faults(text) == []
    assert text.count("\u00a0:") > 5 and "r = 0,94 sur n = 6" in text


def test_the_charts_french_text_follows_french_typography() -> None:
    charts = "".join(_SVG.findall(_render("fr")))
    assert _french_faults("".join(_parsed(charts).parts)) == []


def test_the_refusal_speaks_both_languages_when_the_reader_is_unknown() -> None:
    html = page.refused(None, "missing")
    assert "<code>dashboard</code>" in html and "<code>tableau de bord</code>" in html
    assert '<section lang="fr">' in html and '<section lang="en">' in html
    known = page.refused("fr", "role")
    assert '<html lang="fr">' in known and "Ask an admin" not in known


def test_the_opening_page_goes_on_without_script() -> None:
    html = page.opening("fr", "/dashboard?training=A%26B")
    assert '<meta http-equiv="refresh" content="0; url=/dashboard?training=A%26B">' in html
    assert '<a href="/dashboard?training=A%26B">Ouvrir le tableau de pilotage</a>' in html
    assert "<script" not in html


def test_the_policy_allows_no_script_and_nothing_from_elsewhere() -> None:
    policy = page.CSP
    assert policy.startswith("default-src 'none';")
    assert "style-src 'self';" in policy and "img-src 'self' data:" in policy
    assert "script-src" not in policy and "http" not in policy


def test_long_tables_fold_under_their_title_short_ones_stay_open() -> None:
    sample = dashboards.sample()
    weeks = tuple(
        replace(sample.activity.weeks[0], week=date(2026, 6, 1) + timedelta(weeks=n))
        for n in range(page.UNFOLDED_ROWS + 1)
    )
    sample = replace(sample, activity=replace(sample.activity, weeks=weeks))
    reader = Reader(Translator("fr"), "Europe/Paris", DEFAULT_LADDER)
    html = page.render(sample, reader, workspace_name="Acme")
    weekly = html.split('id="table-lgc_weeks"', 1)[1].split("</details>", 1)[0]
    assert weekly.startswith(">\n<details>\n")
    assert 'Semaine par semaine</span> <span class="table-size">(13 lignes)' in weekly
    funnel = html.split('id="table-funnel"', 1)[1]
    assert funnel.startswith(">\n<details open>\n")


def _weekly_head(html: str) -> list[list[tuple[dict[str, str], str]]]:
    """The weekly table's head: each row's cells as (attributes, text)."""
    head = html.split('id="table-lgc_weeks"', 1)[1].split("</thead>", 1)[0]
    return [
        [
            (
                {
                    name: unescape(value)
                    for name, value in re.findall(r'(\w+)="([^"]*)"', attributes)
                },
                unescape(text),
            )
            for attributes, text in re.findall(r"<th([^>]*)>([^<]*)</th>", row)
        ]
        for row in head.split("</tr>")[:-1]
    ]


def test_the_weekly_table_shows_dislikes_received_next_to_likes() -> None:
    sample = dashboards.sample()
    weeks = (replace(sample.activity.weeks[0], likes_received=5, dislikes_received=2),)
    sample = replace(sample, activity=replace(sample.activity, weeks=weeks))
    for locale, likes, dislikes in (
        ("en", "Likes received", "“Not useful” received"),
        ("fr", "J'aime reçus", "«\u00a0Pas utile\u00a0» reçus"),
    ):
        reader = Reader(Translator(locale), "Europe/Paris", DEFAULT_LADDER)
        html = page.render(sample, reader, workspace_name="Acme")
        table = tables.tables(sample, reader)["lgc_weeks"]
        headers = [reader.t(f"dashboard.col.{column}") for column in table.columns]
        assert headers.index(dislikes) == headers.index(likes) + 1, locale
        # The page's two-row head: the last cell of each row heads the last columns.
        top, below = _weekly_head(html)
        assert below[-1][0]["title"] == likes and top[-1][1] == dislikes, locale
        weekly = html.split('id="table-lgc_weeks"', 1)[1].split("</table>", 1)[0]
        cells = re.findall(r"<td[^>]*>([^<]*)</td>", weekly)
        assert cells[-2:] == ["5", "2"], cells


@pytest.mark.parametrize("locale", ["en", "fr"])
def test_the_weekly_table_gives_every_kind_and_the_replies_under_grouped_headers(
    locale: str,
) -> None:
    """Tips, questions, experience reports and watch links, their densities, and the
    replies to questions, each in its column; the head groups them so that the table fits
    (short headers, the full one as a tooltip), the CSV keeps the full headers."""
    sample = dashboards.sample()
    week = replace(
        sample.activity.weeks[0], shares=7, questions=3, experiences=1, watches=1, replies=4
    )
    sample = replace(sample, activity=replace(sample.activity, weeks=(week,)))
    reader = Reader(Translator(locale), "Europe/Paris", DEFAULT_LADDER)
    table = tables.tables(sample, reader)["lgc_weeks"]
    [row] = table.rows
    values = dict(zip(table.columns, row, strict=True))
    assert (values["tips"], values["questions"], values["replies"]) == (2, 3, 4)
    assert (values["tips_density"], values["questions_density"]) == (0.2, 0.3)

    html = page.render(sample, reader, workspace_name="Acme")
    top, below = _weekly_head(html)
    spans = [int(attributes.get("colspan", "1")) for attributes, _ in top]
    alone = [attributes for attributes, _ in top if attributes.get("rowspan") == "2"]
    assert sum(spans) == len(table.columns) == len(alone) + len(below)
    titles = [attributes["title"] for attributes, _ in below]
    t = reader.t
    for column in ("tips", "questions", "experiences", "watches", "tips_density"):
        assert t(f"dashboard.col.{column}") in titles, column
    assert t("dashboard.col.replies") in [text for _, text in top]
    assert 'class="table wide" id="table-lgc_weeks"' in html
    weekly = html.split('id="table-lgc_weeks"', 1)[1].split("</table>", 1)[0]
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", weekly)
    assert len(cells) == len(table.columns)
    assert cells[table.columns.index("replies")] == "4"
    assert cells[table.columns.index("tips")] == "2"


def _cut_sample(filters: Filters | None = None) -> object:
    """The sample as the page's view of a large workspace: every list cut."""
    d = dashboards.sample(filters)
    return replace(
        d,
        scope=replace(d.scope, sessions_total=7132),
        pulses=replace(d.pulses, pulses_in_scope=7155),
        activity=replace(d.activity, heat_trainings=40),
        mentoring=replace(
            d.mentoring, waiting_count=1124, mentors_count=33595, load_sum=22179, capacity_sum=67190
        ),
    )


@pytest.mark.parametrize("locale", ["en", "fr"])
def test_a_cut_list_says_how_long_it_is_and_that_the_csv_has_it_all(locale: str) -> None:
    reader = Reader(Translator(locale), "Europe/Paris", DEFAULT_LADDER)
    html = page.render(_cut_sample(), reader, workspace_name="Acme")  # type: ignore[arg-type]
    text = " ".join(_parsed(_SVG.sub("", html)).parts)
    group = "," if locale == "en" else "\u202f"
    for total in ("7155", "7132", "1124", "33595", "22179", "67190"):
        assert f"{total[:-3]}{group}{total[-3:]}" in text, total
    # Four lists cut (pulses, heat map, waiting novices, mentors), each pointing to its CSV,
    # and the funnel's and the challenges' notes, which always say the CSV has every row.
    assert text.count("in the CSV" if locale == "en" else "dans le CSV") == 4 + 2
    if locale == "fr":
        assert _french_faults("".join(_parsed(_SVG.sub("", html)).parts)) == []
    # Lists that are whole say nothing of the sort.
    whole = _render(locale)
    assert "7155" not in whole and "of 7" not in whole


def test_the_notes_of_cut_lists_read_as_in_the_catalogue() -> None:
    reader = Reader(Translator("en"), "Europe/Paris", DEFAULT_LADDER)
    d = _cut_sample()
    html = page.render(d, reader, workspace_name="Acme")  # type: ignore[arg-type]
    shown = len(d.pulses.per_pulse)  # type: ignore[attr-defined]
    assert f"show the {shown} latest of 7,155 pulses — all of them in the CSV." in html
    assert "The session menu lists the" in html and "latest of 7,132 sessions." in html
    assert "available mentors — all of them in the CSV. In all: 22,179 current novices" in html
