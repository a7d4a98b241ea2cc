"""Addresses and spreadsheets as communities really write them (building blocks of the import)."""

from __future__ import annotations

import pytest
from openpyxl import Workbook

from louzhang.identifiers import IdentifierError
from louzhang.identifiers.id_numbers import parse_id_number
from louzhang.registry.addresses import household_address, parse_address
from louzhang.registry.importing.tables import RESIDENT_HEADERS, TableError, open_table

pytestmark = pytest.mark.usefixtures("english")


@pytest.mark.parametrize(
    ("raw", "name", "local"),
    [
        ("34号楼二单元6楼西户", "6楼西户", "0601"),
        ("34号楼2单元6楼西户", "6楼西户", "0601"),
        ("34号楼 二单元 6层西", "6楼西户", "0601"),
        ("７号楼一单元１楼东户", "1楼东户", "0102"),
        ("34栋2单元602室", "602室", "0612"),
        ("34-2-602", "602室", "0612"),
        ("34号楼十二单元1202", "1202室", "1212"),
    ],
)
def test_addresses(raw, name, local):
    address = parse_address(raw)
    assert (address.name, address.local_code) == (name, local)


def test_the_tip_household_matches_the_demo_code():
    # 34号楼二单元6楼西户 is household …-34-2-0601 in the demo city
    address = parse_address("34号楼二单元6楼西户")
    assert (address.building, address.unit, address.local_code) == ("34", 2, "0601")


def test_separate_columns():
    assert household_address("34号楼", "二单元", None, None, "6楼西户") == parse_address("34号楼二单元6楼西户")
    assert household_address("34", "2", None, None, "602") == parse_address("34-2-602")


@pytest.mark.parametrize("raw", ["", "34号楼二单元", "保利百合", "34号楼二单元6楼", "34-2-0"])
def test_bad_addresses_say_what_was_expected(raw):
    with pytest.raises(IdentifierError):
        parse_address(raw)


# --- spreadsheets ----------------------------------------------------------------------------


def _rows(table):
    return [(n, cells) for n, cells in table.rows]


def test_csv_utf8_with_bom_and_title_rows(tmp_path):
    path = tmp_path / "保利百合.csv"
    path.write_text(
        "保利百合小区居民登记表\n填表日期：2020-01-27\n\n"
        "序号,姓名,性别,身份证号码,联系电话,住址,无关列\n"
        "1,邹敏,女,15020219660727522X,157 9488 9960,34号楼二单元6楼西户,x\n",
        encoding="utf-8-sig",
    )
    table = open_table(path, RESIDENT_HEADERS, {"name", "id_number"})
    assert table.header_row == 4
    assert table.columns == {"name": 1, "gender": 2, "id_number": 3, "phone": 4, "address": 5}
    [(number, cells)] = _rows(table)
    assert number == 5 and cells[table.columns["name"]] == "邹敏"


def test_csv_gb18030_as_excel_on_chinese_windows_writes_it(tmp_path):
    path = tmp_path / "居民.csv"
    path.write_bytes("姓名,身份证号,手机号\n吕建平,150207198001010011,13812345678\n".encode("gb18030"))
    table = open_table(path, RESIDENT_HEADERS, {"name", "id_number"})
    assert _rows(table)[0][1][0] == "吕建平"


def test_header_variants_with_marks(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("*姓名, 身份证号(必填) ,联系方式：\n张三,1,2\n", encoding="utf-8")
    table = open_table(path, RESIDENT_HEADERS, {"name", "id_number"})
    assert set(table.columns) == {"name", "id_number", "phone"}


def test_xlsx_keeps_excel_numbers_so_damage_is_reported(tmp_path):
    path = tmp_path / "居民.xlsx"
    book = Workbook()
    sheet = book.active
    sheet.append(["保利百合 居民表"])
    sheet.append(["姓名", "身份证号", "小区", "楼号", "单元", "门牌号"])
    sheet.append(["邹敏", 150202196607275220, "保利百合", 34, 2, 701])
    sheet.append(["郝志东", "11010519491231002x", "保利百合", "34号楼", "二单元", "6楼西户"])
    book.save(path)
    table = open_table(path, RESIDENT_HEADERS, {"name", "id_number"})
    assert table.header_row == 2
    (_, damaged), (_, typed) = _rows(table)
    with pytest.raises(IdentifierError, match="stored as a number"):
        parse_id_number(damaged[table.columns["id_number"]])
    assert parse_id_number(typed[table.columns["id_number"]]).number.endswith("X")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("a.csv", "名字缺失,电话\n1,2\n", "no header row with"),
        ("a.xls", "", "unsupported file type"),
        ("a.xlsx", "not a zip", "not a real XLSX file"),
    ],
)
def test_unusable_files_say_why(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(TableError, match=message):
        open_table(path, RESIDENT_HEADERS, {"name", "id_number"})


def test_missing_file(tmp_path):
    with pytest.raises(TableError, match="no such file"):
        open_table(tmp_path / "nope.csv", RESIDENT_HEADERS, {"name"})


def test_unreadable_csv_row_names_the_row(tmp_path):
    """Found by reading the file through before anything is imported."""
    path = tmp_path / "big.csv"
    path.write_text("姓名,身份证号\n张三,1\n李四," + "9" * 200_000 + "\n", encoding="utf-8")
    with pytest.raises(TableError, match="row 3 holds a value longer than 131,072 characters"):
        open_table(path, RESIDENT_HEADERS, {"name", "id_number"})
