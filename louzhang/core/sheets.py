"""Spreadsheets we write: every cell is data, never a formula.

openpyxl takes a string that starts with "=" for a formula, and Excel or WPS would run
`=HYPERLINK(…)` or `=cmd|' /C calc'!A0` typed by anyone into a tip or a resident's name. A cell
written here keeps such text as text (the cell's type is string), shown exactly as typed.
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
