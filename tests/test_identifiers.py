"""Chinese identifiers as they arrive from real spreadsheets and devices."""

from __future__ import annotations

from datetime import date

import pytest

from louzhang.identifiers import IdentifierError
from louzhang.identifiers.divisions import division, full_name
from louzhang.identifiers.id_numbers import check_character, parse_id_number
from louzhang.identifiers.phones import normalise_phone
from louzhang.identifiers.plates import _prefixes, city_code, parse_plate

pytestmark = pytest.mark.usefixtures("english")


def make(first17: str) -> str:
    return first17 + check_character(first17)


# --- ID numbers ------------------------------------------------------------------------------


def test_valid_number_gives_birth_date_gender_and_region():
    number = make("15020719800101001")
    parsed = parse_id_number(number)
    assert parsed.number == number
    assert parsed.birth_date == date(1980, 1, 1)
    assert parsed.gender == "M"  # 17th digit odd
    assert parsed.region_name == "内蒙古自治区包头市九原区"
    assert parsed.warnings == ()


def test_known_check_characters():
    # worked examples of ISO 7064 MOD 11-2 from GB 11643-1999
    assert check_character("11010519491231002") == "X"
    assert check_character("44052418800101001") == "4"


@pytest.mark.parametrize(
    "typed",
    ["{n}", " {n} ", "{lower}", "{fullwidth}", "{spaced}"],
)
def test_normalised_forms_are_accepted(typed):
    n = make("11010519491231002")  # ends in X
    variants = {
        "n": n, "lower": n.lower(), "spaced": f"{n[:6]} {n[6:14]} {n[14:]}",
        "fullwidth": "".join(chr(ord(c) + 0xFEE0) for c in n),
    }
    assert parse_id_number(typed.format(**variants)).number == n


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("1.50207E+17", "damaged by Excel"),
        (1.50207198001e17, "stored as a number"),
        ("150207800101001", "15-digit"),
        ("15020719800101001", "18 characters"),
        ("15020719800101001A", "17 digits followed by a digit or X"),
        (make("15020719800101001")[:17] + ("1" if make("15020719800101001")[17] != "1" else "2"), "checksum"),
        (make("15020719800230001"), "no real birth date"),
        (make("15020720991231001"), "in the future"),
        (make("15020717000101001"), "not plausible"),
    ],
)
def test_rejections_say_why(raw, reason):
    with pytest.raises(IdentifierError, match=reason):
        parse_id_number(raw, today=date(2020, 1, 28))


def test_retired_region_code_is_a_warning_not_a_rejection():
    # 伊克昭盟达拉特旗 was 152722 until 2001, 150621 since: people born there keep the old code
    parsed = parse_id_number(make("15272219650304002"))
    assert parsed.gender == "F"
    assert "retired" in parsed.warnings[0] and "150621" in parsed.warnings[0]


def test_unknown_region_code_inside_a_known_province_is_a_warning_not_a_crash():
    # stdnum.cn.ric raises KeyError here
    parsed = parse_id_number(make("15029919800101001"))
    assert parsed.warnings and "not in the division table" in parsed.warnings[0]


def test_division_table_knows_current_and_retired_codes():
    assert division("150621").current and division("150621").name == "达拉特旗"
    assert not division("152722").current and division("152722").replaced_by == "150621"
    assert full_name("420106") == "湖北省武汉市武昌区"


# --- phones ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("+86 138-1234-5678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),
        ("0472-5123456", "0472-5123456"),
        ("(0472)5123456", "0472-5123456"),
        ("04725123456", "0472-5123456"),
        ("010-62345678", "010-62345678"),
    ],
)
def test_phones_are_normalised(raw, normalised):
    assert normalise_phone(raw) == normalised


@pytest.mark.parametrize("raw", ["", "12345", "0472-512", "+1 650 253 0000", "not a phone", 13812345678.0])
def test_bad_phones_are_rejected(raw):
    with pytest.raises(IdentifierError):
        normalise_phone(raw)


# --- plates ----------------------------------------------------------------------------------

