"""Reading the spreadsheets communities really send: CSV in UTF-8 (with or without BOM),
GB18030 (Excel on Chinese Windows) or UTF-16 with BOM (Excel's "Unicode text", tab-separated),
or XLSX; the header row found by its names wherever it is among the first rows; columns in any
order; unknown columns ignored.

Values are passed on as the file holds them (an XLSX number stays a number), so validation can
tell an ID number Excel turned into 1.50207E+17 from one typed wrongly.

A file is a thing from outside and may be hostile. Before anything is imported, a CSV file is
read through once (it must decode, and parse, to the end) and an XLSX file's zip is checked
(`core.archives`: declared sizes, how much it grows, the longest value) before openpyxl opens
it; a file that fails is refused as a whole with one line saying why, nothing written. While
rows are read, a row wider than `MAX_COLUMNS` or with a value longer than `MAX_CELL_CHARS`
is rejected on its own (`row_problem`).
"""

from __future__ import annotations

import codecs
import csv
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from louzhang.core.archives import ArchiveError, check_xlsx

HEADER_SEARCH_ROWS = 20
#: a cell holds at most what Excel holds in one (32,767 characters)
MAX_CELL_CHARS = 32_767
#: a row at most as wide as a spreadsheet of Excel 2003 (256 columns, to IV)
MAX_COLUMNS = 256
#: rows in a sheet, as in Excel
MAX_ROWS = 1_048_576

#: canonical field -> the header names communities use for it (compared after normalising)
RESIDENT_HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "名字", "居民姓名", "人员姓名"),
    "gender": ("性别",),
    "id_number": ("身份证号", "身份证号码", "公民身份号码", "证件号码", "身份证"),
    "phone": ("手机号", "手机号码", "联系电话", "电话", "联系方式", "电话号码"),
    "compound": ("小区", "小区名称", "小区编码", "所在小区"),
    "building": ("楼号", "楼栋", "楼栋号", "楼"),
    "unit": ("单元", "单元号"),
    "room": ("门牌号", "房号", "房间号", "户号", "门牌"),
    "address": ("住址", "地址", "家庭住址", "现住址", "详细地址"),
    "residency": ("人员类型", "户籍类型", "居住类型", "人口类型"),
    "note": ("备注",),
    "care_tags": ("关怀标签", "特殊人群", "重点人群", "关爱对象", "人员标签", "特殊情况"),
}
VEHICLE_HEADERS: dict[str, tuple[str, ...]] = {
    "plate": ("车牌号", "车牌", "车牌号码", "号牌号码"),
    "vehicle_type": ("车辆类型", "车型"),
    "owner_id_number": ("车主身份证号", "车主身份证号码", "车主证件号码"),
    "owner_name": ("车主姓名", "车主"),
    "owner_phone": ("车主电话", "车主手机号", "车主联系电话"),
    "compound": ("小区", "小区名称", "小区编码", "所在小区"),
    "note": ("备注",),
}


class TableError(Exception):
    """The file as a whole cannot be used (not the fault of one row)."""


@dataclass
class Table:
    path: Path
    header_row: int  # 1-based row number of the header, as a spreadsheet shows it
    headers: list[str]  # the header cells as written
    columns: dict[str, int]  # canonical field -> column index
    rows: Iterator[tuple[int, list[Any]]]  # (1-based row number, cells)
    #: the file's name as its user knows it (an upload is kept under another name)
    name: str = ""


def normalise_header(cell: Any) -> str:
    text = unicodedata.normalize("NFKC", str(cell or "")).strip()
    text = re.sub(r"[\s*:：]", "", text)
    return re.sub(r"[(（][^)）]*[)）]$", "", text)  # 身份证号(必填) -> 身份证号


def _match_header(cells: list[Any], synonyms: dict[str, tuple[str, ...]]) -> dict[str, int]:
    lookup = {name: field for field, names in synonyms.items() for name in names}
    columns: dict[str, int] = {}
    for index, cell in enumerate(cells[:MAX_COLUMNS]):
        if isinstance(cell, str) and len(cell) > 100:
            continue
        field = lookup.get(normalise_header(cell))
        if field and field not in columns:
            columns[field] = index
    return columns


def open_table(
    path: Path, synonyms: dict[str, tuple[str, ...]], required: set[str], *, name: str | None = None
) -> Table:
    """Open a CSV or XLSX file and find its header row; TableError if that is impossible.
    `name` is how messages call the file (default: its own name)."""
    name = name or path.name
    if not path.exists():
        raise TableError(_("%(file)s: no such file") % {"file": name})
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        rows = _xlsx_rows(path, name)
    elif suffix in (".csv", ".txt", ".tsv"):
        rows = _csv_rows(path, name)
    else:
        raise TableError(_("%(file)s: unsupported file type %(suffix)s; use .csv or .xlsx") % {"file": name, "suffix": suffix or "(none)"})
    for number, cells in rows:
        columns = _match_header(cells, synonyms)
        if len(columns) >= 2 and required <= set(columns):
            return Table(path=path, header_row=number, headers=[str(c or "") for c in cells[:MAX_COLUMNS]],
                         columns=columns, rows=rows, name=name)
        if number >= HEADER_SEARCH_ROWS:
            break
    wanted = ", ".join(synonyms[f][0] for f in sorted(required))
    raise TableError(_("%(file)s: no header row with %(wanted)s in the first %(n)d rows")
                     % {"file": name, "wanted": wanted, "n": HEADER_SEARCH_ROWS})


