"""Household addresses as communities write them: 34号楼二单元6楼西户, 34-2-602, 34栋2单元602室,
34—2—602 (any dash), 34-2-6楼西户.

The parts are the building (楼号), unit (单元), floor and door; the door is a side (东/西/南/北/中,
as in 6楼西户) or a room number (602室: floor 6, door 02). Every way of writing the same parts
gives the same household code (`local_code`). Which room number a side is (is 601 the west flat
or the east one?) differs from town to town, so a side and a room number are never taken for
the same flat: `recorded_local` reads a household's code back, and the residents' import
refuses to add a flat written one way on a floor recorded the other way.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from django.utils.translation import gettext as _

from louzhang.identifiers import IdentifierError

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
SIDES = {"西": 1, "东": 2, "南": 3, "北": 4, "中": 5}
SIDE_NAMES = {v: k for k, v in SIDES.items()}


@dataclass(frozen=True)
class HouseholdAddress:
    building: str  # "34", "7A"
    unit: int
    floor: int
    door: int  # side code (1..5) when `side` is set, else the room's door number
    side: bool

    @property
    def name(self) -> str:
        """How the household is called: 6楼西户, or 602室."""
        if self.side:
            return f"{self.floor}楼{SIDE_NAMES[self.door]}户"
        return f"{self.floor}{self.door:02d}室"

    @property
    def local_code(self) -> str:
        """The household's part of its area code (a side is 01–05, a room its door number + 10)."""
        return f"{self.floor:02d}{self.door if self.side else self.door + 10:02d}"


