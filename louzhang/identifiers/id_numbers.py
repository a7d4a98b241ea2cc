"""Resident identity card numbers (公民身份号码, GB 11643-1999).

Hard rules: 18 characters, 17 digits and a check character by ISO 7064 MOD 11-2, a real birth
date not in the future. The region code is information only (see divisions.py): unknown or
retired codes give a warning, never a rejection.

The check character comes from python-stdnum's ISO 7064 MOD 11-2; `stdnum.cn.ric` itself is
deliberately not used as the validator: it raises KeyError for an unknown
county inside a known province and rejects people born before their county's current code.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from django.utils.translation import gettext as _
from stdnum.iso7064 import mod_11_2

from louzhang.identifiers import IdentifierError
from louzhang.identifiers.divisions import division, full_name

_EXCEL_DAMAGE = re.compile(r"^\d(\.\d+)?[eE]\+?\d+$")


@dataclass(frozen=True)
class IdNumber:
    number: str
    birth_date: date
    gender: str  # "M" or "F"
    region_code: str
    warnings: tuple[str, ...] = field(default=())

    @property
    def region_name(self) -> str:
        """Province, prefecture and county of the issuing region, as far as the table knows."""
        return full_name(self.region_code)


def check_character(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character (python-stdnum's implementation)."""
    return str(mod_11_2.calc_check_digit(first17))


_CLEAN = re.compile(r"^[0-9]{17}[0-9X]$")
_SPACES = re.compile(r"[\s\-]")


def normalise(raw: object) -> str:
    """Full-width digits and letters folded, spaces dropped, a lowercase x raised."""
    text = str(raw)
    if _CLEAN.match(text):  # the common case, already clean
        return text
    text = unicodedata.normalize("NFKC", text)
    # zero-width and other format characters from copy-paste, and Excel's text-marking apostrophe
    text = "".join(c for c in text if unicodedata.category(c) != "Cf").strip().lstrip("'")
    return _SPACES.sub("", text).upper()


def parse_id_number(raw: object, *, today: date | None = None) -> IdNumber:
    if raw is None or str(raw).strip() == "":
        raise IdentifierError(_("ID number is empty"))
    if isinstance(raw, float | int) and not isinstance(raw, bool):
        raise IdentifierError(_(
            "ID number was stored as a number (%(raw)s): spreadsheets keep only 15 significant "
            "digits of a number; format the column as text and type it again") % {"raw": repr(raw)})
    text = normalise(raw)
    if _EXCEL_DAMAGE.match(text):
        raise IdentifierError(_(
            "ID number damaged by Excel (%(text)s): format the column as text and type it again")
            % {"text": text})
    if len(text) == 15 and text.isdigit():
        raise IdentifierError(_("15-digit first-generation number: ask for the 18-digit one"))
    if len(text) != 18:
        raise IdentifierError(_("ID number must have 18 characters, not %(n)d") % {"n": len(text)})
    if not text[:17].isdigit() or not (text[17].isdigit() or text[17] == "X"):
        raise IdentifierError(_("ID number must be 17 digits followed by a digit or X"))
    expected = check_character(text[:17])
    if text[17] != expected:
        raise IdentifierError(_("ID number checksum fails (last character should be %(expected)s)") % {"expected": expected})
    try:
        born = date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        raise IdentifierError(_("ID number holds no real birth date (%(date)s)") % {"date": text[6:14]}) from None
    today = today or date.today()  # noqa: DTZ011  (a calendar date, local to the reader)
    if born > today:
        raise IdentifierError(_("ID number birth date %(date)s is in the future") % {"date": born.isoformat()})
    if born.year < 1890:
        raise IdentifierError(_("ID number birth date %(date)s is not plausible") % {"date": born.isoformat()})
    region = text[:6]
    warnings = []
    entry = division(region)
    if entry is None:
        warnings.append(_("region code %(code)s is not in the division table (newer than 2019, or unknown)") % {"code": region})
    elif not entry.current:
        replaced = (_(", now %(code)s") % {"code": entry.replaced_by}) if entry.replaced_by else ""
        warnings.append(_("region code %(code)s (%(name)s) was retired in %(year)s%(replaced)s") % {
            "code": region, "name": entry.name, "year": entry.last_revision[:4], "replaced": replaced})
    return IdNumber(
        number=text,
        birth_date=born,
        gender="M" if int(text[16]) % 2 else "F",
        region_code=region,
        warnings=tuple(warnings),
    )
