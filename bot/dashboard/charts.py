"""Charts as plain shapes, built by pure functions from plain data.

A `Chart` is a list of rectangles, lines, circles and texts in its own coordinates (origin
at the top left, y downwards, as in SVG), each with a style class. Two renderers draw the
same picture from it: bot/dashboard/svg.py (inline SVG for the page) and
bot/dashboard/pdfdraw.py (reportlab, for the one-page PDF snapshot). Everything the reader
sees is decided here — scales, ticks, shortened labels, legends — so the page and the PDF
cannot disagree.

Texts are given by the caller, already translated; numbers go through the caller's
`format_number` (so French gets decimal commas). `None` means "no value": a gap in a bar or
line chart, a distinct cell in a heat map, never a 0. A chart without a single value says
so in its middle, in the caller's words (`empty`). Without a `description`, a chart
describes itself for screen readers: its title, then its values (`Oct: 42; Nov: —`).

Style classes, for the page's stylesheet (`STYLES` gives each a default look): `title`,
`note`, `label` (categories, axis names), `tick`, `value` (a bar's figure), `legend`;
`axis`, `grid`, `zero` (NPS's 0 line); `series-0`…`series-7` (bars, dots, bubbles,
swatches), `line-0`…`line-7` (a series' line); `heat-0`…`heat-4` (light to dark) and
`heat-none` (no value).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise
from typing import Literal, NamedTuple

from babel.numbers import format_decimal

Anchor = Literal["start", "middle", "end"]
FormatNumber = Callable[[float], str]
Value = float | int | None


# --- the model ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Rect:
    """A filled rectangle (a bar, a cell, a legend swatch)."""

    x: float
    y: float
    width: float
    height: float
    cls: str
    tooltip: str = ""


@dataclass(frozen=True)
class Line:
    """A line (two points) or a polyline (more)."""

    points: tuple[tuple[float, float], ...]
    cls: str
    tooltip: str = ""


@dataclass(frozen=True)
class Circle:
    """A dot of a line chart or a bubble of a scatter chart."""

    cx: float
    cy: float
    r: float
    cls: str
    tooltip: str = ""


@dataclass(frozen=True)
class Text:
    """A text on its baseline at (x, y); `tooltip` holds the full text of a shortened one."""

    x: float
    y: float
    text: str
    cls: str
    anchor: Anchor = "start"
    tooltip: str = ""


Shape = Rect | Line | Circle | Text


@dataclass(frozen=True)
class Chart:
    """A picture: its size (in its own units), title, description for screen readers and
    whoever cannot see it, and its shapes, drawn in order."""

    width: float
    height: float
    title: str
    description: str
    shapes: tuple[Shape, ...]


class Series(NamedTuple):
    """One series of a bar or line chart: a name (for the legend) and one value per
    category (None: no value)."""

    name: str
    values: Sequence[Value]


# --- styles -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Style:
    """What a style class looks like without the page's stylesheet (and in the PDF)."""

    fill: str = "none"
    stroke: str = "none"
    stroke_width: float = 0.0
    font_size: float = 0.0
    bold: bool = False
    dash: tuple[float, ...] = ()


