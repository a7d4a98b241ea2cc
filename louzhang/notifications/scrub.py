"""Personal numbers out of text meant for a group chat: mobile numbers and ID numbers, however
they were typed.

Rules compose their summaries from masked values; this is the second line of defence, for the
free text of tasks, tips and notices. A number is found on a normalised copy of the text (every
kind of digit as 0-9, full-width signs and letters as ASCII, every dash as "-", every space and
invisible separator as " "), one character for one, so that what is masked is exactly the span
in the original and nothing else in the text changes (its full-width Chinese punctuation stays).

Masked: mobile numbers with or without +86 / 0086 / 86 and with spaces, dashes or dots between
the digits (`+86 138-1234-5678`, `１３８ １２３４ ５６７８`); ID numbers of 18 characters (the
last one may be X) and old ones of 15 digits, grouped or not, whose birth date is a real date.
Left alone: dates, times, temperatures, counts, plates, area codes.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from django.utils import timezone

from louzhang.core.personal import Kind, mask

_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2043\ufe58\ufe63\uff0d\u30fc"
#: invisible characters typed (or pasted) between digits; each counts as a separator
_INVISIBLE = "\u00ad\u180e\u200b\u200c\u200d\u2060\ufeff"


def _normal_char(c: str) -> str:
    if c.isascii():
        return c
    digit = unicodedata.decimal(c, None)
    if digit is not None:
        return str(digit)
    if c in _DASHES:
        return "-"
    if c in _INVISIBLE or c.isspace():
        return " "
    folded = unicodedata.normalize("NFKC", c)
    return folded if len(folded) == 1 and folded.isascii() else c


def normalised(text: str) -> str:
    """`text` with one ASCII character for each digit, sign, dash or space however written;
    as long as `text`, character for character."""
    return "".join(_normal_char(c) for c in text)


_SEP = r"[ .\-]{0,2}"
# 11 digits 1[3-9]…, any separators between them; a country code before it is part of it
_MOBILE = re.compile(
    r"(?<![0-9])(?:(?:\+|00)[ \-]?86[ \-]?|\(\+?86\)[ \-]?|86[ \-])?"
    rf"(1{_SEP}[3-9](?:{_SEP}[0-9]){{9}})(?![0-9])"
)
_MOBILE_GLUED = re.compile(r"(?<![0-9])(?:\+?86|0086)(1[3-9][0-9]{9})(?![0-9])")
_ID_18 = re.compile(rf"(?<![0-9])[1-8](?:{_SEP}[0-9]){{16}}{_SEP}[0-9Xx](?![0-9])")
_ID_15 = re.compile(rf"(?<![0-9])[1-8](?:{_SEP}[0-9]){{14}}(?![0-9])")


def _digits(span: str) -> str:
    return "".join(c for c in span if c.isdigit() or c in "Xx").upper()


def _born(year: int, month: int, day: int) -> bool:
    try:
        born = date(year, month, day)
    except ValueError:
        return False
    return date(1890, 1, 1) <= born <= timezone.localdate()


def _is_id_18(number: str) -> bool:
    return number[:2] >= "11" and _born(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def _is_id_15(number: str) -> bool:
    # born 1910 or later: a compound's code (150202 001 001 001) would be "born 1900"
    return (number[:2] >= "11" and number[6:8] >= "10"
            and _born(1900 + int(number[6:8]), int(number[8:10]), int(number[10:12])))


def scrub(text: str) -> str:
    """`text` with every mobile number and ID number in it masked (138****5678,
    1502**********1236), and nothing else changed."""
    if not text:
        return text
    plain = normalised(text)
    spans: list[tuple[int, int, str]] = []

    def take(start: int, end: int, masked: str) -> None:
        if not any(s < end and start < e for s, e, _ in spans):
            spans.append((start, end, masked))

    for match in _ID_18.finditer(plain):
        number = _digits(match.group(0))
        if _is_id_18(number):
            take(match.start(), match.end(), mask(Kind.ID_NUMBER, number))
    for match in _ID_15.finditer(plain):
        number = _digits(match.group(0))
        if _is_id_15(number):
            take(match.start(), match.end(), mask(Kind.ID_NUMBER, number))
    for pattern in (_MOBILE_GLUED, _MOBILE):
        for match in pattern.finditer(plain):
            take(match.start(), match.end(), mask(Kind.PHONE, _digits(match.group(1))))
    if not spans:
        return text
    out: list[str] = []
    position = 0
    for start, end, masked in sorted(spans):
        out.append(text[position:start])
        out.append(masked)
        position = end
    out.append(text[position:])
    return "".join(out)
