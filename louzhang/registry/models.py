"""The population registry (人口登记): who lives in which household.

This is the part the foundation needs (the demo city's residents, household pages, masking);
the registry issue extends it with import, vehicles and care tags.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from louzhang.areas.models import Area, Level
from louzhang.core.personal import Kind, PersonalCharField, Sensitivity


class Resident(models.Model):
    class Gender(models.TextChoices):
        MALE = "M", _("male")
        FEMALE = "F", _("female")

    class Residency(models.TextChoices):
        PERMANENT = "permanent", _("permanent resident")  # 常住
        TEMPORARY = "temporary", _("temporary resident")  # 暂住
        TENANT = "tenant", _("tenant")  # 租户

    name = PersonalCharField(
        _("name"), max_length=50, kind=Kind.NAME, sensitivity=Sensitivity.PERSONAL
    )
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices)
    birth_date = models.DateField(_("birth date"))
    id_number = PersonalCharField(
        _("ID number"), max_length=18, unique=True,
        kind=Kind.ID_NUMBER, sensitivity=Sensitivity.SENSITIVE,
    )
    phone = PersonalCharField(
        _("phone"), max_length=20, blank=True, kind=Kind.PHONE, sensitivity=Sensitivity.PERSONAL
    )
    household = models.ForeignKey(
        Area, on_delete=models.PROTECT, related_name="residents",
        limit_choices_to={"level": Level.HOUSEHOLD}, verbose_name=_("household"),
    )
    residency = models.CharField(
        _("residency"), max_length=16, choices=Residency.choices, default=Residency.PERMANENT
    )
    is_head = models.BooleanField(_("head of household"), default=False)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    jurisdiction_path = "household__path"

    class Meta:
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        ordering = ["household", "-is_head", "birth_date"]

    def __str__(self) -> str:
        return self.name