def chinese_number(text: str) -> int:
    """二 → 2, 十二 → 12, 二十 → 20, 12 → 12."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    # digits alone (一二 = 12), or at most one 十 with one digit either side
    if not _CN_NUMBER.fullmatch(text):
        raise ValueError(text)
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0)
    value = 0
    for c in text:
        value = value * 10 + _CN_DIGITS[c]
    return value


_NUM = r"(\d+|[零〇一二两三四五六七八九十]+)"
_ROOM_SIDE = re.compile(rf"{_NUM}(?:楼|层)([东西南北中])户?")
_CN_NUMBER = re.compile(r"[零〇一二两三四五六七八九]+|[一二两三四五六七八九]?十[一二三四五六七八九]?")
_BUILDING_SUFFIX = re.compile(r"(号楼|号|栋|幢|座|楼)$")
_BUILDING_TEXT = re.compile(r"\d+[A-Z]?")
_UNIT_SUFFIX = re.compile(r"单元$")
_ROOM_SUFFIX = re.compile(r"(室|号|户)$")
_ROOM_DIGITS = re.compile(r"\d{3,4}")
_BUILDING_NUMBER = re.compile(r"[1-9]\d{0,3}[A-Z]?")
_BUILDING = r"(?P<building>\d+[A-Z]?|[零〇一二两三四五六七八九十]+)\s*(?:号楼|号|栋|幢|座|楼)"
_FULL = re.compile(
    rf"^{_BUILDING}\s*(?P<unit>{_NUM})\s*单元\s*"
    rf"(?:(?P<floor>{_NUM})\s*(?:楼|层)\s*(?P<side>[东西南北中])\s*(?:户|侧)?"
    rf"|(?P<room>\d{{3,4}})\s*(?:室|号|户)?)$"
)
_DASHED = re.compile(
    rf"^(?P<building>\d+[A-Z]?)(?:号楼|号|栋|幢|座|楼)?-(?P<unit>\d+)(?:单元)?-"
    rf"(?:(?P<room>\d{{3,4}})(?:室|号|户)?|(?P<floor>{_NUM})(?:楼|层)(?P<side>[东西南北中])(?:户|侧)?)$"
)
#: dashes people type between the parts (NFKC already makes "－" a "-")
_DASHES = re.compile(r"[\u2010-\u2015\u2212\u30fc\uff70_/]")
_LOCAL = re.compile(r"(\d{2})(\d{2,3})")


def recorded_local(code: str) -> tuple[int, bool] | None:
    """(floor, is a side) of a household from its area code (…-0601 is 6楼西户, …-0611 is
    601室); None for a code made otherwise."""
    found = _LOCAL.fullmatch(code.rsplit("-", 1)[-1])
    if found is None:
        return None
    floor, door = int(found.group(1)), int(found.group(2))
    if 1 <= door <= len(SIDES):
        return floor, True
    return (floor, False) if door > 10 else None


def parse_address(raw: str) -> HouseholdAddress:
    text = unicodedata.normalize("NFKC", raw or "").strip().upper().replace(" ", "")
    text = _DASHES.sub("-", text)
    if not text:
        raise IdentifierError(_("address is empty"))
    match = _FULL.match(text) or _DASHED.match(text)
    if match is None:
        raise IdentifierError(
            _("address %(raw)s not understood: expected e.g. 34号楼二单元6楼西户 or 34-2-602")
            % {"raw": raw})
    parts = match.groupdict()
    return household_address(parts["building"], parts["unit"], parts.get("floor"),
                             parts.get("side"), parts.get("room"), raw=raw)


def household_address(
    building: str, unit: str, floor: str | None, side: str | None, room: str | None, *, raw: str = ""
) -> HouseholdAddress:
    """From separate columns (楼号, 单元, 门牌号) or the parts of a parsed address."""
    where = raw or f"{building}/{unit}/{room or f'{floor}{side}'}"
    building_text = unicodedata.normalize("NFKC", str(building)).strip().upper()
    building_text = _BUILDING_SUFFIX.sub("", building_text)
    if not _BUILDING_TEXT.fullmatch(building_text):
        try:
            building_text = str(chinese_number(building_text))
        except ValueError:
            raise IdentifierError(_("building %(part)s not understood in %(where)s") % {"part": building, "where": where}) from None
    try:
        unit_no = chinese_number(_UNIT_SUFFIX.sub("", unicodedata.normalize("NFKC", str(unit)).strip()))
    except ValueError:
        raise IdentifierError(_("unit %(part)s not understood in %(where)s") % {"part": unit, "where": where}) from None
    if room:
        room_text = _ROOM_SUFFIX.sub("", unicodedata.normalize("NFKC", str(room)).strip())
        if not _ROOM_DIGITS.fullmatch(room_text):
            side_match = _ROOM_SIDE.fullmatch(room_text)
            if side_match:
                return household_address(building_text, str(unit_no), side_match.group(1),
                                         side_match.group(2), None, raw=raw)
            raise IdentifierError(_("room %(part)s not understood in %(where)s") % {"part": room, "where": where})
        floor_no, door = int(room_text[:-2]), int(room_text[-2:])
        if floor_no < 1 or door < 1:
            raise IdentifierError(_("room %(part)s has no floor or door in %(where)s") % {"part": room, "where": where})
        return _checked(HouseholdAddress(building_text, unit_no, floor_no, door, side=False), where)
    if floor is None or side is None:
        raise IdentifierError(_("no floor and door in %(where)s") % {"where": where})
    try:
        floor_no = chinese_number(floor)
    except ValueError:
        raise IdentifierError(_("floor %(part)s not understood in %(where)s") % {"part": floor, "where": where}) from None
    return _checked(HouseholdAddress(building_text, unit_no, floor_no, SIDES[side], side=True), where)


def _checked(address: HouseholdAddress, where: str) -> HouseholdAddress:
    """Numbers a real building has: buildings up to 9999 (with an optional letter), units and
    floors 1-99."""
    if not _BUILDING_NUMBER.fullmatch(address.building):
        raise IdentifierError(_("building number %(part)s out of range in %(where)s") % {"part": address.building, "where": where})
    if not 1 <= address.unit <= 99 or not 1 <= address.floor <= 99:
        raise IdentifierError(_("floor or unit out of range in %(where)s") % {"where": where})
    return address
