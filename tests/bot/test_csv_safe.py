"""The CSV cell rule (OWASP CSV injection): what a spreadsheet would run is quoted, the rest
is left as it is. The rule at work in a real export: tests/bot/handlers/test_pulse_export.py."""

from __future__ import annotations

import pytest

from bot import csv_safe


@pytest.mark.parametrize(
    "value",
    [
        "=1+1",
        "+1",
        "-1",
        "@SUM(A1)",
        "\t=1+1",
        "\r=1+1",
        "\tplain",
        ' =HYPERLINK("https://evil.example")',
        "\u00a0\u2003+cmd|' /C calc'!A0",
        "\n=1",
        -5,
    ],
)
def test_what_a_spreadsheet_would_run_is_quoted(value: object) -> None:
    assert csv_safe.cell(value) == "'" + str(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Alice", "Alice"),
        ("a=b", "a=b"),
        ("'already text", "'already text"),
        ("  spaces first", "  spaces first"),
        ("", ""),
        (None, ""),
        (7, "7"),
        ("2026-11-27T10:00:00+00:00", "2026-11-27T10:00:00+00:00"),
    ],
)
def test_anything_else_is_unchanged(value: object, expected: str) -> None:
    assert csv_safe.cell(value) == expected


def test_a_row_is_neutralised_cell_by_cell() -> None:
    assert csv_safe.row((1, "=x", None, "ok")) == ["1", "'=x", "", "ok"]