def row_problem(cells: list[Any]) -> tuple[str, str] | None:
    """Why a row is too big to be read as a row of people or cars: (column, reason), or None."""
    if len(cells) > MAX_COLUMNS:
        return "", _("the row has values beyond column %(max)d") % {"max": MAX_COLUMNS}
    for index, value in enumerate(cells):
        if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
            return (_("column %(n)d") % {"n": index + 1},
                    _("value of %(length)s characters (at most %(max)s)")
                    % {"length": f"{len(value):,}", "max": f"{MAX_CELL_CHARS:,}"})
    return None


def _trimmed(cells: list[Any]) -> list[Any]:
    """The cells without the empty ones at the end, at most one beyond `MAX_COLUMNS` (which is
    enough for `row_problem` to tell the row is too wide)."""
    end = len(cells)
    while end and (cells[end - 1] is None or cells[end - 1] == ""):
        end -= 1
    return cells[:min(end, MAX_COLUMNS + 1)]


# --- CSV -------------------------------------------------------------------------------------

def _not_text(name: str) -> str:
    return _("%(file)s: not a text file (CSV); save it from the spreadsheet program as CSV "
             "UTF-8 or as XLSX") % {"file": name}


_HEAD = 256 * 1024


def _detect_encoding(path: Path, name: str) -> str:
    with path.open("rb") as handle:
        head = handle.read(_HEAD)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"  # Excel's "Unicode text": the BOM says which byte order
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if b"\x00" in head:  # binary, or UTF-16 without its BOM
        raise TableError(_not_text(name))
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if len(head) == _HEAD and exc.start >= len(head) - 4:  # a character cut by the sample
            return "utf-8"
        return "gb18030"


def _csv_rows(path: Path, name: str) -> Iterator[tuple[int, list[Any]]]:
    """The rows of a CSV file read through once already (TableError if it cannot be read to
    the end), so that a file that fails does so before anything is imported."""
    encoding = _detect_encoding(path, name)
    try:
        with path.open(encoding=encoding, newline="") as handle:
            sample = handle.read(64 * 1024)
    except UnicodeDecodeError:
        raise TableError(_("%(file)s: the text is not in UTF-8, GB18030 or UTF-16; save the file "
                           "again as CSV UTF-8") % {"file": name}) from None
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    for _row in _csv_reader(path, name, encoding, dialect):
        pass
    return _csv_reader(path, name, encoding, dialect)


def _csv_reader(path: Path, name: str, encoding: str, dialect: Any) -> Iterator[tuple[int, list[Any]]]:
    with path.open(encoding=encoding, newline="") as handle:
        reader = csv.reader(handle, dialect)
        number = 0
        try:
            for number, cells in enumerate(reader, start=1):
                yield number, _trimmed(cells)
        except UnicodeDecodeError:
            raise TableError(_(
                "%(file)s: the text encoding changes after row %(row)d; save the file again as "
                "CSV UTF-8") % {"file": name, "row": number}) from None
        except csv.Error as exc:
            if "NUL" in str(exc):
                raise TableError(_not_text(name)) from None
            if "field limit" in str(exc):
                raise TableError(_("%(file)s: row %(row)d holds a value longer than %(max)s "
                                   "characters") % {"file": name, "row": number + 1,
                                                    "max": f"{csv.field_size_limit():,}"}) from None
            raise TableError(_("%(file)s: row %(row)d cannot be read (%(error)s)") % {"file": name, "row": number + 1, "error": exc}) from None


# --- XLSX ------------------------------------------------------------------------------------


def _xlsx_rows(path: Path, name: str) -> Iterator[tuple[int, list[Any]]]:
    """The rows of the first sheet; the zip checked before openpyxl opens it."""
    from openpyxl import load_workbook

    try:
        check_xlsx(path)
    except ArchiveError as exc:
        raise TableError(f"{name}: {exc}") from None
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise TableError(_("%(file)s: not a readable XLSX file (%(error)s)") % {"file": name, "error": exc.__class__.__name__}) from None
    return _xlsx_sheet(workbook, name)


def _xlsx_sheet(workbook: Any, name: str) -> Iterator[tuple[int, list[Any]]]:
    number = 0
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # a row as wide as its last cell, not as the sheet claims
        for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            if number > MAX_ROWS:
                raise TableError(_("%(file)s: more than %(max)s rows") % {"file": name, "max": f"{MAX_ROWS:,}"})
            yield number, _trimmed(list(cells))
    except TableError:
        raise
    except Exception as exc:  # a damaged sheet: openpyxl, the XML parser and zipfile raise many kinds
        raise TableError(_("%(file)s: row %(row)d cannot be read (%(error)s)")
                         % {"file": name, "row": number + 1, "error": exc.__class__.__name__}) from None
    finally:
        workbook.close()
