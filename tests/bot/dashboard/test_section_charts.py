"""Each section's charts, from a hand-made community: what they show, in both languages."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

import pytest

from bot.dashboard import section_charts as sc
from bot.dashboard.charts import Chart, Circle, Rect, Text
from bot.dashboard.svg import svg
from bot.i18n import Translator
from bot.ladder import DEFAULT_LADDER
from bot.steering.model import COMMUNITY, Badges, LevelFigures, PulsePoint, ReferralRow
from storage.pulses import PulseSums
from tests.bot.dashboard.community import dashboard


def _all(t: Translator, *, empty: bool = False) -> list[Chart]:
    d = dashboard(empty=empty)
    p = d.pulses
    return [
        sc.funnel_total(d.funnel, t),
        sc.funnel_sessions(d.funnel, t),
        sc.nps(p.per_pulse, t, per="pulse"),
        sc.nps(p.per_month, t, per="month"),
        sc.nps_mix(p.per_month, t, per="month"),
        sc.response_rate(p.per_pulse, t, per="pulse"),
        sc.lsat(p.per_month, t, per="month"),
        sc.scatter(p, t),
        sc.density(d.activity, t),
        sc.heat(d.activity, t),
        sc.challenges(d.challenges, t),
        sc.referrals(d.referrals, t),
        sc.badge_holders(d.badges, t, DEFAULT_LADDER),
        sc.promotions(d.badges, t, DEFAULT_LADDER),
        sc.time_to_level(d.badges, t, DEFAULT_LADDER),
        sc.mentor_load(d.mentoring, t),
    ]  # fmt: skip


def _bars(chart: Chart) -> list[Rect]:
    return [s for s in chart.shapes if isinstance(s, Rect) and " · " in s.tooltip]


def _tips(chart: Chart) -> list[str]:
    return [s.tooltip for s in chart.shapes if isinstance(s, Rect | Circle) and " · " in s.tooltip]


@pytest.mark.parametrize("locale", ["en", "fr"])
@pytest.mark.parametrize("empty", [False, True])
def test_every_section_chart_renders_in_both_languages(locale: str, empty: bool) -> None:
    for chart in _all(Translator(locale), empty=empty):
        assert chart.title and chart.shapes
        ET.fromstring(svg(chart))


def test_the_latest_sessions_funnels_read_oldest_first() -> None:
    chart = sc.funnel_sessions(dashboard().funnel, Translator("en"))
    labels = [s.text for s in chart.shapes if isinstance(s, Text) and s.cls == "label"]
    assert labels == ["B3ZT", "K7Q2"]
    assert "B3ZT · At the session" not in " ".join(_tips(chart))  # unknown: no bar
    assert "K7Q2 · At the session · 25" in _tips(chart)


def test_the_answer_mix_is_in_percent_and_hidden_under_three_answers() -> None:
    chart = sc.nps_mix(dashboard().pulses.per_month, Translator("fr"), per="month")
    # October: 5 answers, all promoters; November: 2 answers, hidden.
    assert _tips(chart) == [
        "oct. 2026 · Promoteurs (9–10) · 100\u202f%",
        "oct. 2026 · Passifs (7–8) · 0\u202f%",
        "oct. 2026 · Détracteurs (0–6) · 0\u202f%",
    ]
    assert chart.title.startswith("Promoteurs, passifs et détracteurs par mois")


def test_the_answer_mix_axis_ends_at_100_even_when_rounded_shares_add_up_to_more() -> None:
    # 7 answers: 2 promoters, 2 passives, 3 detractors → 28.6 + 28.6 + 42.9 = 100.1 %.
    sums = PulseSums(answers=7, promoters=2, detractors=3)
    point = PulsePoint(label="2026-10", when=date(2026, 10, 1), sums=sums, asked=10)
    chart = sc.nps_mix([point], Translator("en"), per="month")
    ticks = [s.text for s in chart.shapes if isinstance(s, Text) and s.cls == "tick"]
    assert ticks[-1] == "100%" and "125%" not in ticks


def test_the_scatter_shows_r_and_n_and_every_answer_as_a_bubble() -> None:
    d = dashboard()
    chart = sc.scatter(d.pulses, Translator("fr"))
    note = next(s.text for s in chart.shapes if isinstance(s, Text) and s.cls == "note")
    assert note.startswith("r = 0,") and note.endswith("· n = 10")
    bubbles = [s for s in chart.shapes if isinstance(s, Circle)]
    assert len(bubbles) == len(d.pulses.grid)


def test_a_scatter_over_too_few_answers_shows_no_bubble_and_says_why() -> None:
    chart = sc.scatter(dashboard(empty=True).pulses, Translator("en"))
    assert not [s for s in chart.shapes if isinstance(s, Circle)]
    notes = [s.text for s in chart.shapes if isinstance(s, Text) and s.cls == "note"]
    assert notes == ["r: not enough answers · n = 0", "Nothing to show in this view yet"]


def test_the_heat_map_tells_no_members_from_zero() -> None:
    chart = sc.heat(dashboard().activity, Translator("en"))
    cells = {r.tooltip: r.cls for r in chart.shapes if isinstance(r, Rect) and ": " in r.tooltip}
    assert cells["Power BI · 19 Oct: 0"] == "heat-0"
    assert cells["Power BI · 26 Oct: no members that week"] == "heat-none"
    assert cells["Excel avancé · 26 Oct: 1.25"] == "heat-4"


def test_challenges_stack_success_on_not_yet_oldest_first() -> None:
    chart = sc.challenges(dashboard().challenges, Translator("en"))
    assert _tips(chart) == [
        "#1 · 7 Sep · Success · 8", "#1 · 7 Sep · Not yet · 1",
        "#2 · 14 Sep · Success · 0", "#2 · 14 Sep · Not yet · 0",
        "#3 · 21 Sep · Success · 4", "#3 · 21 Sep · Not yet · 2",
    ]  # fmt: skip


def test_promotions_stack_the_ladder_lowest_first() -> None:
    chart = sc.promotions(dashboard().badges, Translator("fr"), DEFAULT_LADDER)
    legend = [s.text for s in chart.shapes if isinstance(s, Text) and s.cls == "legend"]
    assert legend == ["Junior", "Confirmé", "Senior"]
    assert "nov. 2026 · Senior · 1" in _tips(chart)
    assert "oct. 2026 · Senior · 0" in _tips(chart)


def test_time_to_level_leaves_a_level_without_holders_blank() -> None:
    junior = dashboard().badges.levels[0]
    badges = Badges(levels=(junior, LevelFigures("senior", 0, 0, None)))
    chart = sc.time_to_level(badges, Translator("en"), DEFAULT_LADDER)
    assert _tips(chart) == ["Junior · Median days · 10"]


def test_mentor_load_shows_the_busiest_mentors_only() -> None:
    chart = sc.mentor_load(dashboard().mentoring, Translator("en"))
    labels = [s.text for s in chart.shapes if isinstance(s, Text) and s.cls == "label"]
    assert len(labels) == sc.MOST_MENTORS
    # Load 2 first (by name), then 1, then the first two of load 0.
    assert labels[:2] == ["Mentor 11", "Mentor 14"] and labels[-2:] == ["Mentor 0", "Mentor 12"]


def test_rows_about_the_whole_community_are_named_in_the_readers_words() -> None:
    # The demo's community pulse showed `community` under its bar on the French page.
    row = ReferralRow(COMMUNITY, 2, 1, 1, 0, community=True)
    point = PulsePoint(f"#8 {COMMUNITY}", date(2026, 10, 1), PulseSums(), 4, community=True)
    texts = [
        s.text
        for chart in (
            sc.referrals((row,), Translator("fr")),
            sc.nps((point,), Translator("fr"), per="pulse"),
        )
        for s in chart.shapes
        if isinstance(s, Text)
    ]
    assert "Toute la communauté" in texts and "#8 Toute la communauté" in texts
    assert not any(COMMUNITY in text for text in texts)