# Okabe & Ito's colour-blind-safe palette, ordered so that the first series also stay apart
# once printed in grey (dark blue, mid orange, light yellow: luma 0.34, 0.64, 0.84); bars get
# a dark outline so the light ones stay visible on white, and lines a dash pattern each.
# https://jfly.uni-koeln.de/color/
PALETTE = ("#0072B2", "#E69F00", "#F0E442", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#000000")
DASHES: tuple[tuple[float, ...], ...] = ((), (6, 3), (2, 2), (8, 3, 2, 3))
# A one-hue sequential scale (ColorBrewer "Blues"): light to dark, so it reads in grey too.
HEAT = ("#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c")
INK = "#222222"
MUTED = "#666666"

FONT = 12.0
SMALL = 11.0
TITLE_FONT = 14.0
# Average advance of a character in the sans-serif fonts used, as a share of the font size:
# enough to decide where to cut a label; the real width is never smaller by much.
CHAR = 0.58


def _styles() -> dict[str, Style]:
    styles = {
        "title": Style(fill=INK, font_size=TITLE_FONT, bold=True),
        "note": Style(fill=INK, font_size=SMALL),
        "label": Style(fill=INK, font_size=FONT),
        "tick": Style(fill=MUTED, font_size=SMALL),
        "value": Style(fill=INK, font_size=SMALL),
        "legend": Style(fill=INK, font_size=SMALL),
        "axis": Style(stroke=MUTED, stroke_width=1),
        "grid": Style(stroke="#dddddd", stroke_width=1),
        "zero": Style(stroke=INK, stroke_width=1.2, dash=(4, 3)),
        "heat-none": Style(fill="#ffffff", stroke="#999999", stroke_width=1, dash=(2, 2)),
    }
    for index, colour in enumerate(PALETTE):
        styles[f"series-{index}"] = Style(fill=colour, stroke=INK, stroke_width=0.5)
        styles[f"line-{index}"] = Style(
            stroke=colour, stroke_width=2, dash=DASHES[index % len(DASHES)]
        )
    for index, colour in enumerate(HEAT):
        styles[f"heat-{index}"] = Style(fill=colour, stroke="#ffffff", stroke_width=1)
    return styles


STYLES: Mapping[str, Style] = _styles()


def series_class(index: int) -> str:
    """The fill class of the index-th series (the palette repeats after 8)."""
    return f"series-{index % len(PALETTE)}"


def _line_class(index: int) -> str:
    return f"line-{index % len(PALETTE)}"


# --- numbers ------------------------------------------------------------------------------


def plain_number(value: float) -> str:
    """The default number format: at most 2 decimals, no trailing zeros, '.' decimals."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def locale_number(locale: str) -> FormatNumber:
    """A `format_number` for a language: `0,25` and `1 234` in French, `0.25` in English
    (at most 2 decimals)."""

    def format_number(value: float) -> str:
        return format_decimal(round(value, 2), format="#,##0.##", locale=locale)

    return format_number


def nice_step(span: float, count: int = 5, *, integer: bool = False) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10ⁿ that cuts `span` into at most `count` steps
    (whole steps only when `integer`)."""
    raw = span / max(count, 1)
    if raw <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 2.5, 5, 10):
        step = multiple * magnitude
        if integer and (step < 1 or step != int(step)):
            continue
        if step >= raw * (1 - 1e-9):
            return step
    return 10 * magnitude if not integer else max(1.0, math.ceil(raw))


def nice_ticks(low: float, high: float, count: int = 5, *, integer: bool = False) -> list[float]:
    """Round tick values covering [low, high]: (0, 47) → 0, 10, …, 50; (−100, 100) →
    −100, −50, 0, 50, 100. An empty span widens to show something."""
    if low > high:
        low, high = high, low
    if low == high:
        low, high = (low - 1, high + 1) if low else (0.0, 1.0)
    step = nice_step(high - low, count, integer=integer)
    start = math.floor(low / step + 1e-9) * step
    end = math.ceil(high / step - 1e-9) * step
    steps = round((end - start) / step)
    return [_clean(start + i * step) for i in range(steps + 1)]


def _clean(value: float) -> float:
    """Rounding noise off (0.30000000000000004 → 0.3)."""
    return round(value, 10) + 0.0


@dataclass(frozen=True)
class Scale:
    """A linear map from a domain [low, high] to pixels [start, end] (end < start for a
    vertical axis, as y grows downwards)."""

    low: float
    high: float
    start: float
    end: float

    def __call__(self, value: float) -> float:
        span = self.high - self.low or 1.0
        return self.start + (value - self.low) / span * (self.end - self.start)


# --- text ---------------------------------------------------------------------------------


def shorten(text: str, chars: int) -> str:
    """`text` cut to `chars` characters, the last one an ellipsis when cut."""
    if len(text) <= chars:
        return text
    return text[: max(chars - 1, 0)].rstrip() + "…"


