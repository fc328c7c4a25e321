"""The chart model: scales, ticks, gaps and labels computed from hand-picked data."""

from __future__ import annotations

import pytest

from bot.dashboard.charts import (
    PALETTE,
    Chart,
    Circle,
    Line,
    Rect,
    Scale,
    Text,
    bar_chart,
    heat_map,
    line_chart,
    locale_number,
    nice_ticks,
    plain_number,
    scatter_chart,
    shorten,
)


def _rects(chart: Chart, cls: str) -> list[Rect]:
    """The bars of a class (legend swatches, whose tooltip is the series' name, left out)."""
    return [s for s in chart.shapes if isinstance(s, Rect) and s.cls == cls and " · " in s.tooltip]


def _texts(chart: Chart, cls: str) -> list[str]:
    return [s.text for s in chart.shapes if isinstance(s, Text) and s.cls == cls]


def _lines(chart: Chart, cls: str) -> list[Line]:
    return [s for s in chart.shapes if isinstance(s, Line) and s.cls == cls]


# --- numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("low", "high", "integer", "ticks"),
    [
        (0, 47, False, [0, 10, 20, 30, 40, 50]),
        (-100, 100, False, [-100, -50, 0, 50, 100]),
        (1, 5, True, [1, 2, 3, 4, 5]),
        (0, 0.37, False, [0, 0.1, 0.2, 0.3, 0.4]),
        (0, 12, True, [0, 5, 10, 15]),  # 2.5 is no step for counts
        (0, 12, False, [0, 2.5, 5, 7.5, 10, 12.5]),
        (0, 3, True, [0, 1, 2, 3]),
        (0, 0, False, [0, 0.2, 0.4, 0.6, 0.8, 1]),  # nothing to show still gets an axis
        (-12, 37, False, [-20, -10, 0, 10, 20, 30, 40]),
    ],
)
def test_nice_ticks_cover_the_data_with_round_numbers(
    low: float, high: float, integer: bool, ticks: list[float]
) -> None:
    assert nice_ticks(low, high, integer=integer) == ticks


def test_a_scale_maps_the_domain_onto_pixels_either_way() -> None:
    vertical = Scale(0, 50, 200, 0)
    assert (vertical(0), vertical(25), vertical(50)) == (200, 100, 0)
    assert Scale(-100, 100, 0, 400)(0) == 200


def test_numbers_are_formatted_by_the_caller_language() -> None:
    assert plain_number(0.25) == "0.25"
    assert plain_number(3.0) == "3"
    assert plain_number(-0.001) == "0"
    assert locale_number("fr")(0.25) == "0,25"
    assert locale_number("fr")(1234) == "1\u202f234"
    assert locale_number("en")(1234.5) == "1,234.5"


def test_long_labels_are_cut_with_an_ellipsis() -> None:
    assert shorten("Excel avancé", 20) == "Excel avancé"
    assert shorten("Python pour l'analyse de données", 10) == "Python po…"


def test_the_first_series_stay_apart_in_grey() -> None:
    def grey(colour: str) -> float:
        r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
        return 0.299 * r + 0.587 * g + 0.114 * b

    greys = [grey(colour) for colour in PALETTE[:3]]
    assert all(abs(a - b) >= 0.15 for i, a in enumerate(greys) for b in greys[i + 1 :])


# --- bar charts ---------------------------------------------------------------------------


def test_bars_are_proportional_and_none_is_a_gap_not_a_zero() -> None:
    chart = bar_chart("Answers", ["#1", "#2", "#3", "#4"], [("answers", [10, None, 30, 0])])
    bars = _rects(chart, "series-0")
    assert len(bars) == 3  # #2 has no bar; #4 has a bar of height 0
    assert bars[1].height == pytest.approx(3 * bars[0].height)
    assert bars[2].height == 0
    # The bars stand on the same baseline, the axis' 0.
    assert bars[0].y + bars[0].height == pytest.approx(bars[1].y + bars[1].height)
    assert _texts(chart, "tick") == ["0", "10", "20", "30"]
    assert _texts(chart, "label") == ["#1", "#2", "#3", "#4"]  # every category keeps its label
    assert [b.tooltip for b in bars] == [
        "#1 · answers · 10",
        "#3 · answers · 30",
        "#4 · answers · 0",
    ]


def test_stacked_segments_start_where_the_previous_one_ends() -> None:
    chart = bar_chart(
        "Challenges",
        ["#1", "#2"],
        [("success", [6, 2]), ("not yet", [2, None])],
        stacked=True,
    )
    success, not_yet = _rects(chart, "series-0"), _rects(chart, "series-1")
    assert len(success) == 2 and len(not_yet) == 1
    assert not_yet[0].y + not_yet[0].height == pytest.approx(success[0].y)
    assert not_yet[0].x == success[0].x and not_yet[0].width == success[0].width
    assert success[0].height == pytest.approx(3 * not_yet[0].height)
    assert _texts(chart, "tick")[-1] == "8"  # the axis reaches the stack's total
    assert _texts(chart, "legend") == ["success", "not yet"]


