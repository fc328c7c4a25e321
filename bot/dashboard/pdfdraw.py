"""A `Chart` drawn on a reportlab canvas, the PDF twin of bot/dashboard/svg.py.

The chart's coordinates (top left origin, y down) are scaled into a box of the page
(bottom left origin, y up). Texts use the PDF's standard Helvetica, whose encoding is
WinAnsi (Windows-1252): `pdf_text` maps what it lacks — narrow and no-break spaces, the
minus sign, arrows — to what it has, so French accents, « », … and – survive and nothing
is drawn as a missing glyph.
"""

from __future__ import annotations

import unicodedata

from reportlab.lib.colors import HexColor
from reportlab.pdfgen.canvas import Canvas

from bot.dashboard.charts import STYLES, Chart, Circle, Line, Rect, Style, Text

FONT = "Helvetica"
BOLD = "Helvetica-Bold"

_REPLACEMENTS = {
    "\u202f": " ",  # narrow no-break space (French ; ! ? % and digit groups)
    "\u00a0": " ",  # no-break space (French :)
    "\u2009": " ",  # thin space
    "\u2007": " ",  # figure space
    "\u2212": "-",  # minus sign
    "\u2010": "-",
    "\u2011": "-",  # non-breaking hyphen
    "\u2192": "->",
    "\u2190": "<-",
    "\u2194": "<->",
    "\u2264": "<=",
    "\u2265": ">=",
    "\u2248": "~",
    "\u2260": "!=",
}


def pdf_text(text: str) -> str:
    """`text` with only characters the standard PDF fonts can draw (Windows-1252)."""
    out = []
    for char in text:
        char = _REPLACEMENTS.get(char, char)
        try:
            char.encode("cp1252")
        except UnicodeEncodeError:
            # A letter with an accent Windows-1252 lacks keeps its base letter (ő → o);
            # anything else (an emoji) goes, rather than a missing-glyph box.
            char = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
        out.append(char)
    return "".join(out)


def draw_on(canvas: Canvas, chart: Chart, x: float, y: float, w: float, h: float) -> None:
    """Draw `chart` into the box whose bottom left corner is (x, y), keeping its
    proportions and centring it in the box."""
    scale = min(w / chart.width, h / chart.height)
    left = x + (w - chart.width * scale) / 2
    top = y + h - (h - chart.height * scale) / 2

    def px(cx: float) -> float:
        return left + cx * scale

    def py(cy: float) -> float:
        return top - cy * scale

    canvas.saveState()
    for shape in chart.shapes:
        style = STYLES.get(shape.cls, Style())
        _paint(canvas, style, scale)
        fill = int(style.fill != "none")
        stroke = int(style.stroke != "none" and style.stroke_width > 0)
        if isinstance(shape, Rect):
            canvas.rect(
                px(shape.x),
                py(shape.y + shape.height),
                shape.width * scale,
                shape.height * scale,
                stroke=stroke,
                fill=fill,
            )
        elif isinstance(shape, Circle):
            canvas.circle(px(shape.cx), py(shape.cy), shape.r * scale, stroke=stroke, fill=fill)
        elif isinstance(shape, Line):
            path = canvas.beginPath()
            (x0, y0), *rest = shape.points
            path.moveTo(px(x0), py(y0))
            for xi, yi in rest:
                path.lineTo(px(xi), py(yi))
            canvas.drawPath(path, stroke=stroke, fill=0)
        else:
            _text(canvas, shape, style, px(shape.x), py(shape.y), scale)
    canvas.restoreState()


def _paint(canvas: Canvas, style: Style, scale: float) -> None:
    if style.fill != "none":
        canvas.setFillColor(HexColor(style.fill))
    if style.stroke != "none":
        canvas.setStrokeColor(HexColor(style.stroke))
        canvas.setLineWidth(style.stroke_width * scale)
    canvas.setDash([d * scale for d in style.dash] or [], 0)


def _text(canvas: Canvas, shape: Text, style: Style, x: float, y: float, scale: float) -> None:
    canvas.setFont(BOLD if style.bold else FONT, style.font_size * scale)
    text = pdf_text(shape.text)
    if shape.anchor == "middle":
        canvas.drawCentredString(x, y, text)
    elif shape.anchor == "end":
        canvas.drawRightString(x, y, text)
    else:
        canvas.drawString(x, y, text)