def text_width(text: str, size: float = FONT) -> float:
    """An estimate of the drawn width of `text`."""
    return len(text) * size * CHAR


def _fit(text: str, width: float, size: float) -> tuple[str, str]:
    """The text cut to `width`, and the full text as a tooltip when it was cut."""
    short = shorten(text, max(int(width / (size * CHAR)), 1))
    return short, (text if short != text else "")


def _label(x: float, y: float, text: str, width: float, cls: str, anchor: Anchor) -> Text:
    short, full = _fit(text, width, STYLES[cls].font_size)
    return Text(x, y, short, cls, anchor, full)


# --- common parts -------------------------------------------------------------------------

PAD = 8.0
TITLE_BASELINE = 18.0
ROW = 18.0  # one line of legend or note
LABEL_LINE = 14.0  # the second line of a category label


def _header(title: str, width: float) -> list[Shape]:
    return [_label(PAD, TITLE_BASELINE, title, width - 2 * PAD, "title", "start")]


def _legend(
    items: Sequence[tuple[str, str]], top: float, width: float
) -> tuple[list[Shape], float]:
    """Swatches and names in rows from `top`; returns the shapes and the height used."""
    shapes: list[Shape] = []
    x, y = PAD, top
    for name, cls in items:
        short, full = _fit(name, width / 2, SMALL)
        needed = 16 + text_width(short, SMALL) + 14
        if x > PAD and x + needed > width - PAD:
            x, y = PAD, y + ROW
        if cls.startswith("line-"):  # a stroke of the line, with its dashes
            shapes.append(Line(((x, y + 9), (x + 12, y + 9)), cls, full or name))
        else:
            shapes.append(Rect(x, y + 3, 11, 11, cls, full or name))
        shapes.append(Text(x + 16, y + 13, short, "legend", "start", full))
        x += needed
    return shapes, (y - top + ROW) if items else 0.0


def _empty_note(text: str, has_data: bool, width: float, height: float) -> list[Shape]:
    """The caller's "nothing to show" in the middle of a chart without a single value."""
    if has_data or not text:
        return []
    return [_label(width / 2, height / 2, text, width - 4 * PAD, "note", "middle")]


# A screen reader reads the description whole: past this many values, the page's table
# (and its CSV) says the rest better.
MOST_DESCRIBED = 40


def _sentences(*parts: str) -> str:
    return ". ".join(part for part in parts if part)


def _describe(items: Iterable[str]) -> str:
    """Values for the chart's description (its <desc>), `; `-separated, at most a few."""
    listed = list(items)
    text = "; ".join(listed[:MOST_DESCRIBED])
    return text + ("; …" if len(listed) > MOST_DESCRIBED else "")


def _describe_series(
    categories: Sequence[str], rows: Sequence[Series], format_number: FormatNumber, unit: str
) -> str:
    """`category: value` (one series) or `category: series value, series value`; a missing
    value reads "—"."""

    def value(row: Series, index: int) -> str:
        v = row.values[index] if index < len(row.values) else None
        return "—" if v is None else format_number(float(v)) + unit

    return _describe(
        f"{category}: "
        + ", ".join(
            value(row, i) if len(rows) == 1 else f"{row.name} {value(row, i)}" for row in rows
        )
        for i, category in enumerate(categories)
    )


def _tooltip(*parts: str) -> str:
    return " · ".join(part for part in parts if part)


def _value_domain(values: Iterable[float], low: float | None, high: float | None) -> list[float]:
    """Tick values for the data, including 0, within the caller's fixed bounds if any."""
    data = list(values)
    lo = min([*data, 0.0]) if low is None else low
    hi = max([*data, 0.0]) if high is None else high
    integer = all(float(v).is_integer() for v in data)  # counts: no tick at 2.5 people
    ticks = nice_ticks(lo, hi, integer=integer)
    # A fixed bound is the axis' end even where it is not a round number.
    if low is not None:
        ticks = [t for t in ticks if t >= low - 1e-9]
        ticks = ticks if ticks and ticks[0] <= low + 1e-9 else [low, *ticks]
    if high is not None:
        ticks = [t for t in ticks if t <= high + 1e-9]
        ticks = ticks if ticks and ticks[-1] >= high - 1e-9 else [*ticks, high]
    return ticks


