"""GB/T 2260 division codes, current and retired (data/gb2260.tsv; source in its build script).

A code is *information*: ID numbers keep the code of where and when they were issued, so a
retired code (伊克昭盟达拉特旗 152722, before 2001) is normal, and a code missing from the table
(issued after the table's last revision, 2019-04) is only a warning.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "gb2260.tsv"
LAST_REVISION = "201904"


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    first_revision: str
    last_revision: str
    replaced_by: str

    @property
    def current(self) -> bool:
        return self.last_revision == LAST_REVISION


@cache
def _table() -> dict[str, Division]:
    table = {}
    with DATA.open(encoding="utf-8") as handle:
        next(handle)
        for line in handle:
            code, name, first, last, replaced = line.rstrip("\n").split("\t")
            table[code] = Division(code, name, first, last, replaced)
    return table


def division(code: str) -> Division | None:
    return _table().get(code)


def full_name(code: str) -> str:
    """Province, prefecture and county names of a six-digit code, as far as they are known:
    150207 → 内蒙古自治区包头市九原区."""
    table = _table()
    parts: list[str] = []
    for prefix in (code[:2] + "0000", code[:4] + "00", code):
        entry = table.get(prefix)
        if entry and (not parts or entry.name not in ("市辖区", "县", "省直辖县级行政区划")) and entry.name not in parts:
            parts.append(entry.name)
    return "".join(parts)


def province_name(code: str) -> str | None:
    entry = _table().get(code[:2] + "0000")
    return entry.name if entry else None


_SUFFIXES = ("自治州", "自治县", "自治旗", "地区", "盟", "省", "市", "区", "县", "旗")


@cache
def place_names_under(prefix: str) -> tuple[str, ...]:
    """The current names of the provinces and prefecture-level cities whose code starts with
    `prefix`, without their suffix (42 → 湖北, 武汉, 孝感 …), for matching a place someone wrote
    down. Districts and counties are left out: their names repeat across the country (武汉 and
    包头 both have a 青山区)."""
    names = set()
    for code, entry in _table().items():
        if (code.startswith(prefix) and code.endswith("00") and entry.current
                and entry.name not in ("市辖区", "县", "省直辖县级行政区划")):
            stem = entry.name
            for suffix in _SUFFIXES:
                if stem.endswith(suffix) and len(stem) > len(suffix) + 1:
                    stem = stem[: -len(suffix)]
                    break
            names.add(stem)
    return tuple(sorted(names, key=len, reverse=True))
