"""What is published to residents: notices (通知、宣传、辟谣) and wardens' cards (亮身份).

Everything here is meant to be read by anyone: an officer chooses what goes in, and nothing is
drawn from the registry. A notice is scoped to an area; it reaches the residents' channels (group
robots) inside that area and the public notice page of every compound in it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from louzhang.areas.models import Area


class Notice(models.Model):
    class Kind(models.TextChoices):
        PUBLICITY = "publicity", _("prevention advice")  # 防疫宣传
        POLICY = "policy", _("policy")  # 政策通知
        RUMOUR = "rumour", _("rumour rebuttal")  # 辟谣
        TIP_OUTCOME = "tip_outcome", _("outcome of a tip")  # 线索核查结果

    class State(models.TextChoices):
        PENDING = "pending", _("awaiting approval")
        PUBLISHED = "published", _("published")
        REJECTED = "rejected", _("not approved")
        WITHDRAWN = "withdrawn", _("withdrawn")

    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="notices", verbose_name=_("area"))
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=80)
    body = models.TextField(_("text"), max_length=2000)
    state = models.CharField(_("state"), max_length=10, choices=State.choices)
    #: what it is about, as its owner names it ("tip:17"); blank for a notice written on its own
    about = models.CharField(max_length=64, blank=True, db_index=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("written by"))
    created_at = models.DateTimeField(default=timezone.now)
    #: the second commander who approved (or refused) a district- or city-wide notice
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+", verbose_name=_("approved by"))
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=200, blank=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                     blank=True, related_name="+")

    jurisdiction_path = "area__path"

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        indexes = [
            models.Index(fields=["area", "published_at"], condition=Q(state="published"),
                         name="notice_published"),
        ]

    def __str__(self) -> str:
        return self.title


class WardenCard(models.Model):
    """An officer's public card (亮身份): exactly what they chose to show residents, typed by
    them. A blank field is not shown; an unpublished card is not shown at all."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="card")
    #: as residents know them: "郝志东", or "郝警官"
    display_name = models.CharField(_("name shown"), max_length=30)
    title = models.CharField(_("post"), max_length=40, blank=True)  # 社区民警 / 辅警
    badge_number = models.CharField(_("badge number"), max_length=20, blank=True)
    unit_name = models.CharField(_("police station"), max_length=60, blank=True)
    duty_phone = models.CharField(_("duty phone"), max_length=20, blank=True)
    #: a line for residents: hours, how to reach them, a promise
    motto = models.CharField(_("a word to residents"), max_length=120, blank=True)
    #: a re-encoded JPEG (no metadata) under the media folder, relative to it
    photo = models.CharField(max_length=200, blank=True)
    published = models.BooleanField(_("shown to residents"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("warden card")
        verbose_name_plural = _("warden cards")

    def __str__(self) -> str:
        return self.display_name