def _every(labels: Sequence[str], band: float) -> int:
    """Show one label in `every` so that labels (up to 10 characters) do not collide."""
    longest = min(max(map(len, labels), default=0), 10)
    needed = longest * FONT * CHAR + 6
    return max(1, math.ceil(needed / band)) if band > 0 else 1


def _label_rows(labels: Sequence[str], band: float) -> int:
    """2 when each label has its own band but some do not fit on one line, else 1."""
    if _every(labels, band) > 1:
        return 1
    return 2 if any(text_width(label, FONT) > band - 4 for label in labels) else 1


def _two_lines(text: str, chars: int) -> list[str]:
    """`text` on two lines of `chars` at most, cut at a space; the second one shortened."""
    if len(text) <= chars:
        return [text]
    cut = text.rfind(" ", 0, chars + 1)
    if cut <= 0:
        return [shorten(text, chars)]
    return [text[:cut], shorten(text[cut + 1 :], chars)]


def _category_labels(
    labels: Sequence[str], left: float, band: float, baseline: float
) -> list[Shape]:
    """Labels under bands of `band` width from `left`: on two lines where one is not
    enough; when they cannot all fit, one in every few (each label gets the room of the
    ones skipped); cut with an ellipsis, the full text kept as a tooltip."""
    every, rows = _every(labels, band), _label_rows(labels, band)
    shapes: list[Shape] = []
    for index, label in enumerate(labels):
        if index % every:
            continue
        chars = max(int((band * every - 4) / (FONT * CHAR)), 1)
        parts = _two_lines(label, chars) if rows == 2 else [shorten(label, chars)]
        full = label if " ".join(parts) != label else ""
        x = left + band * (index + 0.5)
        for line, part in enumerate(parts):
            shapes.append(Text(x, baseline + line * LABEL_LINE, part, "label", "middle", full))
    return shapes


# --- bar chart ----------------------------------------------------------------------------


def bar_chart(
    title: str,
    categories: Sequence[str],
    series: Sequence[Series | tuple[str, Sequence[Value]]],
    *,
    stacked: bool = False,
    horizontal: bool = False,
    unit: str = "",
    description: str = "",
    format_number: FormatNumber = plain_number,
    empty: str = "",
    width: float = 640,
    height: float | None = None,
    value_max: float | None = None,
) -> Chart:
    """Bars per category: one per series side by side, or stacked; vertical, or
    horizontal (long labels, such as the funnel's steps). `unit` follows each value as
    given (pass the language's space, e.g. "\u202f%"). A None value draws nothing.
    `value_max` fixes the axis' end (shares: 100, even when rounded parts add up to 100.1)."""
    rows = [Series(name, list(values)) for name, values in series]
    count = len(categories)
    top = TITLE_BASELINE + 10
    shapes: list[Shape] = _header(title, width)
    if len(rows) > 1:
        legend, used = _legend(
            [(row.name, series_class(i)) for i, row in enumerate(rows)], top, width
        )
        shapes += legend
        top += used
    if height is None:
        per_category = 22 * (1 if stacked else max(len(rows), 1)) + 8
        height = top + max(count, 1) * per_category + 30 if horizontal else 300.0
    totals = _bar_extents(rows, count, stacked)
    ticks = _value_domain(totals, None, value_max)
    labels = [format_number(t) + unit for t in ticks]
    if horizontal:
        shapes += _horizontal_bars(
            categories, rows, ticks, labels, stacked, unit, format_number, (top, width, height)
        )
    else:
        shapes += _vertical_bars(
            categories, rows, ticks, labels, stacked, unit, format_number, (top, width, height)
        )
    shapes += _empty_note(
        empty, any(v is not None for row in rows for v in row.values), width, height
    )
    summary = _describe_series(categories, rows, format_number, unit)
    return Chart(width, height, title, description or _sentences(title, summary), tuple(shapes))


