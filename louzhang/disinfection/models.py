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
    #: in force since: set each time the plan is set; its deadlines before this are not looked at
    since = models.DateTimeField(default=timezone.now)

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


class DeadlineLook(models.Model):
    """A deadline of the day (12:00, 20:00 …, `LOUZHANG_DISINFECTION_DEADLINES`) the sweep has
    looked at, for every unit with a plan at once: each deadline is looked at once."""

    deadline = models.DateTimeField(unique=True)
    looked_at = models.DateTimeField(default=timezone.now)
    #: units found short of their plan
    missed = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.deadline:%Y-%m-%d %H:%M}"


class MissedRound(models.Model):
    """A unit short of its plan at a deadline: fewer rounds logged that day than were due by
    then. Its representatives are reminded (in their inbox, when they have a log-in); after
    `LOUZHANG_DISINFECTION_WARDEN_AFTER_MINUTES` still nothing logged, the unit's warden gets a
    follow-up. A disinfection logged meanwhile settles it."""

    unit = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    #: rounds due by the deadline
    round = models.PositiveSmallIntegerField()
    deadline = models.DateTimeField()
    #: rounds logged that day when the sweep found it short
    done = models.PositiveSmallIntegerField(default=0)
    found_at = models.DateTimeField(default=timezone.now)
    #: representatives reminded in their inbox (0: nobody could be reminded electronically)
    reminded = models.PositiveSmallIntegerField(default=0)
    #: what the reminder did, in words (kept as said: "nobody could be reminded electronically")
    reminder_note = models.CharField(max_length=200, blank=True)
    #: when the warden's follow-up is due to open, unless a disinfection is logged first
    warden_due_at = models.DateTimeField()
    warden_told_at = models.DateTimeField(null=True, blank=True)
    followup = models.ForeignKey("followups.FollowUp", on_delete=models.SET_NULL, null=True,
                                 blank=True, related_name="+")
    settled_at = models.DateTimeField(null=True, blank=True)

    jurisdiction_path = "unit__path"

    class Meta:
        constraints = [models.UniqueConstraint(fields=["unit", "day", "round"], name="missed_round_once")]
        indexes = [models.Index(fields=["warden_due_at"], name="missed_round_warden_due",
                                condition=Q(warden_told_at__isnull=True, settled_at__isnull=True))]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.day} ×{self.round}"
