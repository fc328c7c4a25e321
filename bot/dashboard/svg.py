"""A `Chart` as inline SVG for the page.

Scales with its container (viewBox, width 100%) and prints; an image for assistive
technology (`role="img"`, its `<title>` and `<desc>`); every text escaped; no script, no
external reference, no `style` attribute (a strict Content-Security-Policy stays possible).
Each shape carries its style class for the page's stylesheet, and the default look as
presentation attributes, which any CSS rule overrides, so it also renders without CSS.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from markupsafe import Markup, escape

from bot.dashboard.charts import STYLES, Chart, Circle, Line, Rect, Shape, Style, Text


def svg(chart: Chart, *, chart_id: str | None = None) -> Markup:
    """The chart as an `<svg>` element, safe to put in a template as is.

    `chart_id` prefixes the ids its title and description are referred to by; by default
    it derives from the title and description, so two different charts on one page do not
    share ids."""
    ident = (
        chart_id
        or "chart-"
        + hashlib.sha1(
            f"{chart.title}\n{chart.description}".encode(), usedforsecurity=False
        ).hexdigest()[:10]
    )
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img"'
        f' viewBox="0 0 {_n(chart.width)} {_n(chart.height)}" width="100%"'
        f' preserveAspectRatio="xMidYMid meet" font-family="Helvetica, Arial, sans-serif"'
        f' aria-labelledby="{escape(ident)}-title {escape(ident)}-desc">'
        f'<title id="{escape(ident)}-title">{escape(chart.title)}</title>'
        f'<desc id="{escape(ident)}-desc">{escape(chart.description)}</desc>'
    )
    return Markup(head + "".join(_elements(chart.shapes)) + "</svg>")


def _elements(shapes: tuple[Shape, ...]) -> Iterator[str]:
    for shape in shapes:
        yield _element(shape)


def _element(shape: Shape) -> str:
    style = STYLES.get(shape.cls, Style())
    tip = f"<title>{escape(shape.tooltip)}</title>" if shape.tooltip else ""
    if isinstance(shape, Rect):
        return (
            f'<rect x="{_n(shape.x)}" y="{_n(shape.y)}" width="{_n(shape.width)}"'
            f' height="{_n(shape.height)}"{_paint(shape.cls, style)}>{tip}</rect>'
        )
    if isinstance(shape, Circle):
        return (
            f'<circle cx="{_n(shape.cx)}" cy="{_n(shape.cy)}" r="{_n(shape.r)}"'
            f"{_paint(shape.cls, style)}>{tip}</circle>"
        )
    if isinstance(shape, Line):
        points = " ".join(f"{_n(x)},{_n(y)}" for x, y in shape.points)
        return f'<polyline points="{points}"{_paint(shape.cls, style, line=True)}>{tip}</polyline>'
    return _text(shape, style, tip)


def _text(shape: Text, style: Style, tip: str) -> str:
    weight = ' font-weight="bold"' if style.bold else ""
    text = (
        f'<text x="{_n(shape.x)}" y="{_n(shape.y)}" text-anchor="{escape(shape.anchor)}"'
        f' font-size="{_n(style.font_size)}"{weight}{_paint(shape.cls, style)}>'
        f"{escape(shape.text)}</text>"
    )
    # A tooltip on a text goes on a group: a <title> inside <text> would be read as text.
    return f"<g>{tip}{text}</g>" if tip else text


def _paint(cls: str, style: Style, *, line: bool = False) -> str:
    parts = [f' class="{escape(cls)}"', f' fill="{"none" if line else style.fill}"']
    if style.stroke != "none":
        parts.append(f' stroke="{style.stroke}" stroke-width="{_n(style.stroke_width)}"')
        if style.dash:
            parts.append(f' stroke-dasharray="{" ".join(_n(d) for d in style.dash)}"')
        if line:
            parts.append(' stroke-linejoin="round" stroke-linecap="round"')
    return "".join(parts)


def _n(value: float) -> str:
    """A coordinate with at most 2 decimals, no trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text