def _bar_extents(rows: Sequence[Series], count: int, stacked: bool) -> list[float]:
    """Every value the value axis must reach (stacks add up their signs separately)."""
    if not stacked:
        return [float(v) for row in rows for v in row.values[:count] if v is not None]
    extents: list[float] = []
    for index in range(count):
        values = [row.values[index] for row in rows if index < len(row.values)]
        extents.append(sum(float(v) for v in values if v is not None and v > 0))
        extents.append(sum(float(v) for v in values if v is not None and v < 0))
    return extents


def _segments(
    rows: Sequence[Series], index: int, stacked: bool
) -> list[tuple[int, float, float, float]]:
    """(series, value, from, to) of the bars of one category, None values left out; in a
    stack each segment starts where the previous one of the same sign ended."""
    parts = []
    above = below = 0.0
    for number, row in enumerate(rows):
        value = row.values[index] if index < len(row.values) else None
        if value is None:
            continue
        value = float(value)
        if not stacked:
            parts.append((number, value, 0.0, value))
        elif value >= 0:
            parts.append((number, value, above, above + value))
            above += value
        else:
            parts.append((number, value, below, below + value))
            below += value
    return parts


def _vertical_bars(
    categories: Sequence[str],
    rows: Sequence[Series],
    ticks: Sequence[float],
    labels: Sequence[str],
    stacked: bool,
    unit: str,
    format_number: FormatNumber,
    box: tuple[float, float, float],
) -> list[Shape]:
    top, width, height = box
    left = PAD + max((text_width(label, SMALL) for label in labels), default=0) + 8
    right = width - PAD
    band = (right - left) / max(len(categories), 1)
    bottom = height - 26 - LABEL_LINE * (_label_rows(categories, band) - 1)
    scale = Scale(ticks[0], ticks[-1], bottom, top + 14)
    shapes: list[Shape] = []
    for tick, label in zip(ticks, labels, strict=True):
        y = scale(tick)
        shapes.append(Line(((left, y), (right, y)), "grid"))
        shapes.append(Text(left - 5, y + 4, label, "tick", "end"))
    group = band * 0.7
    slots = 1 if stacked else max(len(rows), 1)
    for index, category in enumerate(categories):
        x0 = left + band * index + (band - group) / 2
        for number, value, start, end in _segments(rows, index, stacked):
            x = x0 + (0 if stacked else number * group / slots)
            y1, y2 = scale(start), scale(end)
            tip = _tooltip(category, rows[number].name, format_number(value) + unit)
            shapes.append(
                Rect(x, min(y1, y2), group / slots, abs(y2 - y1), series_class(number), tip)
            )
    shapes += _category_labels(categories, left, band, bottom + 16)
    zero = scale(0.0)
    shapes.append(Line(((left, zero), (right, zero)), "axis"))
    return shapes