def test_grouped_bars_sit_side_by_side_in_their_category() -> None:
    chart = bar_chart("Referrals", ["Excel", "Power BI"], [("made", [4, 2]), ("converted", [1, 1])])
    made, converted = _rects(chart, "series-0"), _rects(chart, "series-1")
    assert made[0].x + made[0].width == pytest.approx(converted[0].x)
    assert converted[0].x + converted[0].width < made[1].x


def test_a_horizontal_funnel_labels_each_bar_with_its_value() -> None:
    steps = ["present", "joined", "first contribution", "Junior", "Confirmed"]
    chart = bar_chart(
        "Funnel", steps, [("learners", [None, 48, 30, 22, 9])], horizontal=True, unit=""
    )
    bars = _rects(chart, "series-0")
    assert len(bars) == 4
    assert bars[0].width == pytest.approx(48 / 30 * bars[1].width)
    assert all(b.x == bars[0].x for b in bars)
    assert _texts(chart, "value") == ["48", "30", "22", "9"]
    assert _texts(chart, "label") == steps
    assert _texts(chart, "tick") == ["0", "10", "20", "30", "40", "50"]
    assert _texts(chart, "legend") == []  # one series: no legend


def test_long_category_labels_are_shortened_and_keep_the_full_text_as_a_tooltip() -> None:
    name = "Python pour l'analyse de données avec pandas et matplotlib"
    chart = bar_chart("T", [name, "Excel"], [("s", [1, 2])], horizontal=True)
    label = next(s for s in chart.shapes if isinstance(s, Text) and s.tooltip == name)
    assert label.text.endswith("…") and len(label.text) < len(name)


def test_many_categories_show_one_label_in_a_few() -> None:
    weeks = [f"2026-W{n:02}" for n in range(1, 27)]
    chart = line_chart("Density", weeks, [("density", [0.5] * 26)])
    labels = _texts(chart, "label")
    assert 3 <= len(labels) < 26 and labels[0] == "2026-W01"


# --- line charts --------------------------------------------------------------------------


def test_a_line_breaks_where_a_value_is_missing() -> None:
    chart = line_chart("LSAT", ["a", "b", "c", "d", "e", "f"], [("LSAT", [1, 2, None, 4, 5, None])])
    runs = _lines(chart, "line-0")
    assert [len(run.points) for run in runs] == [2, 2]
    dots = [s for s in chart.shapes if isinstance(s, Circle)]
    assert len(dots) == 4


def test_a_lone_value_between_gaps_is_still_drawn_as_a_dot() -> None:
    chart = line_chart("NPS", ["a", "b", "c"], [("NPS", [None, 40, None])], y_min=-100, y_max=100)
    assert _lines(chart, "line-0") == []
    assert len([s for s in chart.shapes if isinstance(s, Circle)]) == 1


def test_nps_spans_minus_100_to_100_with_a_zero_line() -> None:
    chart = line_chart("NPS", ["2026-09", "2026-10"], [("NPS", [20, -12.5])], y_min=-100, y_max=100)
    assert _texts(chart, "tick") == ["-100", "-50", "0", "50", "100"]
    (zero,) = _lines(chart, "zero")
    dots = [s for s in chart.shapes if isinstance(s, Circle)]
    bottom = _lines(chart, "axis")[0].points[0][1]
    # 0 halfway up the plot; 20 above it, -12.5 below.
    assert zero.points[0][1] == pytest.approx((bottom + _tick_y(chart, "100")) / 2)
    assert dots[0].cy < zero.points[0][1] < dots[1].cy
    assert dots[0].tooltip == "2026-09 · NPS · 20"


def _tick_y(chart: Chart, text: str) -> float:
    tick = next(
        s for s in chart.shapes if isinstance(s, Text) and s.cls == "tick" and s.text == text
    )
    return tick.y - 4


def test_lsat_keeps_its_1_to_5_scale_without_a_zero_line() -> None:
    chart = line_chart("LSAT", ["a"], [("LSAT", [4.2])], y_min=1, y_max=5)
    assert _texts(chart, "tick") == ["1", "2", "3", "4", "5"]
    assert _lines(chart, "zero") == []


def test_french_ticks_use_decimal_commas() -> None:
    chart = line_chart(
        "Densité", ["a", "b"], [("d", [0.1, 0.37])], format_number=locale_number("fr")
    )
    assert _texts(chart, "tick") == ["0", "0,1", "0,2", "0,3", "0,4"]


# --- scatter ------------------------------------------------------------------------------


