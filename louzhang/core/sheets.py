"""Spreadsheets and CSV files we write: every cell is data, never a formula.

openpyxl takes a string that starts with "=" for a formula, and Excel or WPS would run
`=HYPERLINK(…)` or `=cmd|' /C calc'!A0` typed by anyone into a tip or a resident's name. An XLSX
cell written by `data_row` keeps such text as text (the cell's type is string), shown exactly as
typed. A CSV file has no cell types: `csv_row` puts a "'" before a text that a spreadsheet
program would take for a formula (one starting with = + - @, a tab or a carriage return), as
OWASP advises ("CSV injection"); the quote shows, the formula never runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.utils import timezone
from openpyxl.cell import WriteOnlyCell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet


def data_row(sheet: WriteOnlyWorksheet, values: Iterable[Any]) -> list[WriteOnlyCell]:
    """Cells for one row of a write-only sheet: text as text (never a formula), times in the
    local time zone without an offset (Excel has none), numbers as numbers."""
    cells = []
    for value in values:
        if isinstance(value, datetime):
            value = timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
        elif value is not None and not isinstance(value, (int, float, date)):
            value = str(value)
        cell = WriteOnlyCell(sheet, value=value)
        if isinstance(value, str):
            cell.data_type = "s"  # "=SUM(1)" stays the seven characters "=SUM(1)"
        if isinstance(value, datetime):
            cell.number_format = "yyyy-mm-dd hh:mm"
        cells.append(cell)
    return cells


#: what makes Excel, WPS or LibreOffice read a CSV cell as a formula
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """One CSV cell as data: numbers as they are, text a spreadsheet would run with a "'"."""
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_START) else text


def csv_row(values: Iterable[Any]) -> list[Any]:
    """A row for `csv.writer`, every cell through `csv_cell`."""
    return [csv_cell(value) for value in values]


def clip(text: str, limit: int = 200) -> str:
    """`text` cut to `limit` characters, ending in "…" when cut: what a message or a rejects file
    echoes of a value someone typed."""
    return text if len(text) <= limit else f"{text[:limit]}…"
