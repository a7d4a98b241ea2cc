"""Break-the-glass look-ups (破窗查询) and what each opened (see the package docstring)."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from louzhang.areas.models import Area
from louzhang.core.paths import PathField
from louzhang.core.personal import Kind as Personal
from louzhang.core.personal import PersonalCharField, Sensitivity
from louzhang.registry.models import Vehicle


class LookUp(models.Model):
    """One look-up outside the jurisdiction: an exact ID number or plate, searched across the
    officer's city for a reason in the officer's own words, open until `until`."""

    class Kind(models.TextChoices):
        ID_NUMBER = "id_number", _("ID number")
        PLATE = "plate", _("plate")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                             related_name="look_ups", verbose_name=_("officer"))
    kind = models.CharField(_("looked up"), max_length=16, choices=Kind.choices)
    #: the ID number typed (normalised), when `kind` is an ID number
    id_number = PersonalCharField(_("ID number"), max_length=18, blank=True,
                                  kind=Personal.ID_NUMBER, sensitivity=Sensitivity.SENSITIVE)
    #: the plate typed (normalised), when `kind` is a plate
    plate = models.CharField(_("plate"), max_length=12, blank=True)
    reason = PersonalCharField(_("reason"), max_length=500, kind=Personal.TEXT,
                               sensitivity=Sensitivity.PERSONAL)
    #: the city searched (the officer's)
    city = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+", verbose_name=_("city"))
    created_at = models.DateTimeField(_("time"), default=timezone.now)
    #: open until, not including
    until = models.DateTimeField(_("until"))
    #: ended early by the officer
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)

    jurisdiction_path = "city__path"

    class Meta:
        verbose_name = _("look-up outside the jurisdiction")
        verbose_name_plural = _("look-ups outside the jurisdiction")
        indexes = [models.Index(fields=["user", "until"], name="lookup_user_until")]

    def __str__(self) -> str:
        return f"{self.user} · {self.query}"

    @property
    def query(self) -> str:
        return self.id_number if self.kind == self.Kind.ID_NUMBER else self.plate

    def open_at(self, at: datetime | None = None) -> bool:
        at = at or timezone.now()
        return self.ended_at is None and at < self.until


class Opened(models.Model):
    """A record a look-up opened: a household (an ID number found) or a registered car.

    A car may be deleted from the registry later (`vehicle` is then null): `plate` and
    `area_path` (its home compound) keep what was opened, for the look-up's record."""

    look_up = models.ForeignKey(LookUp, on_delete=models.CASCADE, related_name="opened")
    household = models.ForeignKey(Area, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+", verbose_name=_("household"))
    vehicle = models.ForeignKey(Vehicle, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+", verbose_name=_("vehicle"))
    #: the car's plate, kept when the car is deleted; blank for a household
    plate = models.CharField(_("plate"), max_length=12, blank=True, default="")
    #: the household's path, or the car's home compound: whose commanders are told
    area_path = PathField(max_length=255, db_index=True)

    jurisdiction_path = "area_path"

    class Meta:
        verbose_name = _("record opened")
        verbose_name_plural = _("records opened")
        constraints = [models.CheckConstraint(
            condition=(models.Q(household__isnull=False) | models.Q(vehicle__isnull=False)
                       | ~models.Q(plate="")),
            name="opened_household_or_car")]

    def __str__(self) -> str:
        return f"{self.look_up_id} · {self.area_path}"
