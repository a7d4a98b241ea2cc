"""Compound gates (小区门岗): passes, gate records with temperatures, and the households under
home observation whose members must not go out.

In the seed, property staff take the temperature of everybody entering or leaving a compound and
register visitors; here each check is a record that the rules act on at once.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from louzhang.areas.models import Area, Level
from louzhang.core.personal import Kind, PersonalCharField, Sensitivity


class Gate(models.Model):
    code = models.CharField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=50)
    compound = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="gates",
                                 limit_choices_to={"level": Level.COMPOUND}, verbose_name=_("compound"))

    jurisdiction_path = "compound__path"

    class Meta:
        verbose_name = _("gate")
        verbose_name_plural = _("gates")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.compound.name} {self.name}"


class HouseholdPass(models.Model):
    """A household's pass (出入证): the code on the card that a gate device scans."""

    code = models.CharField(_("pass code"), max_length=16, unique=True)
    household = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="passes",
                                  limit_choices_to={"level": Level.HOUSEHOLD})
    issued_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    jurisdiction_path = "household__path"

    class Meta:
        verbose_name = _("household pass")
        verbose_name_plural = _("household passes")

    def __str__(self) -> str:
        return self.code


class HomeObservation(models.Model):
    """A household under home observation (居家观察), e.g. 14 days after returning from a key
    region: its members going out through a gate is a breach."""

    household = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="observations",
                                  limit_choices_to={"level": Level.HOUSEHOLD})
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    jurisdiction_path = "household__path"

    class Meta:
        verbose_name = _("home observation")
        verbose_name_plural = _("home observations")
        indexes = [models.Index(fields=["household", "ends_on"], name="observation_household")]

    def __str__(self) -> str:
        return f"{self.household} {self.starts_on}–{self.ends_on}"


class GateRecord(models.Model):
    class Direction(models.TextChoices):
        IN = "in", _("in")
        OUT = "out", _("out")

    class Method(models.TextChoices):
        FOREHEAD = "forehead", _("forehead, infrared")
        ARMPIT = "armpit", _("armpit")
        WRIST = "wrist", _("wrist")

    # a million records a day: no index of its own on a foreign key that leads a composite
    # index below (gate, time), (household, time), (recorded_by, client_id) — each would only
    # slow every insert down
    gate = models.ForeignKey(Gate, on_delete=models.PROTECT, related_name="records", db_index=False)
    #: the device's own id for the record: resending it stores nothing twice
    client_id = models.CharField(max_length=64)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    db_index=False)
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices)
    at = models.DateTimeField(_("time"))
    temperature = models.DecimalField(_("temperature"), max_digits=3, decimal_places=1)
    method = models.CharField(_("measured at"), max_length=10, choices=Method.choices,
                              default=Method.FOREHEAD)
    household = models.ForeignKey(Area, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="gate_records", db_index=False)
    visitor_name = PersonalCharField(_("visitor"), max_length=50, blank=True, kind=Kind.NAME,
                                     sensitivity=Sensitivity.PERSONAL)
    visitor_phone = PersonalCharField(_("visitor's phone"), max_length=20, blank=True,
                                      kind=Kind.PHONE, sensitivity=Sensitivity.PERSONAL)
    visitor_id_number = PersonalCharField(_("visitor's ID number"), max_length=18, blank=True,
                                          kind=Kind.ID_NUMBER, sensitivity=Sensitivity.SENSITIVE)
    visitor_reason = models.CharField(_("reason of visit"), max_length=100, blank=True)
    visiting = models.CharField(_("visiting"), max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    jurisdiction_path = "gate__compound__path"

    class Meta:
        verbose_name = _("gate record")
        verbose_name_plural = _("gate records")
        constraints = [
            models.UniqueConstraint(fields=["recorded_by", "client_id"], name="gaterecord_client_once"),
        ]
        indexes = [
            models.Index(fields=["gate", "at"], name="gaterecord_gate_time"),
            models.Index(fields=["household", "at"], name="gaterecord_household_time"),
        ]

    def __str__(self) -> str:
        return f"{self.gate} {self.direction} {self.at:%Y-%m-%d %H:%M} {self.temperature}"
