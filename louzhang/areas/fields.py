"""A materialised-path column and the `subtree` lookup every jurisdiction check is built on.

`path` holds the codes from the root down, each followed by "/": ``/150200/150202/…/``.
Everything under an area is ``path LIKE '<its path>%'`` — one index range scan, no recursion.

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
