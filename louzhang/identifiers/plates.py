"""Vehicle plates (机动车号牌, GA 36-2018): parsed, normalised, and traced to their issuing city.

鄂A12345 → 湖北省 武汉市; 蒙B → 包头市; 蒙K → 鄂尔多斯市 (鄂 is Hubei, not Ordos).
Formats: ordinary (province + letter + 5 characters, never I or O), new-energy (6 characters:
D/F first for small cars, last for large), and the 警/学/挂/港/澳/领 series and embassy 使 plates.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.utils.translation import gettext as _

from louzhang.identifiers import IdentifierError
from louzhang.identifiers.divisions import _table, province_name

DATA = Path(__file__).resolve().parent / "data" / "plate_prefixes.tsv"

_SERIAL = "[A-HJ-NP-Z0-9]"  # GA 36: the letters I and O are never used
_PATTERNS = [
    # small new-energy cars: D, A, B, C, E (battery) or F, G, H, J, K (hybrid) first
    ("new_energy_small", re.compile(rf"^[A-HJK]{_SERIAL}\d{{4}}$")),
    ("new_energy_large", re.compile(r"^\d{5}[DF]$")),
    ("ordinary", re.compile(rf"^{_SERIAL}{{5}}$")),
    ("police", re.compile(rf"^{_SERIAL}{{4}}警$")),
    ("coach", re.compile(rf"^{_SERIAL}{{4}}学$")),
    ("trailer", re.compile(rf"^{_SERIAL}{{4}}挂$")),
    ("hong_kong", re.compile(rf"^{_SERIAL}{{4}}港$")),
    ("macao", re.compile(rf"^{_SERIAL}{{4}}澳$")),
    ("consulate", re.compile(rf"^{_SERIAL}{{4}}领$")),
]
_EMBASSY = re.compile(r"^使\d{6}$")


@dataclass(frozen=True)
class Plate:
    plate: str  # normalised: 鄂A12345
    kind: str
    province: str
    city: str  # "" when the letter belongs to no city (省直机关, 农垦 …)
    division_code: str  # GB/T 2260 code of the issuing city or province ("" for embassy plates)
    note: str = ""


@dataclass(frozen=True)
class _Prefix:
    province_code: str
    city: str
    note: str


@cache
def _prefixes() -> dict[str, _Prefix]:
    table = {}
    for line in DATA.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        prefix, province_code, city, note = line.split("\t")
        table[prefix] = _Prefix(province_code, city, note)
    return table


@cache
def city_code(province_code: str, city: str) -> str:
    """The current GB/T 2260 code of a city of that province, by its name."""
    if not city:
        return province_code + "0000"
    for code, entry in _table().items():
        if code.startswith(province_code) and entry.name == city and entry.current:
            return code
    return ""


def normalise_plate(raw: object) -> str:
    text = unicodedata.normalize("NFKC", str(raw or "")).upper()
    return re.sub(r"[\s·•・.\-_]", "", text)


def known_prefix(prefix: str) -> bool:
    """A province character (鄂), or a province character and an issuing office letter (鄂A)."""
    prefixes = _prefixes()
    if len(prefix) == 1:
        return any(p.startswith(prefix) for p in prefixes)
    return len(prefix) == 2 and (prefix in prefixes or prefix[0] + "*" in prefixes)


def parse_plate(raw: object) -> Plate:
    text = normalise_plate(raw)
    if not text:
        raise IdentifierError(_("plate is empty"))
    if _EMBASSY.match(text):
        return Plate(plate=text, kind="embassy", province="", city="", division_code="")
    if len(text) < 7:
        raise IdentifierError(_("plate %(plate)s is too short") % {"plate": text})
    prefixes = _prefixes()
    province_char, letter, rest = text[0], text[1], text[2:]
    prefix = prefixes.get(province_char + letter) or prefixes.get(province_char + "*")
    if prefix is None:
        if not any(p.startswith(province_char) for p in prefixes):
            raise IdentifierError(_("plate %(plate)s: %(char)s is not a province abbreviation") % {"plate": text, "char": province_char})
        raise IdentifierError(_("plate %(plate)s: no issuing office %(prefix)s") % {"plate": text, "prefix": province_char + letter})
    kind = next((name for name, pattern in _PATTERNS if pattern.match(rest)), None)
    if kind is None:
        if "I" in rest or "O" in rest:
            raise IdentifierError(_("plate %(plate)s: the letters I and O are never used on plates") % {"plate": text})
        raise IdentifierError(_("plate %(plate)s: not a plate format of GA 36") % {"plate": text})
    return Plate(
        plate=text, kind=kind,
        province=province_name(prefix.province_code + "0000") or "",
        city=prefix.city, division_code=city_code(prefix.province_code, prefix.city),
        note=prefix.note,
    )
