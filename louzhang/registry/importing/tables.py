"""Reading the spreadsheets communities really send: CSV in UTF-8 (with or without BOM) or
GB18030 (Excel on Chinese Windows), or XLSX; the header row found by its names wherever it is
among the first rows; columns in any order; unknown columns ignored.

Values are passed on as the file holds them (an XLSX number stays a number), so validation can
tell an ID number Excel turned into 1.50207E+17 from one typed wrongly.
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

HEADER_SEARCH_ROWS = 20

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


def normalise_header(cell: Any) -> str:
    text = unicodedata.normalize("NFKC", str(cell or "")).strip()
    text = re.sub(r"[\s*:：]", "", text)
    return re.sub(r"[(（][^)）]*[)）]$", "", text)  # 身份证号(必填) -> 身份证号


def _match_header(cells: list[Any], synonyms: dict[str, tuple[str, ...]]) -> dict[str, int]:
    lookup = {name: field for field, names in synonyms.items() for name in names}
    columns: dict[str, int] = {}
    for index, cell in enumerate(cells):
        field = lookup.get(normalise_header(cell))
        if field and field not in columns:
            columns[field] = index
    return columns


def open_table(path: Path, synonyms: dict[str, tuple[str, ...]], required: set[str]) -> Table:
    """Open a CSV or XLSX file and find its header row; TableError if that is impossible."""
    if not path.exists():
        raise TableError(_("%(file)s: no such file") % {"file": path})
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        rows = _xlsx_rows(path)
    elif suffix in (".csv", ".txt"):
        rows = _csv_rows(path)
    else:
        raise TableError(_("%(file)s: unsupported file type %(suffix)s; use .csv or .xlsx") % {"file": path.name, "suffix": suffix or "(none)"})
    for number, cells in rows:
        columns = _match_header(cells, synonyms)
        if len(columns) >= 2 and required <= set(columns):
            return Table(path=path, header_row=number, headers=[str(c or "") for c in cells],
                         columns=columns, rows=rows)
        if number >= HEADER_SEARCH_ROWS:
            break
    wanted = ", ".join(synonyms[f][0] for f in sorted(required))
    raise TableError(_("%(file)s: no header row with %(wanted)s in the first %(n)d rows")
                     % {"file": path.name, "wanted": wanted, "n": HEADER_SEARCH_ROWS})


def _detect_encoding(path: Path) -> str:
    with path.open("rb") as handle:
        head = handle.read(256 * 1024)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 4:  # a character cut at the end of the sample
            return "utf-8"
        return "gb18030"


def _csv_rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    encoding = _detect_encoding(path)
    with path.open(encoding=encoding, newline="") as handle:
        sample = handle.read(64 * 1024)
        handle.seek(0)
        try:
            dialect: Any = csv.Sniffer().sniff(sample, delimiters=",\t;")
        except csv.Error:
            dialect = csv.excel
        reader = csv.reader(handle, dialect)
        try:
            yield from enumerate(reader, start=1)
        except UnicodeDecodeError:
            raise TableError(_(
                "%(file)s: the text encoding changes after row %(row)d; save the file again as "
                "CSV UTF-8") % {"file": path.name, "row": reader.line_num}) from None
        except csv.Error as exc:
            raise TableError(_("%(file)s: row %(row)d cannot be read (%(error)s)") % {"file": path.name, "row": reader.line_num, "error": exc}) from None


def _xlsx_rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise TableError(_("%(file)s: not a readable XLSX file (%(error)s)") % {"file": path.name, "error": exc.__class__.__name__}) from None
    try:
        sheet = workbook.worksheets[0]
        for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, list(cells)
    finally:
        workbook.close()

