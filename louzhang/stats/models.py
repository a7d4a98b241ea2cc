"""Daily roll-ups (日汇总): the figures of each area and police unit for each day, kept up to date
by the worker as records arrive and rebuilt from the raw records for any past day.

The dashboard, the daily report and `GET /api/v1/stats` read only these rows: an area's day is
one row, a city's month is thirty, whatever the millions of gate records under them.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from louzhang.areas.models import Area, PoliceUnit
from louzhang.worker.models import Job


def _count() -> models.PositiveIntegerField[int, int]:
    return models.PositiveIntegerField(default=0)


class AreaDay(models.Model):
    """One area's figures (levels city … compound) for one local day: what happened in it and
    below it (households, buildings and units roll up into their compound)."""

    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    households = _count()
    households_visited = _count()
    returnees_found = _count()
    symptomatic_found = _count()
    contacts_found = _count()
    under_observation = _count()
    observations_started = _count()
    check_ins_missed = _count()
    released = _count()
    breaches = _count()
    fevers = _count()
    gate_checks = _count()
    gate_fevers = _count()
    vehicles_checked = _count()
    key_region_vehicles = _count()
    checkpoint_fevers = _count()
    check_in_fevers = _count()
    tips_received = _count()
    tips_closed = _count()
    followups_open = _count()
    followups_overdue = _count()
    units = _count()
    units_disinfected = _count()
    refreshed_at = models.DateTimeField(default=timezone.now)

    jurisdiction_path = "area__path"

    class Meta:
        constraints = [models.UniqueConstraint(fields=["area", "day"], name="areaday_once")]
        indexes = [models.Index(fields=["day", "area"], name="areaday_day_area")]

    def __str__(self) -> str:
        return f"{self.area_id} {self.day}"


class UnitDay(models.Model):
    """One police unit's officers, and how many were on post, at the end of a local day (for
    today: now)."""

    unit = models.ForeignKey(PoliceUnit, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    officers = _count()
    officers_on_post = _count()
    refreshed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["unit", "day"], name="unitday_once")]
        indexes = [models.Index(fields=["day", "unit"], name="unitday_day_unit")]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.day}"


class StaleDay(models.Model):
    """A past day whose records changed after it was rolled up (a record sent late from a phone
    that was offline): the worker rolls it up again."""

    day = models.DateField(unique=True)
    marked_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return str(self.day)


class Watermark(models.Model):
    """How far the worker has read a table of records (the highest id seen), to find records of
    past days that arrived since."""

    name = models.CharField(max_length=64, unique=True)
    last_id = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name} {self.last_id}"


class ReportJob(Job):
    """A daily report (日报) being written by the worker for a user, then kept for download.
    `total` and `processed` count the report's lines (areas and stations)."""

    running_label = _("writing")

    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    #: a police station's report instead of an area's
    unit = models.ForeignKey(PoliceUnit, on_delete=models.PROTECT, related_name="+", null=True,
                             blank=True)
    day = models.DateField(_("date"))
    file_path = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("daily report")
        verbose_name_plural = _("daily reports")


class SummarySubscription(models.Model):
    """A commander's choice of when the day's summary goes to their channels."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    #: the area (or police station) the summary is about
    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="+", null=True, blank=True)
    unit = models.ForeignKey(PoliceUnit, on_delete=models.CASCADE, related_name="+", null=True,
                             blank=True)
    #: local time of day (Asia/Shanghai)
    at = models.TimeField(_("time"))
    active = models.BooleanField(default=True)
    last_sent_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        # one per user and place: an area's (no unit) or a station's (no area); NULLs are
        # distinct in a plain unique constraint, hence one conditional constraint for each
        constraints = [
            models.UniqueConstraint(fields=["user", "area"], condition=models.Q(unit__isnull=True),
                                    name="summary_subscription_area_once"),
            models.UniqueConstraint(fields=["user", "unit"], condition=models.Q(area__isnull=True),
                                    name="summary_subscription_unit_once"),
            models.CheckConstraint(condition=models.Q(area__isnull=True) ^ models.Q(unit__isnull=True),
                                   name="summary_subscription_one_place"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.at}"


#: the `Watermark` row holding the last frozen day (its proleptic ordinal): set by
#: `louzhang purge` before it removes the emergency's records
FROZEN = "stats.frozen_through"


def frozen_through() -> date | None:
    """The last day whose figures are frozen (never rolled up again: the records they were
    counted from were purged), or None."""
    mark = Watermark.objects.filter(name=FROZEN).values_list("last_id", flat=True).first()
    return date.fromordinal(mark) if mark else None


def freeze_through(day: date) -> None:
    """Freeze the figures of every day up to `day` (never moves back)."""
    mark, _created = Watermark.objects.get_or_create(name=FROZEN, defaults={"last_id": day.toordinal()})
    if mark.last_id < day.toordinal():
        Watermark.objects.filter(pk=mark.pk, last_id__lt=day.toordinal()).update(last_id=day.toordinal())
