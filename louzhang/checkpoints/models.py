"""City checkpoints (卡口/检查站) where traffic police inspect every vehicle entering the city.

The foundation records where they are and who runs them; inspections arrive with the
gates-and-checkpoints issue.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from louzhang.areas.models import Area, PoliceUnit
from louzhang.core.personal import Kind, PersonalCharField, Sensitivity


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


class KeyRegion(models.Model):
    """A key region (重点地区): where travellers come from that must be registered and observed.

    Matched by plate prefix (鄂 for all of Hubei, 鄂A for Wuhan) and by the division named as the
    origin (a division-code prefix: 42 for Hubei, 4201 for Wuhan), within a date window.

    Each city's command centre keeps its own list (`city`); a region without a city is on the
    operator's list, which applies in every city (`checkpoints.key_regions`)."""

    class Risk(models.TextChoices):
        HIGH = "high", _("high")
        MEDIUM = "medium", _("medium")

    name = models.CharField(_("name"), max_length=50)
    division_prefixes = models.JSONField(_("division code prefixes"), default=list, blank=True)
    plate_prefixes = models.JSONField(_("plate prefixes"), default=list, blank=True)
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"), null=True, blank=True)
    risk = models.CharField(_("risk"), max_length=8, choices=Risk.choices, default=Risk.HIGH)
    #: days of home observation after the last exposure here; empty: `LOUZHANG_OBSERVATION_DAYS`
    observation_days = models.PositiveSmallIntegerField(_("days of home observation"), null=True, blank=True)
    #: the city whose list it is on; empty: the operator's list, for every city
    city = models.ForeignKey(Area, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                             limit_choices_to={"level": 1}, verbose_name=_("city"))

    class Meta:
        verbose_name = _("key region")
        verbose_name_plural = _("key regions")
        ordering = ["starts_on", "name"]

    def __str__(self) -> str:
        return self.name


class VehicleInspection(models.Model):
    """One vehicle checked at a checkpoint: who was in it, their temperatures, what was decided."""

    class Disposition(models.TextChoices):
        PASS = "pass", _("let through")
        REFUSED = "refused", _("turned back")
        REFERRED = "referred", _("referred to health staff")

    # no index of their own: (checkpoint, time) and (recorded_by, client_id) below lead with them
    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.PROTECT, related_name="inspections",
                                   db_index=False)
    client_id = models.CharField(max_length=64)
    recorded_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+", db_index=False)
    at = models.DateTimeField(_("time"))
    plate = models.CharField(_("plate"), max_length=12, db_index=True)
    plate_province = models.CharField(max_length=20, blank=True)
    plate_city = models.CharField(max_length=30, blank=True)
    vehicle_type = models.CharField(_("vehicle type"), max_length=30, blank=True)
    origin = models.CharField(_("coming from"), max_length=100, blank=True)
    destination = models.ForeignKey(Area, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("destination compound"))
    disposition = models.CharField(_("disposition"), max_length=10, choices=Disposition.choices)
    key_region = models.ForeignKey(KeyRegion, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    vehicle = models.ForeignKey("registry.Vehicle", on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="inspections")
    created_at = models.DateTimeField(auto_now_add=True)

    jurisdiction_path = "checkpoint__area__path"

    class Meta:
        verbose_name = _("vehicle inspection")
        verbose_name_plural = _("vehicle inspections")
        constraints = [models.UniqueConstraint(fields=["recorded_by", "client_id"],
                                               name="inspection_client_once")]
        indexes = [models.Index(fields=["checkpoint", "at"], name="inspection_checkpoint_time")]

    def __str__(self) -> str:
        return f"{self.plate} {self.at:%Y-%m-%d %H:%M}"


class Occupant(models.Model):
    inspection = models.ForeignKey(VehicleInspection, on_delete=models.CASCADE, related_name="occupants")
    name = PersonalCharField(_("name"), max_length=50, blank=True, kind=Kind.NAME,
                             sensitivity=Sensitivity.PERSONAL)
    phone = PersonalCharField(_("phone"), max_length=20, blank=True, kind=Kind.PHONE,
                              sensitivity=Sensitivity.PERSONAL)
    id_number = PersonalCharField(_("ID number"), max_length=18, blank=True, kind=Kind.ID_NUMBER,
                                  sensitivity=Sensitivity.SENSITIVE)
    temperature = models.DecimalField(_("temperature"), max_digits=3, decimal_places=1)

    def __str__(self) -> str:
        return f"{self.inspection_id} {self.temperature}"
