"""CSV cells a spreadsheet cannot run: every cell of every CSV the bot writes goes through here.

Excel, LibreOffice Calc and Google Sheets read a cell that starts with = + - @ as a formula,
and a leading TAB or CR can hide one (CSV injection, OWASP "CSV Injection";
CWE-1236). Spreadsheets also skip leading spaces before deciding, so " =1+1" counts too.
OWASP's remedy: prefix such a cell with a single quote, which spreadsheets read as "this is
text". The quote stays visible in a text editor; that is the accepted price.
"""

from __future__ import annotations

from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@")
HIDING_STARTS = ("\t", "\r")


def cell(value: object) -> str:
    """`value` as the text of a CSV cell, quoted with ' when a spreadsheet would run it."""
    text = "" if value is None else str(value)
    if text.startswith(HIDING_STARTS) or text.lstrip().startswith(FORMULA_STARTS):
        return "'" + text
    return text


def row(values: Iterable[object]) -> list[str]:
    """Every cell of a CSV row, neutralised (ids and numbers too: nothing is trusted)."""
    return [cell(value) for value in values]
