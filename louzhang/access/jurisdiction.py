"""What a user may see: the one place every page, export and endpoint is limited.

A user's jurisdiction is the union of the subtrees of their grants. Models that hang off the
tree say how to reach an area path with a class attribute ``jurisdiction_path`` (for example
``"household__path"``); :func:`scope` applies the limit to any queryset of such a model.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import models
from django.db.models import Q

from louzhang.access.grants import holdings
from louzhang.accounts.models import Grant
from louzhang.core.paths import AreaPath

M = TypeVar("M", bound=models.Model)
_WELL_FORMED = re.compile(r"^/(?:[^/]+/)+$")


@dataclass(frozen=True)
class Jurisdiction:
    everything: bool
    #: minimal set of subtree roots (none is inside another), sorted
    paths: tuple[str, ...]

    @classmethod
    def of_paths(cls, paths: Iterable[str]) -> Jurisdiction:
        minimal: list[str] = []
        for path in sorted(set(paths)):
            if not _WELL_FORMED.match(path):
                raise ValueError(f"malformed area path {path!r}")
            if not minimal or not AreaPath(minimal[-1]).contains(path):
                minimal.append(path)
        return cls(everything=False, paths=tuple(minimal))

    @property
    def is_empty(self) -> bool:
        return not self.everything and not self.paths

    def q(self, field: str = "path") -> Q:
        """A filter limiting `field` (an area path) to this jurisdiction."""
        if self.everything:
            return Q()
        if not self.paths:
            return Q(pk__in=[])
        condition = Q()
        for path in self.paths:
            condition |= Q(**{f"{field}__subtree": path})
        return condition

    def covers(self, path: str) -> bool:
        """The area with this path is inside the jurisdiction."""
        return self.everything or any(AreaPath(p).contains(path) for p in self.paths)

    def leads_to(self, path: str) -> bool:
        """The area with this path is an ancestor of a granted area: its name may be shown as
        context (breadcrumbs, navigation) but nothing beneath it outside the grants."""
        return not self.everything and any(
            AreaPath(path).step_towards(p) is not None for p in self.paths
        )

    def navigable(self, path: str) -> bool:
        return self.covers(path) or self.leads_to(path)

    def q_in_reach(self, field: str, level: int) -> Q:
        """Like `q`, and also the areas of `level` (e.g. compounds) that a deeper grant lies in:
        a building's warden reaches the compound's gates and what drives into the compound."""
        above = {AreaPath(p).ancestor(level) for p in self.paths if AreaPath(p).depth > level}
        return self.q(field) | Q(**{f"{field}__in": above}) if above else self.q(field)

    def next_steps_below(self, path: str) -> set[str]:
        """Paths of the children of `path` on the way down to a granted area."""
        steps = {AreaPath(path).step_towards(granted) for granted in self.paths}
        return {str(step) for step in steps if step is not None}


EVERYTHING = Jurisdiction(everything=True, paths=())
NOTHING = Jurisdiction(everything=False, paths=())


def jurisdiction_for(user: Any, roles: Iterable[str] | None = None) -> Jurisdiction:
    """The jurisdiction of a user, optionally through grants of certain roles only.

    Cached on the user object for the length of a request.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return NOTHING
    if user.is_superuser:
        return EVERYTHING
    key = tuple(sorted(roles)) if roles is not None else None
    cache: dict[Any, Jurisdiction] = user.__dict__.setdefault("_lz_jurisdiction", {})
    if key not in cache:
        cache[key] = Jurisdiction.of_paths(_granted_paths(user, key))
    return cache[key]


def _granted_paths(user: Any, roles: tuple[str, ...] | None) -> list[str]:
    return [path for role, path in _grants(user) if roles is None or role in roles]


def _grants(user: Any) -> list[tuple[str, str]]:
    """(role, area path) of every grant of the user in force now (`holdings` leaves out a grant
    before its start or after its end), read once per request: a page asks for the
    jurisdiction of several role sets (who sees what in full, who may act …). Kept under an
    `_lz_` key of the user, which `accounts.services.forget_grants` drops."""
    cached: list[tuple[str, str]] | None = user.__dict__.get("_lz_grants")
    if cached is None:
        cached = [(h.role, h.path) for h in holdings(Grant.objects.filter(user=user))]
        user.__dict__["_lz_grants"] = cached
    return cached


def scope(queryset: models.QuerySet[M], user: Any, roles: Iterable[str] | None = None) -> models.QuerySet[M]:
    """Limit any queryset of a tree-bound model to what `user` may see."""
    field = getattr(queryset.model, "jurisdiction_path", None)
    if field is None:
        raise TypeError(f"{queryset.model.__name__} declares no jurisdiction_path")
    return queryset.filter(jurisdiction_for(user, roles).q(field))
