"""Tips from residents (线索): "a car with Wuhan plates is parked under building 34".

A tip comes from the public form of a compound or building, the API, or an officer who took it
by phone or WeChat. It becomes a follow-up for the warden of the building (or the compound's
wardens), is verified, and ends with an outcome text that the reporter reads on the tip's
tracking page and that the warden may publish to the compound as a notice.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from louzhang.areas.models import Area
from louzhang.core.personal import Kind, PersonalCharField, Sensitivity


class Category(models.TextChoices):
    VEHICLE = "vehicle", _("vehicle from a key region")
    RETURNEE = "returnee", _("returnee not registered")
    FEVER = "fever", _("person with fever")
    GATHERING = "gathering", _("gathering")
    RUMOUR = "rumour", _("rumour")
    OTHER = "other", _("other")


class Status(models.TextChoices):
    NEW = "new", _("received")
    VERIFYING = "verifying", _("being verified")
    CONFIRMED = "confirmed", _("confirmed, dealt with")
    UNFOUNDED = "unfounded", _("checked: unfounded")
    REFERRED = "referred", _("passed to the responsible department")


#: a tip in one of these still asks something of its warden
OPEN_STATUSES = (Status.NEW, Status.VERIFYING)
CLOSED_STATUSES = (Status.CONFIRMED, Status.UNFOUNDED, Status.REFERRED)


class Source(models.TextChoices):
    WEB = "web", _("public page")
    API = "api", _("app or mini-program")
    PHONE = "phone", _("by phone")
    WECHAT = "wechat", _("by WeChat")
    IN_PERSON = "in_person", _("in person")


class Tip(models.Model):
    #: what the reporter keeps to follow the tip: 8 characters, easy to read out (no 0/O, 1/I)
    tracking_code = models.CharField(_("tracking code"), max_length=12, unique=True)
    #: the compound, or the building when the reporter named one
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="tips", verbose_name=_("where"))
    category = models.CharField(_("category"), max_length=10, choices=Category.choices)
    #: the place in the reporter's words ("34号楼下停车位")
    place = models.CharField(_("place"), max_length=100, blank=True)
    content = models.TextField(_("what was seen"), max_length=2000)
    #: normalised (鄂A5K2B8); blank when none was given or it could not be read
    plate = models.CharField(_("plate"), max_length=12, blank=True, db_index=True)
    #: seen in full only by the owner of the tip's follow-up
    contact_phone = PersonalCharField(_("reporter's phone"), max_length=20, blank=True,
                                      kind=Kind.PHONE, sensitivity=Sensitivity.PERSONAL)
    #: a cleaned JPEG under the media folder (no location, no metadata), relative to it
    photo = models.CharField(max_length=200, blank=True)
    source = models.CharField(_("came"), max_length=10, choices=Source.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.NEW)
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    #: the officer who entered a tip taken by phone, WeChat or in person
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+")
    #: the answer the reporter reads (and residents, if it is published); public text
    outcome = models.TextField(_("outcome"), max_length=1000, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                  blank=True, related_name="+")
    #: the notice the outcome was published as, if the warden chose to
    notice = models.ForeignKey("notices.Notice", on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    jurisdiction_path = "area__path"

    class Meta:
        verbose_name = _("tip")
        verbose_name_plural = _("tips")
        indexes = [models.Index(fields=["area", "received_at"], name="tip_area_time")]

    def __str__(self) -> str:
        return self.tracking_code

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class TipEvent(models.Model):
    """The tip's history: received, verification started, closed, published."""

    class Kind(models.TextChoices):
        RECEIVED = "received", _("received")
        VERIFYING = "verifying", _("verification started")
        CLOSED = "closed", _("closed")
        PUBLISHED = "published", _("outcome published")

    tip = models.ForeignKey(Tip, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                              blank=True, related_name="+")
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.tip_id} {self.kind}"
