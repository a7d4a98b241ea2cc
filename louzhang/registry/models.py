"""The population registry (人口登记): who lives in which household.

This is the part the foundation needs (the demo city's residents, household pages, masking);
the registry issue extends it with import, vehicles and care tags.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from louzhang.areas.models import Area, Level
from louzhang.core.personal import Kind, PersonalCharField, Sensitivity
from louzhang.worker.models import Job


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
    #: care tags (关怀标签), codes of `louzhang.registry.care.CareTag`, comma-separated: health
    #: information, masked like an ID number
    care_tags = PersonalCharField(
        _("care"), max_length=100, blank=True, kind=Kind.HEALTH, sensitivity=Sensitivity.SENSITIVE
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    jurisdiction_path = "household__path"

    class Meta:
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        ordering = ["household", "-is_head", "birth_date"]
        indexes = [  # look-ups by name or phone, always combined with the jurisdiction
            models.Index(fields=["name"], name="resident_name"),
            models.Index(fields=["phone"], name="resident_phone"),
        ]

    def __str__(self) -> str:
        return self.name


class Vehicle(models.Model):
    """A residents' car (车辆登记): whose it is, where it lives, whether it has left the city.

    In the seed a resident reports a car with Wuhan plates under building 34; the registry must
    answer at once: a permanent resident's car, not out of the city since 2018.
    """

    plate = models.CharField(_("plate"), max_length=12, unique=True)  # normalised: 鄂A12345
    vehicle_type = models.CharField(_("vehicle type"), max_length=30, blank=True)
    owner = models.ForeignKey(
        Resident, on_delete=models.SET_NULL, null=True, blank=True, related_name="vehicles",
        verbose_name=_("owner"),
    )
    #: the owner's name and phone as the file gave them, when the owner is not a registered resident
    owner_name = PersonalCharField(
        _("owner name"), max_length=50, blank=True, kind=Kind.NAME, sensitivity=Sensitivity.PERSONAL
    )
    owner_phone = PersonalCharField(
        _("owner phone"), max_length=20, blank=True, kind=Kind.PHONE, sensitivity=Sensitivity.PERSONAL
    )
    compound = models.ForeignKey(
        Area, on_delete=models.PROTECT, related_name="vehicles",
        limit_choices_to={"level": Level.COMPOUND}, verbose_name=_("home compound"),
    )
    registered_at = models.DateTimeField(_("registered since"), auto_now_add=True)
    #: last time the car is known to have left the city (checkpoints record it later)
    left_city_at = models.DateTimeField(_("last left the city"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    jurisdiction_path = "compound__path"

    class Meta:
        verbose_name = _("vehicle")
        verbose_name_plural = _("vehicles")

    def __str__(self) -> str:
        return self.plate


class ImportJob(Job):
    """A file uploaded in the web UI and imported in the background by `louzhang worker`.

    The import itself is the same as `louzhang import` run as the uploader (limited to their
    jurisdiction); the job keeps the file, the counts and the rejects file for download.
    `total` and `processed` count rows.
    """

    class Kind(models.TextChoices):
        RESIDENTS = "residents", _("residents")
        VEHICLES = "vehicles", _("vehicles")

    running_label = _("importing")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    original_name = models.CharField(_("file"), max_length=200)
    #: where the upload is kept, relative to the var/ directory
    stored_path = models.CharField(max_length=300)
    compound_code = models.CharField(max_length=64, blank=True)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    rejects_path = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        indexes = [models.Index(fields=["user", "created_at"], name="importjob_user_time")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.original_name}"


class ExportJob(Job):
    """The residents of a district (or larger) written to XLSX by the worker; the user who
    asked downloads the file from the job's page. `total` and `processed` count residents."""

    running_label = _("exporting")

    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+")
    file_path = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")

    def __str__(self) -> str:
        return f"{self.area} {self.created_at:%Y-%m-%d %H:%M}"
