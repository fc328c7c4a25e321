"""The one-page PDF snapshot: one A4 landscape page, headline figures computed right, French
accents and typography surviving the standard PDF fonts."""

from __future__ import annotations

import io
import statistics
from dataclasses import replace
from datetime import date

import pytest
from pypdf import PdfReader

from bot.dashboard.headline import headlines
from bot.dashboard.pdfdraw import pdf_text
from bot.dashboard.snapshot import charts, filename, snapshot
from bot.i18n import Translator
from bot.ladder import DEFAULT_LADDER
from tests.bot.dashboard.community import ANSWERS, dashboard, week


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    # Spaces as one: a label wrapped on two lines reads as one.
    return " ".join(reader.pages[0].extract_text().split())


def test_headline_figures_are_computed_from_the_dashboard() -> None:
    figures = {
        h.label: (h.value, h.detail)
        for h in headlines(dashboard(), Translator("en"), DEFAULT_LADDER)
    }
    r = statistics.correlation([x for x, _ in ANSWERS], [y for _, y in ANSWERS])
    assert figures == {
        "Members": ("40", ""),
        "NPS": ("+50", "n = 10 · response rate 50%"),
        "Satisfaction (LSAT, 1–5)": ("4.0", "n = 10"),
        "NPS ↔ satisfaction (r)": (f"{r:.2f}", "n = 10"),
        "LGC density, last 4 full weeks": ("0.70", "contributions per member per week"),
        "Contributed at least once": ("45%", "18 of 40"),
        "Badge holders": ("18", "Junior 12 · Confirmed 5 · Senior 1"),
        "Mentoring pairs that met": ("75%", "6 of 8"),
    }


def test_missing_figures_read_as_a_dash_with_the_reason() -> None:
    figures = {
        h.label: (h.value, h.detail)
        for h in headlines(dashboard(empty=True), Translator("fr"), DEFAULT_LADDER)
    }
    assert figures["NPS"] == ("—", "pas assez de réponses (n = 0)")
    assert figures["Densité LGC, 4 dernières semaines pleines"][0] == "—"
    assert figures["Ont contribué au moins une fois"] == ("—", "")
    assert figures["Binômes de mentorat qui se sont vus"] == ("—", "aucun point d'étape encore")


def test_the_snapshot_is_one_a4_landscape_page() -> None:
    pdf = snapshot(dashboard(), Translator("en"))
    assert pdf.startswith(b"%PDF-") and b"/Count 1" in pdf
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (842, 595)


def test_the_french_snapshot_keeps_its_accents_and_figures() -> None:
    text = _text(snapshot(dashboard(), Translator("fr")))
    for expected in (
        "Tableau de pilotage",
        "Formation : Excel avancé, du 1er sept. 2026 au 30 nov. 2026",
        "Généré le 2 déc. 2026",
        "Membres",
        "Densité LGC, 4 dernières semaines pleines",
        "0,70",
        "+50",
        "4,0",
        "45 %",  # U+202F became a plain space, not a missing glyph
        "18 sur 40",
        "75 %",
        "Junior 12 · Confirmé 5 · Senior 1",
        "NPS <-> satisfaction (r)",
        "Entonnoir d'inscription",
        "Première contribution",
        "Densité LGC par semaine",
        "Pas encore de niveau",
        "oct. 2026",
    ):
        assert expected in text, expected


def test_an_empty_view_still_renders_one_page() -> None:
    text = _text(snapshot(dashboard(empty=True), Translator("en")))
    assert "not enough answers" in text and "no check-in yet" in text


def test_the_snapshot_charts_leave_gaps_for_missing_figures() -> None:
    funnel, nps, density, badges = charts(dashboard(), Translator("en"))
    assert funnel.title == "Sign-up funnel, all sessions in view"
    # The funnel's "at the session" is unknown: no bar, not a bar of 0.
    bars = [s for s in funnel.shapes if type(s).__name__ == "Rect" and " · " in s.tooltip]
    assert [b.tooltip.split(" · ")[0] for b in bars] == [
        "Joined", "First contribution", "Junior badge", "Confirmed badge",
    ]  # fmt: skip
    dots = [s for s in nps.shapes if type(s).__name__ == "Circle"]
    assert [d.tooltip for d in dots] == ["Oct 2026 · NPS · 100"]  # November: 2 answers, no NPS
    assert len([s for s in density.shapes if type(s).__name__ == "Circle"]) == 6
    assert "No level yet" in [getattr(s, "text", "") for s in badges.shapes]


@pytest.mark.parametrize(
    ("text", "drawn"),
    [
        ("45\u202f%", "45 %"),
        ("Formation\u00a0: Excel", "Formation : Excel"),
        ("\u221212", "-12"),
        ("NPS ↔ LSAT", "NPS <-> LSAT"),
        ("Léa, Zoë, Œuvre « là » — 1…2 – ’", "Léa, Zoë, Œuvre « là » — 1…2 – ’"),
        ("Ősz 🎉", "Osz "),
    ],
)
def test_text_is_mapped_to_what_standard_pdf_fonts_can_draw(text: str, drawn: str) -> None:
    assert pdf_text(text) == drawn


def test_the_download_is_named_after_the_day_in_the_view_time_zone() -> None:
    assert filename(dashboard()) == "dashboard-2026-12-02.pdf"


def test_the_density_leaves_out_the_week_under_way() -> None:
    d = dashboard()
    # Monday 30 Nov: two days old when the figures were made, with a burst of answers.
    under_way = week(date(2026, 11, 30), 25, 50, 0)
    d = replace(d, activity=replace(d.activity, weeks=(*d.activity.weeks, under_way)))
    figures = {h.label: h.value for h in headlines(d, Translator("en"), DEFAULT_LADDER)}
    assert figures["LGC density, last 4 full weeks"] == "0.70"


def test_a_long_training_name_stays_on_the_page() -> None:
    d = dashboard()
    long = replace(d.scope.filters, training="Excel avancé " * 16)
    pdf = snapshot(replace(d, scope=replace(d.scope, filters=long)), Translator("fr"))
    text = _text(pdf)
    assert "Formation : Excel avancé Excel avancé" in text and "…" in text
    assert "Généré le 2 déc. 2026" in text
