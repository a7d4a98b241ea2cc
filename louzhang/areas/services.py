"""Building the tree."""

from __future__ import annotations

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

