"""Inline SVG: valid XML, accessible, every text escaped, nothing fetched or run."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from markupsafe import Markup

from bot.dashboard.charts import Chart, bar_chart, heat_map, line_chart, scatter_chart
from bot.dashboard.svg import svg

NS = "{http://www.w3.org/2000/svg}"
EVIL = "<script>alert('x')</script> & \"Co\""


def _parse(markup: str) -> ET.Element:
    return ET.fromstring(markup)


def _every_chart(label: str) -> list[Chart]:
    return [
        bar_chart(label, [label, "b"], [(label, [1, None]), ("s", [2, 3])], stacked=True),
        bar_chart(label, [label], [(label, [4])], horizontal=True, description=label),
        line_chart(label, [label, "b"], [(label, [None, 2])], y_min=-100, y_max=100),
        scatter_chart(label, [(9, 4, 3)], label, label, (0, 10), (1, 5), label),
        heat_map(label, [label], [label], {(label, label): None}, none_label=label),
    ]


def test_every_chart_is_valid_xml_with_its_title_and_description() -> None:
    for chart in _every_chart("Entonnoir d'inscription"):
        markup = svg(chart)
        assert isinstance(markup, Markup)
        root = _parse(markup)
        assert root.tag == f"{NS}svg"
        assert root.get("role") == "img"
        assert root.get("width") == "100%"
        assert root.get("viewBox") == f"0 0 {chart.width:g} {chart.height:g}"
        title, desc = root.find(f"{NS}title"), root.find(f"{NS}desc")
        assert title is not None and title.text == chart.title
        assert desc is not None and desc.text == chart.description
        assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"


def test_labels_with_markup_are_escaped_not_interpreted() -> None:
    for chart in _every_chart(EVIL):
        markup = str(svg(chart))
        assert "<script" not in markup
        root = _parse(markup)
        # The text reads back exactly as given (or cut, with the full text as a tooltip).
        assert root.findtext(f"{NS}title") == EVIL
        drawn = [el.text or "" for el in root.iter(f"{NS}text")]
        assert any(text.startswith("<script>") for text in drawn)
        assert "&lt;script&gt;" in markup and "&amp; " in markup
        assert not [el for el in root.iter() if el.tag.endswith("script")]


def test_nothing_external_no_script_no_inline_style() -> None:
    for chart in _every_chart("x"):
        root = _parse(svg(chart))
        for element in root.iter():
            assert not element.tag.endswith(("script", "image", "use", "foreignObject"))
            assert "style" not in element.attrib
            assert not any(name.startswith("on") for name in element.attrib)
            assert not any("href" in name for name in element.attrib)


def test_shapes_carry_their_class_and_a_default_paint() -> None:
    chart = bar_chart("T", ["a", "b"], [("s", [1, 2]), ("t", [2, 1])])
    root = _parse(svg(chart))
    bars = [el for el in root.iter(f"{NS}rect") if el.get("class") == "series-1"]
    assert bars and all(el.get("fill") == "#E69F00" for el in bars)
    tooltips = [el.findtext(f"{NS}title") for el in bars]
    assert "a · t · 2" in tooltips
    lines = [el for el in root.iter(f"{NS}polyline") if el.get("class") == "grid"]
    assert lines and all(el.get("fill") == "none" and el.get("stroke") for el in lines)


def test_a_shortened_label_keeps_its_full_text_as_a_tooltip() -> None:
    name = "Python pour l'analyse de données avec pandas et matplotlib"
    root = _parse(svg(bar_chart("T", [name], [("s", [1])], horizontal=True)))
    group = next(g for g in root.iter(f"{NS}g") if g.findtext(f"{NS}title") == name)
    text = group.find(f"{NS}text")
    assert text is not None and text.text and text.text.endswith("…")


def test_two_charts_on_a_page_do_not_share_ids() -> None:
    first = _parse(svg(line_chart("NPS", ["a"], [("s", [1])])))
    second = _parse(svg(line_chart("LSAT", ["a"], [("s", [1])])))
    assert first.get("aria-labelledby") != second.get("aria-labelledby")
    third = _parse(svg(line_chart("NPS", ["a"], [("s", [1])]), chart_id="nps-month"))
    assert third.get("aria-labelledby") == "nps-month-title nps-month-desc"