KNOWN = {
    "鄂A": ("湖北省", "武汉市"), "蒙B": ("内蒙古自治区", "包头市"), "蒙K": ("内蒙古自治区", "鄂尔多斯市"),
    "蒙E": ("内蒙古自治区", "呼伦贝尔市"), "蒙A": ("内蒙古自治区", "呼和浩特市"),
    "京A": ("北京市", "北京市"), "京Q": ("北京市", "北京市"), "沪C": ("上海市", "上海市"),
    "粤B": ("广东省", "深圳市"), "苏E": ("江苏省", "苏州市"), "苏U": ("江苏省", "苏州市"),
    "浙A": ("浙江省", "杭州市"), "川A": ("四川省", "成都市"), "鲁B": ("山东省", "青岛市"),
    "冀A": ("河北省", "石家庄市"), "黑A": ("黑龙江省", "哈尔滨市"), "新A": ("新疆维吾尔自治区", "乌鲁木齐市"),
    "藏A": ("西藏自治区", "拉萨市"), "琼A": ("海南省", "海口市"), "鄂F": ("湖北省", "襄阳市"),
}


@pytest.mark.parametrize(("prefix", "expected"), sorted(KNOWN.items()))
def test_known_prefixes(prefix, expected):
    plate = parse_plate(prefix + "12345")
    assert (plate.province, plate.city) == expected


def test_every_province_and_every_listed_letter_resolves():
    provinces = {p[0] for p in _prefixes()}
    assert provinces == set("京津冀晋蒙辽吉黑沪苏浙皖闽赣鲁豫鄂湘粤桂琼渝川贵云藏陕甘青宁新")
    for prefix, entry in _prefixes().items():
        code = city_code(entry.province_code, entry.city)
        assert code, f"{prefix}: {entry.city} not found in GB/T 2260"
        plate = parse_plate(prefix.replace("*", "A") + "12345")
        assert plate.province and plate.division_code.startswith(entry.province_code)


def test_wuhan_plates_map_to_the_wuhan_division_code():
    assert parse_plate("鄂A·88888").division_code == "420100"


@pytest.mark.parametrize(
    ("raw", "kind", "normalised"),
    [
        ("蒙B·12345", "ordinary", "蒙B12345"),
        ("蒙b 1234５", "ordinary", "蒙B12345"),
        ("粤BD12345", "new_energy_small", "粤BD12345"),
        ("粤BF12345", "new_energy_small", "粤BF12345"),
        ("粤B12345D", "new_energy_large", "粤B12345D"),
        ("蒙B1234警", "police", "蒙B1234警"),
        ("苏A1234学", "coach", "苏A1234学"),
        ("鲁B1234挂", "trailer", "鲁B1234挂"),
        ("粤Z1234港", "hong_kong", "粤Z1234港"),
        ("粤Z1234澳", "macao", "粤Z1234澳"),
        ("沪A1234领", "consulate", "沪A1234领"),
        ("使014578", "embassy", "使014578"),
        ("粤BA12345", "new_energy_small", "粤BA12345"),
        ("蒙B・12345", "ordinary", "蒙B12345"),
    ],
)
def test_plate_formats(raw, kind, normalised):
    plate = parse_plate(raw)
    assert (plate.kind, plate.plate) == (kind, normalised)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("鄂A1234", "too short"),
        ("蒙BI2345", "I and O"),
        ("蒙B1O345", "I and O"),
        ("X A12345", "not a province"),
        ("蒙Z12345", "no issuing office"),
        ("粤BD123", "too short"),
        ("粤B123456", "not a plate format"),
    ],
)
def test_bad_plates_say_why(raw, reason):
    with pytest.raises(IdentifierError, match=reason):
        parse_plate(raw)


def test_every_demo_resident_has_a_valid_id_number():
    from louzhang.demo.city import build_demo_city

    for person in build_demo_city().residents:
        parsed = parse_id_number(person.id_number, today=date(2020, 1, 28))
        assert parsed.birth_date == person.birth_date and parsed.gender == person.gender