def _horizontal_bars(
    categories: Sequence[str],
    rows: Sequence[Series],
    ticks: Sequence[float],
    labels: Sequence[str],
    stacked: bool,
    unit: str,
    format_number: FormatNumber,
    box: tuple[float, float, float],
) -> list[Shape]:
    top, width, height = box
    longest = max((text_width(c, FONT) for c in categories), default=0)
    left = PAD + min(longest, width * 0.32) + 8
    room = max((text_width(label, SMALL) for label in labels), default=0)
    right, bottom = width - PAD - max(room / 2, 36), height - 24
    scale = Scale(ticks[0], ticks[-1], left, right)
    shapes: list[Shape] = []
    for tick, label in zip(ticks, labels, strict=True):
        x = scale(tick)
        shapes.append(Line(((x, top + 4), (x, bottom)), "grid"))
        shapes.append(Text(x, bottom + 15, label, "tick", "middle"))
    band = (bottom - top - 4) / max(len(categories), 1)
    group = band * 0.72
    slots = 1 if stacked else max(len(rows), 1)
    for index, category in enumerate(categories):
        y0 = top + 4 + band * index + (band - group) / 2
        parts = _segments(rows, index, stacked)
        for number, value, start, end in parts:
            y = y0 + (0 if stacked else number * group / slots)
            x1, x2 = scale(start), scale(end)
            tip = _tooltip(category, rows[number].name, format_number(value) + unit)
            shapes.append(
                Rect(min(x1, x2), y, abs(x2 - x1), group / slots, series_class(number), tip)
            )
            if not stacked:
                baseline = y + group / slots / 2 + SMALL * 0.35
                shapes.append(Text(max(x1, x2) + 4, baseline, format_number(value) + unit, "value"))
        if stacked and parts:
            total = sum(value for _, value, _, _ in parts)
            end_x = max(scale(end) for _, _, _, end in parts)
            baseline = y0 + group / 2 + SMALL * 0.35
            shapes.append(Text(end_x + 4, baseline, format_number(total) + unit, "value"))
        baseline = top + 4 + band * (index + 0.5) + FONT * 0.35
        shapes.append(_label(left - 6, baseline, category, left - PAD - 6, "label", "end"))
    zero = scale(0.0)
    shapes.append(Line(((zero, top + 4), (zero, bottom)), "axis"))
    return shapes


# --- line chart ---------------------------------------------------------------------------


def line_chart(
    title: str,
    categories: Sequence[str],
    series: Sequence[Series | tuple[str, Sequence[Value]]],
    *,
    y_min: float | None = None,
    y_max: float | None = None,
    unit: str = "",
    description: str = "",
    format_number: FormatNumber = plain_number,
    empty: str = "",
    width: float = 640,
    height: float | None = None,
) -> Chart:
    """One line per series over the categories (pulses, months, weeks), a dot on each
    value; a None breaks the line. A dashed zero line when the axis spans 0 (NPS)."""
    rows = [Series(name, list(values)) for name, values in series]
    height = 300.0 if height is None else height
    top = TITLE_BASELINE + 10
    shapes: list[Shape] = _header(title, width)
    if len(rows) > 1:
        items = [(row.name, _line_class(i)) for i, row in enumerate(rows)]
        legend, used = _legend(items, top, width)
        shapes += legend
        top += used
    data = [float(v) for row in rows for v in row.values if v is not None]
    # From 0 unless told otherwise: a density or a count read against a cut axis misleads.
    ticks = _value_domain(data, y_min, y_max)
    labels = [format_number(t) + unit for t in ticks]
    left = PAD + max((text_width(label, SMALL) for label in labels), default=0) + 8
    right = width - PAD - 4
    band = (right - left) / max(len(categories), 1)
    bottom = height - 26 - LABEL_LINE * (_label_rows(categories, band) - 1)
    scale = Scale(ticks[0], ticks[-1], bottom, top + 14)
    for tick, label in zip(ticks, labels, strict=True):
        y = scale(tick)
        shapes.append(Line(((left, y), (right, y)), "grid"))
        shapes.append(Text(left - 5, y + 4, label, "tick", "end"))
    shapes.append(Line(((left, bottom), (right, bottom)), "axis"))
    if ticks[0] < 0 < ticks[-1]:
        shapes.append(Line(((left, scale(0.0)), (right, scale(0.0))), "zero"))
    shapes += _category_labels(categories, left, band, bottom + 16)
    for number, row in enumerate(rows):
        points = [
            (left + band * (i + 0.5), scale(float(v)), i, float(v))
            for i, v in enumerate(row.values[: len(categories)])
            if v is not None
        ]
        for run in _runs(points):
            if len(run) > 1:
                shapes.append(Line(tuple((x, y) for x, y, _, _ in run), _line_class(number)))
        for x, y, i, value in points:
            tip = _tooltip(categories[i], row.name, format_number(value) + unit)
            shapes.append(Circle(x, y, 3.5, series_class(number), tip))
    shapes += _empty_note(
        empty, any(v is not None for row in rows for v in row.values), width, height
    )
    summary = _describe_series(categories, rows, format_number, unit)
    return Chart(width, height, title, description or _sentences(title, summary), tuple(shapes))


