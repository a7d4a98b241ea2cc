"""Unit representatives (单元代表) and the disinfection of each unit's common areas (消杀).

The seed: in 富贵佳园, 28 unit representatives disinfected stairwells and lifts under the
warden's lead. A representative is a resident the warden registers (their consent noted); each
unit has a plan (which areas, how many times a day); the representative logs each round with one
tap on the phone; an overdue unit reminds its representative, then the warden.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from louzhang.areas.models import Area


class CommonArea(models.TextChoices):
    STAIRWELL = "stairwell", _("stairwell")
    LIFT = "lift", _("lift")
    HANDLES = "handles", _("door handles and buttons")
    ENTRANCE = "entrance", _("unit entrance")
    BINS = "bins", _("rubbish bins")


class UnitRepresentative(models.Model):
    """单元代表: a resident of the unit who agreed to help, registered by the unit's warden."""

    unit = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="representatives")
    resident = models.ForeignKey("registry.Resident", on_delete=models.PROTECT, related_name="+")
    #: a log-in with the unit_rep role, when they have one; else the personal link is their key
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="+")
    #: the secret of the representative's personal link (/d/<token>/): no log-in needed
    token = models.CharField(max_length=32, unique=True)
    consent_noted_at = models.DateTimeField(_("consent noted"))
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    registered_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    jurisdiction_path = "unit__path"

    class Meta:
        verbose_name = _("unit representative")
        verbose_name_plural = _("unit representatives")
        constraints = [models.UniqueConstraint(fields=["unit", "resident"], condition=Q(ended_at__isnull=True),
                                               name="unit_rep_once")]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.resident_id}"


class DisinfectionPlan(models.Model):
    """What a unit disinfects and how often: its common areas, once or twice a day."""

    unit = models.OneToOneField(Area, on_delete=models.PROTECT, related_name="disinfection_plan")
    areas = models.JSONField(_("areas"), default=list)  # CommonArea values
    times_per_day = models.PositiveSmallIntegerField(_("times a day"), default=1)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    jurisdiction_path = "unit__path"

    class Meta:
        verbose_name = _("disinfection plan")
        verbose_name_plural = _("disinfection plans")
        constraints = [models.CheckConstraint(condition=Q(times_per_day__gte=1, times_per_day__lte=4),
                                              name="plan_times_per_day_1_to_4")]

    def __str__(self) -> str:
        return f"{self.unit_id} ×{self.times_per_day}"


class Disinfection(models.Model):
    """One round of disinfection of a unit's common areas, logged on the phone (or posted by a
    device: `POST /api/v1/disinfections`, once per `client_id`)."""

    unit = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="disinfections")
    at = models.DateTimeField(_("time"))
    areas = models.JSONField(_("areas"), default=list)
    agent = models.CharField(_("agent"), max_length=50, blank=True)  # 84消毒液, 75%酒精
    client_id = models.CharField(max_length=64)
    representative = models.ForeignKey(UnitRepresentative, on_delete=models.SET_NULL, null=True,
                                       blank=True, related_name="disinfections")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                    blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    jurisdiction_path = "unit__path"

    class Meta:
        verbose_name = _("disinfection")
        verbose_name_plural = _("disinfections")
        constraints = [models.UniqueConstraint(fields=["unit", "client_id"], name="disinfection_once")]
        indexes = [models.Index(fields=["unit", "at"], name="disinfection_unit_time")]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.at:%Y-%m-%d %H:%M}"
