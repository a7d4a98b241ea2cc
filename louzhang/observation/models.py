"""Home medical observation (居家医学观察): a person who came back from a key region, or was
in contact with a case, stays at home for a period (14 days from the last exposure) and reports
their temperature twice a day; the health liaison releases them on the last day.

An observation is of one person (a registered resident) in one household. While it is active
the household is marked for the gate rule (`gates.HomeObservation`): a member going out through
a gate is a breach.
"""

from __future__ import annotations

import secrets
from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from louzhang.areas.models import Area, Level
from louzhang.gates.models import HomeObservation
from louzhang.registry.models import Resident


def new_token() -> str:
    """The secret of a resident's personal check-in link: 128 bits, URL-safe."""
    return secrets.token_urlsafe(16)


class Status(models.TextChoices):
    PROPOSED = "proposed", _("proposed, awaiting the health liaison")  # 待确认
    ACTIVE = "active", _("under observation")  # 观察中
    RELEASED = "released", _("released")  # 解除观察
    HOSPITAL = "hospital", _("transferred to hospital")  # 转院
    MOVED = "moved", _("moved away")  # 迁出
    CANCELLED = "cancelled", _("cancelled")  # 撤销


#: an observation still asking something of somebody
OPEN_STATUSES = (Status.PROPOSED, Status.ACTIVE)
#: how an observation may end
CLOSING_STATUSES = (Status.RELEASED, Status.HOSPITAL, Status.MOVED, Status.CANCELLED)


class Source(models.TextChoices):
    VISIT = "visit", _("found at a visit")
    CHECKPOINT = "checkpoint", _("reported by a checkpoint")
    HEALTH = "health", _("health liaison")
    COMMANDER = "commander", _("commander")
    DEVICE = "device", _("another system")


class Observation(models.Model):
    household = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+",
                                  limit_choices_to={"level": Level.HOUSEHOLD},
                                  verbose_name=_("household"))
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="observations",
                                 verbose_name=_("person"))
    reason = models.CharField(_("reason"), max_length=200)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    #: where the exposure was, in words (武汉市), when there was a region
    exposure_region = models.CharField(_("exposure region"), max_length=100, blank=True)
    last_exposure = models.DateField(_("last exposure"))
    days = models.PositiveSmallIntegerField(_("days"))
    starts_on = models.DateField(_("from"))
    #: the last day: release is due on it
    ends_on = models.DateField(_("last day"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices,
                              default=Status.ACTIVE)
    #: the secret of the resident's personal check-in link
    token = models.CharField(max_length=32, unique=True, default=new_token)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                  blank=True, related_name="+", verbose_name=_("opened by"))
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    #: the device's id of the record that opened it (API), unique per user
    client_id = models.CharField(max_length=64, blank=True)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                     blank=True, related_name="+")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                  blank=True, related_name="+")
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    close_note = models.CharField(_("note"), max_length=300, blank=True)
    #: the household's mark for the gate rule while the observation is active
    gate_mark = models.OneToOneField(HomeObservation, on_delete=models.SET_NULL, null=True,
                                     blank=True, related_name="+")
    last_check_in_at = models.DateTimeField(_("last check-in"), null=True, blank=True)
    #: check-in slots missed so far, and up to when the sweep has looked (`observations_sweep`)
    missed_count = models.PositiveSmallIntegerField(_("check-ins missed"), default=0)
    checked_through = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    jurisdiction_path = "household__path"

    class Meta:
        verbose_name = _("home observation")
        verbose_name_plural = _("home observations")
        constraints = [
            # one open observation per person: opening it again (two wardens, a resend) finds it
            models.UniqueConstraint(fields=["resident"], condition=Q(status__in=["proposed", "active"]),
                                    name="observation_one_open_per_person"),
            models.UniqueConstraint(fields=["opened_by", "client_id"], condition=~Q(client_id=""),
                                    name="observation_client_once"),
        ]
        indexes = [models.Index(fields=["status", "ends_on"], name="observation_status_end")]

    def __str__(self) -> str:
        return f"{self.household} {self.starts_on}–{self.ends_on}"

    @property
    def about(self) -> str:
        return f"observation:{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def day_number(self, today: date) -> int:
        """Which day of the observation `today` is (1 on the first day)."""
        return (today - self.starts_on).days + 1


class CheckIn(models.Model):
    """A temperature and symptoms report (健康打卡), twice a day while under observation."""

    class Via(models.TextChoices):
        OFFICER = "officer", _("an officer")  # warden or health liaison, on the page
        RESIDENT = "resident", _("the resident's link")
        DEVICE = "device", _("another system")

    observation = models.ForeignKey(Observation, on_delete=models.CASCADE, related_name="check_ins")
    client_id = models.CharField(max_length=64)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                    blank=True, related_name="+", verbose_name=_("recorded by"))
    via = models.CharField(_("via"), max_length=10, choices=Via.choices)
    at = models.DateTimeField(_("time"))
    temperature = models.DecimalField(_("temperature"), max_digits=3, decimal_places=1)
    #: codes of `Symptom`, comma-separated
    symptoms = models.CharField(_("symptoms"), max_length=200, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("check-in")
        verbose_name_plural = _("check-ins")
        ordering = ["-at"]
        constraints = [
            models.UniqueConstraint(fields=["observation", "client_id"], name="checkin_client_once"),
        ]
        indexes = [models.Index(fields=["observation", "at"], name="checkin_observation_time")]

    def __str__(self) -> str:
        return f"{self.observation_id} {self.at:%Y-%m-%d %H:%M} {self.temperature}"


class Symptom(models.TextChoices):
    FEVER = "fever", _("fever")  # 发热
    COUGH = "cough", _("cough")  # 咳嗽
    SORE_THROAT = "sore_throat", _("sore throat")  # 咽痛
    BREATHLESS = "breathless", _("short of breath")  # 气促
    FATIGUE = "fatigue", _("fatigue")  # 乏力
    DIARRHOEA = "diarrhoea", _("diarrhoea")  # 腹泻
    TASTE = "taste", _("loss of taste or smell")  # 嗅觉味觉减退


class ObservationEvent(models.Model):
    """The history of an observation: opened, confirmed, extended, closed, a missed check-in."""

    class Kind(models.TextChoices):
        OPENED = "opened", _("opened")
        PROPOSED = "proposed", _("proposed")
        CONFIRMED = "confirmed", _("confirmed")
        EXTENDED = "extended", _("extended")
        CLOSED = "closed", _("closed")
        MISSED = "missed", _("check-in missed")
        LINK_RENEWED = "link_renewed", _("personal link renewed")

    observation = models.ForeignKey(Observation, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                              blank=True, related_name="+")
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.observation_id} {self.kind}"
