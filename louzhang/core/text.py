"""Text typed by anyone (a tip from the public, a notice): kept as the person wrote it, minus
what no person types — NUL and other control characters (PostgreSQL refuses NUL), and invisible
format characters around it, so that a "name" of zero-width spaces counts as blank."""

from __future__ import annotations

import unicodedata


def _keep(char: str) -> bool:
    if char in "\n\t":
        return True
    return unicodedata.category(char) not in {"Cc", "Cs", "Co", "Cn"}


def plain_text(value: object, *, multiline: bool = True) -> str:
    """`value` as text a person wrote: control characters dropped, line ends as \\n, invisible
    and blank characters stripped at both ends (an all-invisible text becomes "")."""
    text = str(value or "").replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(c for c in text if _keep(c))
    if not multiline:
        text = " ".join(text.split("\n"))
    return text.strip(" \t\n\u00a0\u3000" + "".join(_INVISIBLE))


#: format characters that show nothing (zero-width space, joiners, marks, BOM, word joiner …)
_INVISIBLE = ("\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u2060", "\u2061", "\u2062",
              "\u2063", "\u2064", "\ufeff", "\u00ad", "\u180e", "\u202a", "\u202b", "\u202c",
              "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069")