def _runs(
    points: Sequence[tuple[float, float, int, float]],
) -> list[list[tuple[float, float, int, float]]]:
    """The points split where a category had no value (their indexes are not adjacent)."""
    runs: list[list[tuple[float, float, int, float]]] = []
    for point in points:
        if runs and runs[-1][-1][2] == point[2] - 1:
            runs[-1].append(point)
        else:
            runs.append([point])
    return runs


# --- scatter chart ------------------------------------------------------------------------


def scatter_chart(
    title: str,
    points: Sequence[tuple[float, float, int]],
    x_label: str,
    y_label: str,
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    note: str = "",
    *,
    description: str = "",
    format_number: FormatNumber = plain_number,
    empty: str = "",
    width: float = 640,
    height: float | None = None,
) -> Chart:
    """Bubbles at (x, y), their area proportional to how many answers fell there (NPS score
    0-10 × LSAT 1-5); `note` (e.g. "r = 0,62 · n = 48") goes under the title."""
    height = 320.0 if height is None else height
    top = TITLE_BASELINE + 10
    shapes: list[Shape] = _header(title, width)
    if note:
        shapes.append(_label(PAD, top + 10, note, width - 2 * PAD, "note", "start"))
        top += ROW
    shapes.append(_label(PAD, top + 14, y_label, width / 2, "label", "start"))
    top += ROW + 4
    x_ticks = nice_ticks(*x_range, count=10, integer=True)
    y_ticks = nice_ticks(*y_range, count=5, integer=True)
    y_texts = [format_number(t) for t in y_ticks]
    left = PAD + max((text_width(t, SMALL) for t in y_texts), default=0) + 8
    right, bottom = width - PAD, height - 44
    # Half a unit of margin on each side, so that bubbles on the edges are whole.
    x_scale = Scale(x_ticks[0] - 0.5, x_ticks[-1] + 0.5, left, right)
    y_scale = Scale(y_ticks[0] - 0.5, y_ticks[-1] + 0.5, bottom, top)
    for tick, text in zip(y_ticks, y_texts, strict=True):
        y = y_scale(tick)
        shapes.append(Line(((left, y), (right, y)), "grid"))
        shapes.append(Text(left - 5, y + 4, text, "tick", "end"))
    for tick in x_ticks:
        x = x_scale(tick)
        shapes.append(Line(((x, top), (x, bottom)), "grid"))
        shapes.append(Text(x, bottom + 15, format_number(tick), "tick", "middle"))
    shapes.append(Line(((left, bottom), (right, bottom)), "axis"))
    shapes.append(Line(((left, top), (left, bottom)), "axis"))
    shapes.append(_label((left + right) / 2, bottom + 34, x_label, right - left, "label", "middle"))
    unit = min(x_scale(1) - x_scale(0), y_scale(0) - y_scale(1))
    largest = max((count for _, _, count in points), default=0)
    for x, y, count in sorted(points, key=lambda p: -p[2]):  # small bubbles on top
        if count <= 0:
            continue
        radius = max(2.0, unit * 0.48 * math.sqrt(count / largest))
        tip = f"{format_number(x)} × {format_number(y)}: {format_number(count)}"
        shapes.append(Circle(x_scale(x), y_scale(y), radius, series_class(0), tip))
    shapes += _empty_note(empty, any(count > 0 for _, _, count in points), width, height)
    summary = _describe(
        f"{format_number(x)} × {format_number(y)}: {format_number(count)}" for x, y, count in points
    )
    return Chart(
        width, height, title, description or _sentences(title, note, summary), tuple(shapes)
    )


# --- heat map -----------------------------------------------------------------------------


