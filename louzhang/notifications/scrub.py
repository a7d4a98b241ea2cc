"""Personal numbers out of text meant for a group chat: mobile numbers and ID numbers, however
they were typed.

Rules compose their summaries from masked values; this is the second line of defence, for the
free text of tasks, tips and notices. A number is found on a normalised copy of the text (every
kind of digit as 0-9, full-width signs and letters as ASCII, every dash as "-", every space and
invisible separator as " "), one character for one, so that what is masked is exactly the span
in the original and nothing else in the text changes (its full-width Chinese punctuation stays).

Masked: mobile numbers with or without +86 / 0086 / 86 and with spaces, dashes, dots, slashes
or commas between groups of digits (`+86 138-1234-5678`, `１３８ １２３４ ５６７８`,
`138 / 1234 / 5678`), or between every digit; ID numbers of 18 characters (the last one may be
X) and old ones of 15 digits, grouped or not, whose birth date is a real date.
Left alone: dates, times, temperatures, counts, plates, area codes, addresses (1-3-601).
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


#: what people type between the groups of a number: spaces, dots, dashes, slashes, underscores,
#: commas (full-width ones are folded by `normalised`)
_SEPARATOR = r"[ .\-_/,]{1,3}"
#: digit groups joined by separators (the last group of an ID may end in X)
_GROUPS = re.compile(rf"(?<![0-9A-Za-z])[0-9]+[Xx]?(?:{_SEPARATOR}[0-9]+[Xx]?)*(?![0-9A-Za-z])")
_GROUP = re.compile(r"[0-9]+[Xx]?")
#: a country code before a mobile number, glued or not
_COUNTRY = re.compile(r"(?:(?:\+|00)[ \-]?86[ \-]?|\(\+?86\)[ \-]?|86[ \-]?)$")


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
    # an old ID (issued until 1999) of somebody born 1920 or later: a compound's code (150782
    # 101 001 001: a town's 1xx) would otherwise read as "born 1910-10-01"
    return (number[:2] >= "11" and number[6:8] >= "20"
            and _born(1900 + int(number[6:8]), int(number[8:10]), int(number[10:12])))


def _candidates(plain: str) -> list[tuple[int, int, str]]:
    """Runs of digit groups that spell a mobile or an ID number: (start, end, digits).

    The groups are taken as typed — one digit each (`1 3 8 1 2 …`) or at least two each
    (`138 1234 5678`, `1502 0219 8001 0112 36`); an address such as 1-3-601 (groups of one and
    of three) is neither. Within a run every stretch of consecutive groups is tried."""
    found = []
    for run in _GROUPS.finditer(plain):
        groups = [(run.start() + g.start(), run.start() + g.end(), g.group(0)) for g in _GROUP.finditer(run.group(0))]
        for i in range(len(groups)):
            digits = ""
            for j in range(i, len(groups)):
                digits += groups[j][2]
                if len(digits) > 18:
                    break
                lengths = {len(g[2]) for g in groups[i:j + 1]}
                if not (lengths == {1} or min(lengths) >= 2):
                    continue
                if "X" in digits.upper()[:-1]:
                    break
                if len(digits) in (11, 13, 15, 18):
                    found.append((groups[i][0], groups[j][1], digits.upper()))
    return found


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

    for start, end, digits in sorted(_candidates(plain), key=lambda c: c[0] - c[1]):  # longest first
        if len(digits) == 18 and _is_id_18(digits):
            take(start, end, mask(Kind.ID_NUMBER, digits))
        elif len(digits) == 15 and digits.isdigit() and _is_id_15(digits) \
                and not re.match(r"-[0-9]", plain[end:end + 2]):  # …-34-2-0601: a household's code
            take(start, end, mask(Kind.ID_NUMBER, digits))
        elif len(digits) == 11 and re.fullmatch(r"1[3-9][0-9]{9}", digits):
            country = _COUNTRY.search(plain[max(0, start - 8):start])
            take(start - (len(country.group(0)) if country else 0), end, mask(Kind.PHONE, digits))
        elif glued := re.fullmatch(r"(?:86|0086)(1[3-9][0-9]{9})", digits):  # +8613812345678
            plus = 1 if plain[start - 1:start] == "+" else 0
            take(start - plus, end, mask(Kind.PHONE, glued.group(1)))
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
