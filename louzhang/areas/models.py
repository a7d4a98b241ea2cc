"""The jurisdiction tree (辖区) and the police organisation that works it."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from louzhang.core.paths import AreaPath, PathField


class Level(models.IntegerChoices):
    CITY = 1, _("city")
    DISTRICT = 2, _("district / banner")
    SUBDISTRICT = 3, _("sub-district / town")
    COMMUNITY = 4, _("community")
    COMPOUND = 5, _("compound")
    BUILDING = 6, _("building")
    UNIT = 7, _("unit")
    HOUSEHOLD = 8, _("household")

    @property
    def slug(self) -> str:
        return self.name.lower()


class Area(models.Model):
    """One node of the tree: city (市) → district (区/旗) → … → household (户).

    Cities and districts carry their GB/T 2260 division code; lower levels carry codes the
    bureau assigns (a compound's code is what gate devices send). `path` is derived from the
    codes of the ancestors and is what every jurisdiction check filters on.
    """

    code = models.CharField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children",
        verbose_name=_("parent"),
    )
    path = PathField(max_length=255, editable=False)
    #: ordering among siblings (building 7 before building 34)
    ordinal = models.PositiveIntegerField(default=0)

    jurisdiction_path = "path"

    class Meta:
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        # No default ordering: an ORDER BY path makes SQLite walk the whole path index instead of
        # one range per grant. Callers order explicitly (siblings by ordinal).
        indexes = [
            # "households under 东河区": one range scan of this index, level read from the index.
            # Deliberately no index led by `level`: the planner would pick it over the path
            # ranges of a multi-grant jurisdiction (bench/jurisdiction.py shows the difference).
            # On PostgreSQL the operator classes let `LIKE 'prefix%'` use it whatever the
            # database collation (other databases ignore them).
            models.Index(
                fields=["path", "level"], name="area_path_level",
                opclasses=["varchar_pattern_ops", "int2_ops"],
            ),
            models.Index(fields=["parent", "ordinal"], name="area_parent_ordinal"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(level__gte=1, level__lte=8), name="area_level_valid"
            ),
            # an empty or malformed path would be a prefix of everything: refuse it outright
            models.CheckConstraint(
                condition=models.Q(path__startswith="/", path__endswith="/")
                & ~models.Q(path="/") & ~models.Q(path__contains="//"),
                name="area_path_well_formed",
            ),
            models.UniqueConstraint(fields=["path"], name="area_path_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def area_path(self) -> AreaPath:
        return AreaPath(self.path)

    def ancestor_paths(self) -> list[AreaPath]:
        """Paths of the ancestors, root first (not including this area)."""
        return AreaPath(self.path).ancestors()


def build_path(parent: Area | None, code: str) -> AreaPath:
    return AreaPath(parent.path).child(code) if parent else AreaPath.of(code)


class PoliceUnit(models.Model):
    """Bureau (公安局) → branch (分局) → station (派出所); a station covers communities."""

    class Kind(models.TextChoices):
        BUREAU = "bureau", _("bureau")
        BRANCH = "branch", _("branch")
        STATION = "station", _("police station")
        BRIGADE = "brigade", _("traffic brigade")

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    #: the area the unit answers for: a bureau its city, a branch its district
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="police_units")
    #: the communities a station covers (a station's beat need not be one subtree)
    communities = models.ManyToManyField(
        Area, blank=True, related_name="covering_stations",
        limit_choices_to={"level": Level.COMMUNITY},
    )

    class Meta:
        verbose_name = _("police unit")
        verbose_name_plural = _("police units")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def jurisdiction_areas(self) -> list[Area]:
        """The areas this unit answers for: a station exactly its communities (none assigned
        yet: nothing — never its whole district), other units their area."""
        if self.kind == self.Kind.STATION:
            return list(self.communities.all())
        return [self.area]
