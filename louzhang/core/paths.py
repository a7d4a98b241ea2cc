"""Area paths: the value every jurisdiction check is built on, its column and `subtree` lookup.

A path holds the area codes from the root down, each followed by "/": ``/150200/150202/…/``.
Its depth is the level of the area (a city is 1, a household 8). `AreaPath` is the one place
path arithmetic is written (depth, ancestor at a depth, child, contains); nothing else splits
or joins paths by hand. Everything under an area is ``path LIKE '<its path>%'`` — one index
range scan, no recursion.

The SQL differs by database so that the index is really used:
- SQLite: LIKE is case-insensitive there and skips a binary index, so use the equivalent range
  ``path >= p AND path < p'`` where p' is p with its final "/" replaced by "0" (the next byte).
- PostgreSQL: LIKE with a literal prefix, served by the ``varchar_pattern_ops`` index Django
  creates beside every indexed CharField.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import Lookup

SEPARATOR = "/"


class AreaPath(str):
    """A materialised path, as a string (it is stored, compared and filtered as one) that knows
    its own shape. Build one from codes (`AreaPath.of("150200", "150202")`), from a parent
    (`parent.child("34")`) or from a stored value (`AreaPath(area.path)`)."""

    __slots__ = ()

    @classmethod
    def of(cls, *codes: str) -> AreaPath:
        for code in codes:
            if not code or SEPARATOR in code:
                raise ValueError(f"area code may not be empty or contain {SEPARATOR!r}: {code!r}")
        return cls(SEPARATOR + "".join(code + SEPARATOR for code in codes))

    @property
    def codes(self) -> list[str]:
        return self.strip(SEPARATOR).split(SEPARATOR)

    @property
    def code(self) -> str:
        """The code of the area itself (the last one)."""
        return self.codes[-1]

    @property
    def depth(self) -> int:
        """How deep the area lies: its level (1 for a city …, 8 for a household)."""
        return self.count(SEPARATOR) - 1

    def child(self, code: str) -> AreaPath:
        return AreaPath.of(*self.codes, code)

    def ancestor(self, depth: int) -> AreaPath:
        """The path of the ancestor at `depth` (the path itself at its own depth or above it)."""
        return AreaPath.of(*self.codes[:depth])

    def ancestors(self) -> list[AreaPath]:
        """The paths of the ancestors, root first, not including this one."""
        return [self.ancestor(depth) for depth in range(1, self.depth)]

    def contains(self, other: str) -> bool:
        """`other` is this area or lies beneath it."""
        return other.startswith(self)

    def step_towards(self, other: str) -> AreaPath | None:
        """The child of this area on the way down to `other` (None if `other` is not beneath)."""
        if other == self or not other.startswith(self):
            return None
        return self.child(other[len(self):].split(SEPARATOR, 1)[0])


if TYPE_CHECKING:
    _CharField = models.CharField[str, str]
    _Lookup = Lookup[str]
else:
    _CharField = models.CharField
    _Lookup = Lookup


class PathField(_CharField):
    description = "Materialised path of area codes"


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@PathField.register_lookup
class Subtree(_Lookup):
    """`path__subtree=P`: the area whose path is P and everything below it."""

    lookup_name = "subtree"

    def get_db_prep_lookup(self, value: Any, connection: Any) -> tuple[str, list[Any]]:
        return "%s", [value]

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        prefix = str(self.rhs)
        if not prefix.endswith(SEPARATOR):
            raise ValueError(f"subtree prefix must end with {SEPARATOR!r}: {prefix!r}")
        if connection.vendor == "postgresql":
            return f"{lhs} LIKE %s", [*lhs_params, _escape_like(prefix) + "%"]
        upper = prefix[:-1] + chr(ord(SEPARATOR) + 1)
        return f"({lhs} >= %s AND {lhs} < %s)", [*lhs_params, prefix, *lhs_params, upper]