def heat_map(
    title: str,
    row_labels: Sequence[str],
    column_labels: Sequence[str],
    values: Mapping[tuple[str, str], float | None],
    *,
    none_label: str = "—",
    description: str = "",
    format_number: FormatNumber = plain_number,
    empty: str = "",
    width: float = 640,
    height: float | None = None,
) -> Chart:
    """A grid of cells (rows × columns), darker for more, in bins of round numbers shown
    in the legend; a missing or None cell is white with a dashed outline, `none_label`
    in the legend — not the lightest shade, which is 0 and up."""
    top = TITLE_BASELINE + 10
    shapes: list[Shape] = _header(title, width)
    present = [v for v in values.values() if v is not None]
    edges = nice_ticks(0.0, max(present, default=1.0), count=len(HEAT))
    items = [
        (f"{format_number(lo)}–{format_number(hi)}", f"heat-{i}")
        for i, (lo, hi) in enumerate(pairwise(edges))
    ]
    legend, used = _legend([*items, (none_label, "heat-none")], top, width)
    shapes += legend
    top += used + 4
    longest = max((text_width(r, FONT) for r in row_labels), default=0)
    left = PAD + min(longest, width * 0.3) + 8
    right = width - PAD
    cell_w = (right - left) / max(len(column_labels), 1)
    below = 26 + LABEL_LINE * (_label_rows(column_labels, cell_w) - 1)
    if height is None:
        height = top + max(len(row_labels), 1) * 22.0 + below
    bottom = height - below
    cell_h = (bottom - top) / max(len(row_labels), 1)
    for r, row in enumerate(row_labels):
        y = top + r * cell_h
        baseline = y + cell_h / 2 + FONT * 0.35
        shapes.append(_label(left - 6, baseline, row, left - PAD - 6, "label", "end"))
        for c, column in enumerate(column_labels):
            value = values.get((row, column))
            if value is None:
                cls, shown = "heat-none", none_label
            else:
                cls, shown = f"heat-{_bin(value, edges)}", format_number(value)
            tip = f"{_tooltip(row, column)}: {shown}"
            shapes.append(Rect(left + c * cell_w, y, cell_w, cell_h, cls, tip))
    shapes += _category_labels(column_labels, left, cell_w, bottom + 16)
    shapes += _empty_note(empty, bool(present), width, height)
    summary = _describe(
        f"{_tooltip(row, column)}: {format_number(value)}"
        for (row, column), value in values.items()
        if value is not None
    )
    return Chart(width, height, title, description or _sentences(title, summary), tuple(shapes))


def _bin(value: float, edges: Sequence[float]) -> int:
    """Which legend bin holds `value`: [e0, e1), [e1, e2), … the last one closed."""
    for index, upper in enumerate(edges[1:-1]):
        if value < upper:
            return index
    return max(len(edges) - 2, 0)


# French puts a narrow no-break space before ; ! ? % and a no-break space before a colon
# (the catalogues' rule, tests/bot/test_i18n.py); the charts' own joins (`Oct: 42; Nov: 40`,
# `45%`) are written once for every language and set in French here. A colon inside a time
# (09:00) is left alone: only one followed by a space or the end counts.
_BEFORE_THIN_SPACE = re.compile(r"(?<=\S)[ \u00a0]?([;!?%])")
_BEFORE_COLON = re.compile(r"(?<=\S)[ \u202f]?:(?=\s|$)")


def french_spacing(text: str) -> str:
    """`text` with French spaces before its high punctuation."""
    return _BEFORE_COLON.sub("\u00a0:", _BEFORE_THIN_SPACE.sub("\u202f\\1", text))


def in_language(chart: Chart, locale: str) -> Chart:
    """The chart with its texts, descriptions and tooltips set in `locale`'s typography."""
    if not locale.startswith("fr"):
        return chart
    shapes = tuple(
        replace(shape, text=french_spacing(shape.text), tooltip=french_spacing(shape.tooltip))
        if isinstance(shape, Text)
        else replace(shape, tooltip=french_spacing(shape.tooltip))
        for shape in chart.shapes
    )
    return replace(
        chart,
        title=french_spacing(chart.title),
        description=french_spacing(chart.description),
        shapes=shapes,
    )
