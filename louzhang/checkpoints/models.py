"""City checkpoints (卡口/检查站) where traffic police inspect every vehicle entering the city.

The foundation records where they are and who runs them; inspections arrive with the
gates-and-checkpoints issue.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from louzhang.areas.models import Area, PoliceUnit


class Checkpoint(models.Model):
    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    road = models.CharField(_("road"), max_length=100, blank=True)
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="checkpoints",
                             verbose_name=_("area"))
    operating_unit = models.ForeignKey(
        PoliceUnit, on_delete=models.PROTECT, null=True, blank=True, related_name="checkpoints",
        verbose_name=_("operating unit"),
    )
    round_the_clock = models.BooleanField(_("24-hour"), default=True)

    jurisdiction_path = "area__path"

    class Meta:
        verbose_name = _("checkpoint")
        verbose_name_plural = _("checkpoints")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name
