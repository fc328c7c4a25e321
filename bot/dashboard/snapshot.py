"""The one-page PDF snapshot for a steering committee (A4 landscape).

Title, the view (scope, period) and the date; the headline figures
(bot/dashboard/headline.py); four charts from the same chart model as the page: the
sign-up funnel of every session in view, NPS per month, LGC density per week and badge
holders per level. Drawn with reportlab (README, "Dependencies": a pure-Python wheel, no
browser or system library in the image, the same charts as the page).
"""

from __future__ import annotations

import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from bot.core import stats
from bot.dashboard import section_charts
from bot.dashboard.charts import Chart
from bot.dashboard.headline import Headline, headlines
from bot.dashboard.pdfdraw import BOLD, FONT, draw_on, pdf_text
from bot.i18n import Translator
from bot.ladder import DEFAULT_LADDER, Ladder
from bot.steering.model import Dashboard, Scope

PAGE_WIDTH, PAGE_HEIGHT = landscape(A4)
MARGIN = 30.0
INK = HexColor("#222222")
MUTED = HexColor("#555555")
PANEL = HexColor("#f2f4f7")
RULE = HexColor("#d5d9e0")
# The charts' own size: the proportions of a quarter of the page's chart area.
CHART_WIDTH, CHART_HEIGHT = 560.0, 288.0
KEY = "dashboard.snapshot."


def snapshot(dashboard: Dashboard, t: Translator, *, ladder: Ladder = DEFAULT_LADDER) -> bytes:
    """The PDF of `dashboard` in the reader's language, one page."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(PAGE_WIDTH, PAGE_HEIGHT), pageCompression=1)
    title = t(KEY + "title")
    subtitle = scope_text(dashboard.scope, t)
    generated = t(KEY + "generated", date=_instant(t, dashboard.generated_at, dashboard.scope))
    canvas.setTitle(pdf_text(title))
    canvas.setSubject(pdf_text(f"{subtitle} · {generated}"))
    canvas.setAuthor("Ambassador bot")
    top = PAGE_HEIGHT - MARGIN
    canvas.setFillColor(INK)
    canvas.setFont(BOLD, 18)
    canvas.drawString(MARGIN, top - 16, pdf_text(title))
    canvas.setFillColor(MUTED)
    canvas.setFont(FONT, 9.5)
    canvas.drawRightString(PAGE_WIDTH - MARGIN, top - 16, pdf_text(generated))
    # One line: a training's name may be long (up to 200 characters).
    (line,) = _wrap(subtitle, FONT, 9.5, PAGE_WIDTH - 2 * MARGIN, 1) or [""]
    canvas.drawString(MARGIN, top - 32, line)
    kpi_bottom = _headlines(canvas, headlines(dashboard, t, ladder), top - 42)
    _charts(canvas, charts(dashboard, t, ladder), kpi_bottom - 8, MARGIN + 14)
    canvas.setFillColor(MUTED)
    canvas.setFont(FONT, 7)
    canvas.drawString(MARGIN, MARGIN, pdf_text(t(KEY + "footer", min=stats.MIN_ANSWERS)))
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def filename(dashboard: Dashboard) -> str:
    """The PDF's download name: the day it was made, in the view's time zone."""
    day = dashboard.generated_at.astimezone(ZoneInfo(dashboard.scope.timezone)).date()
    return f"dashboard-{day.isoformat()}.pdf"


def scope_text(scope: Scope, t: Translator) -> str:
    """What the view covers: the community, a training or a session, and the period."""
    filters = scope.filters
    if filters.session:
        parts = [t(KEY + "scope_session", session=filters.session)]
    elif filters.training:
        parts = [t(KEY + "scope_training", training=filters.training)]
    else:
        parts = [t(KEY + "scope_workspace")]
    start = _day(t, filters.start, scope.timezone) if filters.start else None
    end = _day(t, filters.end, scope.timezone) if filters.end else None
    if start and end:
        parts.append(t(KEY + "period_between", start=start, end=end))
    elif start:
        parts.append(t(KEY + "period_from", start=start))
    elif end:
        parts.append(t(KEY + "period_until", end=end))
    if scope.session_ids == ():
        parts.append(t(KEY + "scope_nothing"))
    return ", ".join(parts)


def charts(dashboard: Dashboard, t: Translator, ladder: Ladder = DEFAULT_LADDER) -> list[Chart]:
    """The snapshot's four charts, as the page draws them: the funnel of every session
    in view, NPS per month, LGC density per week, badge holders per level."""
    size = {"width": CHART_WIDTH, "height": CHART_HEIGHT}
    return [
        section_charts.funnel_total(dashboard.funnel, t, **size),
        section_charts.nps(dashboard.pulses.per_month, t, per="month", **size),
        section_charts.density(dashboard.activity, t, CHART_WIDTH, CHART_HEIGHT),
        section_charts.badge_holders(dashboard.badges, t, ladder, **size),
    ]


def _headlines(canvas: Canvas, figures: list[Headline], top: float) -> float:
    """A row of boxes, one per figure: label, value, detail. Returns the row's bottom."""
    gap, height = 6.0, 78.0
    width = (PAGE_WIDTH - 2 * MARGIN - gap * (len(figures) - 1)) / max(len(figures), 1)
    for index, figure in enumerate(figures):
        x = MARGIN + index * (width + gap)
        canvas.setFillColor(PANEL)
        canvas.roundRect(x, top - height, width, height, 4, stroke=0, fill=1)
        inner = width - 12
        canvas.setFillColor(MUTED)
        canvas.setFont(FONT, 7.5)
        for line, text in enumerate(_wrap(figure.label, FONT, 7.5, inner, 3)):
            canvas.drawString(x + 6, top - 11 - line * 9, text)
        canvas.setFillColor(INK)
        canvas.setFont(BOLD, 16)
        canvas.drawString(x + 6, top - 50, pdf_text(figure.value))
        canvas.setFillColor(MUTED)
        canvas.setFont(FONT, 6.5)
        for line, text in enumerate(_wrap(figure.detail, FONT, 6.5, inner)):
            canvas.drawString(x + 6, top - 61 - line * 8, text)
    return top - height


