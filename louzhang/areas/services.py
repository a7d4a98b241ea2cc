"""Building the tree."""

from __future__ import annotations

from django.db import transaction

from louzhang.areas.models import Area, Level, build_path


class AreaError(Exception):
    pass


def area_create(*, code: str, name: str, level: Level, parent: Area | None, ordinal: int = 0) -> Area:
    """Add one area under `parent`; the level must sit directly below the parent's."""
    if parent is None and level not in (Level.CITY,):
        raise AreaError(f"{name}: only a city may have no parent")
    if parent is not None and level != parent.level + 1:
        raise AreaError(f"{name}: a {Level(level).label} cannot sit under a {Level(parent.level).label}")
    return Area.objects.create(
        code=code, name=name, level=level, parent=parent, path=build_path(parent, code), ordinal=ordinal
    )


def area_ensure(*, code: str, name: str, level: Level, parent: Area | None, ordinal: int = 0) -> Area:
    """The area with this code, created if missing (idempotent loaders)."""
    existing = Area.objects.filter(code=code).first()
    if existing is not None:
        if existing.parent_id != (parent.pk if parent else None) or existing.level != level:
            raise AreaError(f"area {code} exists elsewhere in the tree ({existing.path})")
        return existing
    with transaction.atomic():
        return area_create(code=code, name=name, level=level, parent=parent, ordinal=ordinal)
