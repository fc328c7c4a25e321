"""The dashboard's tables from a hand-made community: figures computed by hand, words in the
reader's language, "not enough answers" below 3, and how cells read on the page and in CSV."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

import pytest

from bot.dashboard import tables
from bot.dashboard.tables import Reader
from bot.handlers.pulse_results import signed
from bot.i18n import Translator
from bot.ladder import DEFAULT_LADDER
from bot.steering.model import PulsePoint
from tests.support import dashboards


def _reader(locale: str) -> Reader:
    return Reader(Translator(locale), "Europe/Paris", DEFAULT_LADDER)


def _column(table: tables.Table, name: str) -> list[object]:
    index = table.columns.index(name)
    return [row[index] for row in table.rows]


def test_every_table_of_the_page_is_built_with_one_cell_per_column() -> None:
    built = tables.tables(dashboards.sample(), _reader("en"))
    assert tuple(built) == tables.KEYS
    for table in built.values():
        assert all(len(row) == len(table.columns) for row in table.rows), table.key


def test_nps_and_lsat_per_pulse_hide_what_fewer_than_three_answers_say() -> None:
    built = tables.tables(dashboards.sample(), _reader("en"))
    pulses = built["nps_pulses"]
    # September: 10, 9, 7, 3 → 2 promoters, 1 detractor of 4 → +25; LSAT (5+4+3+1)/4 = 3.25.
    # October: 2 answers only → no NPS, no LSAT.
    assert _column(pulses, "nps") == [25.0, None]
    assert _column(pulses, "lsat") == [3.25, None]
    assert _column(pulses, "response_rate") == [50.0, 50.0]  # 4 of 8, 2 of 4
    assert _column(built["nps_months"], "month") == ["2026-09", "2026-10"]


def test_key_figures_by_hand() -> None:
    figures = {kpi.code: kpi.value for kpi in tables.kpis(dashboards.sample())}
    # Six answers: promoters 10, 9, 10; detractors 3, 2 → (3 − 2) / 6 = +16.7.
    assert figures["nps"] == 16.7
    assert figures["lsat"] == 3.33  # (5+4+3+1+5+2) / 6
    assert figures["response_rate"] == 50.0  # 6 answers, 12 asked
    assert figures["contributors_share"] == 60.0  # 6 of 10 members
    assert figures["met_rate"] == 50.0  # 1 met of 2 checked
    assert (figures["members"], figures["referrals_made"], figures["pairs"]) == (10, 5, 3)


def test_words_are_the_readers() -> None:
    built = tables.tables(dashboards.sample(), _reader("fr"))
    assert _column(built["badge_levels"], "level") == ["Junior", "Confirmé", "Senior"]
    assert _column(built["badge_months"], "level") == ["Junior", "Confirmé"]
    [reason] = _column(built["mentoring_waiting"], "reason")
    assert reason == "les mentors qui parlent sa langue n'ont plus de place"
    assert _column(built["funnel"], "session")[-1] == "Toutes les sessions du périmètre"
    assert _column(built["kpis"], "indicator")[2] == "Part des membres qui ont contribué (%)"


def test_cells_read_in_the_readers_language_on_the_page() -> None:
    fr, en = _reader("fr"), _reader("en")
    assert tables.page_text(fr, "nps", None) == "pas assez de réponses"
    assert tables.page_text(en, "lsat", None) == "not enough answers"
    assert tables.page_text(en, "present", None) == "—"
    assert tables.page_text(fr, "nps", 16.7) == "+17"  # as `pulse results` writes it
    assert tables.page_text(fr, "nps", -25.0) == "-25"
    assert tables.page_text(fr, "lsat", 3.25) == "3,25"
    assert tables.page_text(fr, "response_rate", 50.0) == "50,0\u202f%"
    assert tables.page_text(en, "response_rate", 50.0) == "50.0%"
    assert tables.page_text(fr, "median_days", 31.5) == "31,5\u00a0j"
    assert tables.page_text(fr, "week", date(2026, 9, 1)) == "1er\u00a0sept.\u00a02026"
    assert tables.page_text(en, "members", 12345) == "12,345"
    assert tables.page_text(fr, "month", "2026-10") == "oct. 2026"
    assert tables.page_text(en, "posted", datetime(2026, 9, 30, 23, 30, tzinfo=UTC)) == (
        "1\u00a0Oct\u00a02026"  # in the reader's zone (Paris)
    )


def test_cells_read_as_plain_values_in_csv() -> None:
    assert tables.csv_text(None, "Europe/Paris") == ""
    assert tables.csv_text(16.7, "Europe/Paris") == "16.7"
    assert tables.csv_text(12345, "Europe/Paris") == "12345"
    assert tables.csv_text(date(2026, 9, 1), "Europe/Paris") == "2026-09-01"
    when = datetime(2026, 9, 30, 23, 30, tzinfo=UTC)
    assert tables.csv_text(when, "Europe/Paris") == "2026-10-01T01:30+02:00"


@dataclass(frozen=True)
class _AboutCommunity(PulsePoint):
    """A pulse about the whole community, as figures-pulses marks it (`community`)."""

    community: bool = True


def test_pulses_about_the_whole_community_are_named_in_words() -> None:
    point = _AboutCommunity("community", date(2026, 10, 1), dashboards.OCTOBER, 4)
    sample = dashboards.sample()
    sample = replace(sample, pulses=replace(sample.pulses, per_pulse=(point,)))
    built = tables.tables(sample, _reader("fr"))
    assert _column(built["nps_pulses"], "pulse") == ["Toute la communauté"]
    numbered = replace(point, label="#8 community")
    sample = replace(sample, pulses=replace(sample.pulses, per_pulse=(numbered,)))
    built = tables.tables(sample, _reader("fr"))
    assert _column(built["nps_pulses"], "pulse") == ["#8 Toute la communauté"]


@pytest.mark.parametrize("locale", ["en", "fr"])
def test_the_readers_numbers_are_the_translators(locale: str) -> None:
    reader = _reader(locale)
    values = [0, 1, -1, 7, 999, 1000, 12345, -12345, 1234567, 0.5, 1.5, 2.5, 2.675, 0.125]
    values += [-0.004, 3.14159, 99.95, 1234.5678, -2.5, 16.666, 100.0, 1e7 + 0.25]
    for value in values:
        for digits in (0, 1, 2):
            assert reader.number(value, digits) == reader.t.number(value, digits), (value, digits)
    for nps in (16.7, -25.0, 0.4, -0.5, 0.5, 99.5, -99.5, 33.3):
        assert reader.signed(nps) == signed(reader.t, nps), nps


def test_the_voice_tables_sign_the_feeling_and_name_themes_in_both_languages() -> None:
    reader = _reader("fr")
    built = tables.tables(dashboards.sample(), reader)
    [theme] = built["themes"].rows
    assert theme[:3] == (1, "délégation · équipe / delegation · " + dashboards.HOSTILE, 5)
    assert theme[-2] == 40.0  # (3 positive − 1 negative) / 5 posts
    assert tables.page_text(reader, "feeling", theme[-2]) == "+40"
    assert theme[3] is None, "2 posts before, 4 now: too few for a trend"
    assert built["themes_trainings"].rows == (("Excel avancé", 5, 3, 1, 1, 40.0),)
    negative = tables.page_text(reader, "feeling", -17.0)
    assert negative == signed(reader.t, -17), "signed as the chat signs it"