def test_bubbles_sit_on_their_values_with_areas_in_proportion_to_counts() -> None:
    chart = scatter_chart(
        "NPS × LSAT",
        [(10, 5, 16), (9, 4, 4), (3, 1, 0)],
        "score",
        "LSAT",
        (0, 10),
        (1, 5),
        "r = 0,62 · n = 48",
    )
    bubbles = sorted((s for s in chart.shapes if isinstance(s, Circle)), key=lambda c: c.cx)
    assert len(bubbles) == 2  # a count of 0 draws nothing
    assert bubbles[1].r == pytest.approx(2 * bubbles[0].r)
    assert bubbles[1].cx > bubbles[0].cx and bubbles[1].cy < bubbles[0].cy
    assert _texts(chart, "note") == ["r = 0,62 · n = 48"]
    ticks = _texts(chart, "tick")
    assert ticks[:5] == ["1", "2", "3", "4", "5"]
    assert ticks[5:] == [str(n) for n in range(11)]


# --- heat map -----------------------------------------------------------------------------


def test_heat_map_bins_values_and_keeps_none_apart_from_zero() -> None:
    chart = heat_map(
        "Heat",
        ["Excel", "Python"],
        ["W1", "W2"],
        {("Excel", "W1"): 0.0, ("Excel", "W2"): 0.45, ("Python", "W1"): None},
        none_label="no value",
    )
    cells = [s for s in chart.shapes if isinstance(s, Rect) and s.tooltip.count(" · ") == 1]
    by_tip = {cell.tooltip: cell.cls for cell in cells}
    assert by_tip == {
        "Excel · W1: 0": "heat-0",
        "Excel · W2: 0.45": "heat-4",
        "Python · W1: no value": "heat-none",
        "Python · W2: no value": "heat-none",  # missing from the data: no value either
    }
    assert _texts(chart, "legend") == [
        "0–0.1",
        "0.1–0.2",
        "0.2–0.3",
        "0.3–0.4",
        "0.4–0.5",
        "no value",
    ]


def test_small_counts_get_whole_ticks() -> None:
    chart = bar_chart("Converted", ["Excel", "Power BI"], [("converted", [3, 1])])
    assert _texts(chart, "tick") == ["0", "1", "2", "3"]


def test_a_line_legend_shows_each_line_with_its_dashes() -> None:
    chart = line_chart("LSAT", ["a", "b"], [("Excel", [4, 5]), ("Power BI", [3, 4])])
    samples = [
        s for s in chart.shapes if isinstance(s, Line) and s.tooltip in ("Excel", "Power BI")
    ]
    assert [s.cls for s in samples] == ["line-0", "line-1"]
    assert _texts(chart, "legend") == ["Excel", "Power BI"]


def test_labels_that_do_not_fit_go_on_two_lines() -> None:
    chart = bar_chart("Badges", ["No level yet at all", "Junior"], [("holders", [3, 2])], width=200)
    labels = [s for s in chart.shapes if isinstance(s, Text) and s.cls == "label"]
    assert [s.text for s in labels][:2] == ["No level", "yet at all"]
    assert labels[1].y > labels[0].y and labels[0].x == labels[1].x


def test_a_chart_without_any_value_says_so_and_one_with_a_zero_does_not() -> None:
    empty = "Nothing to show"
    assert _texts(line_chart("NPS", ["a"], [("NPS", [None])], empty=empty), "note") == [empty]
    assert _texts(bar_chart("B", [], [], empty=empty), "note") == [empty]
    assert _texts(heat_map("H", ["r"], ["c"], {}, empty=empty), "note") == [empty]
    assert _texts(bar_chart("B", ["a"], [("s", [0])], empty=empty), "note") == []


def test_the_description_lists_the_values_for_screen_readers() -> None:
    one = bar_chart("Funnel", ["joined", "present"], [("people", [48, None])], unit=" p")
    assert one.description == "Funnel. joined: 48 p; present: —"
    two = line_chart("LSAT", ["Oct", "Nov"], [("Excel", [4.25, None]), ("BI", [3, 4])])
    assert two.description == "LSAT. Oct: Excel 4.25, BI 3; Nov: Excel —, BI 4"
    scatter = scatter_chart("S", [(9, 4, 3)], "x", "y", (0, 10), (1, 5))
    assert scatter.description == "S. 9 × 4: 3"
    heat = heat_map("H", ["Excel"], ["W1"], {("Excel", "W1"): 0.5})
    assert heat.description == "H. Excel · W1: 0.5"
    given = bar_chart("T", ["a"], [("s", [1])], description="What it shows")
    assert given.description == "What it shows"
    many = bar_chart("Weeks", [str(n) for n in range(50)], [("s", [1] * 50)])
    assert many.description.endswith("; 39: 1; …")
