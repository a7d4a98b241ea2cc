"""Chinese identifiers, validated and normalised once for the whole product: resident ID numbers
(GB 11643), phone numbers, vehicle plates (GA 36) and administrative division codes (GB/T 2260).

Each parser takes the raw text as people type it or Excel stores it and returns a normalised
value with what can be derived from it, or raises :class:`IdentifierError` whose message says
exactly what is wrong (it ends up in an import's rejects file or an API error).
"""


class IdentifierError(ValueError):
    """The value cannot be used; the message says why, in words an operator can act on."""