def _wrap(text: str, font: str, size: float, width: float, limit: int = 2) -> list[str]:
    """`text` in at most `limit` lines of `width`, ready to draw. Breaks at plain spaces
    only: the no-break spaces of "50 %" and "n° 3" keep their words together."""
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if current and stringWidth(pdf_text(candidate), font, size) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    if len(lines) > limit:
        lines = [*lines[: limit - 1], lines[limit - 1] + "…"]
    return [pdf_text(line) for line in lines]


def _charts(canvas: Canvas, drawn: list[Chart], top: float, bottom: float) -> None:
    """Two by two, each in a framed quarter of the area between `top` and `bottom`."""
    gap = 8.0
    width = (PAGE_WIDTH - 2 * MARGIN - gap) / 2
    height = (top - bottom - gap) / 2
    for index, chart in enumerate(drawn[:4]):
        x = MARGIN + (index % 2) * (width + gap)
        y = top - (index // 2 + 1) * height - (index // 2) * gap
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.6)
        canvas.roundRect(x, y, width, height, 4, stroke=1, fill=0)
        draw_on(canvas, chart, x + 2, y + 2, width - 4, height - 4)


def _day(t: Translator, day: date, timezone: str) -> str:
    """A filter's day as the reader writes it (`1er déc. 2026`)."""
    zone = ZoneInfo(timezone)
    return t.date(datetime(day.year, day.month, day.day, 12, tzinfo=zone), timezone)


def _instant(t: Translator, when: datetime, scope: Scope) -> str:
    return t.date(when, scope.timezone)
