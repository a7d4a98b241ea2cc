"""People on post (在岗): officers, their duty status, the response level of an area and the recall
it sends, reassignments (下沉) and duty rosters.

The seed: when the region raised its response to level one, leave was cancelled and every
officer went back on post; a five-officer station (库都尔派出所) ran prevention for its whole town;
office staff were reassigned to stations and communities; checkpoints were staffed 24 hours a day.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from louzhang.areas.models import Area, PoliceUnit
from louzhang.core.personal import Kind, PersonalCharField, Sensitivity


class DutyStatus(models.TextChoices):
    ON_POST = "on_post", _("on post")
    OFF_DUTY = "off_duty", _("off duty")
    ON_LEAVE = "on_leave", _("on leave")
    SICK = "sick", _("sick")
    ISOLATED = "isolated", _("in isolation")


class Officer(models.Model):
    """民警 or 辅警 of a police unit, as the bureau's spreadsheet lists them (`louzhang import
    officers`); linked to a log-in when they have one."""

    class Category(models.TextChoices):
        POLICE = "police", _("police officer")  # 民警
        AUXILIARY = "auxiliary", _("auxiliary officer")  # 辅警

    badge_number = models.CharField(_("badge number"), max_length=20, unique=True)  # 警号
    name = models.CharField(_("name"), max_length=50)
    unit = models.ForeignKey(PoliceUnit, on_delete=models.PROTECT, related_name="duty_officers",
                             verbose_name=_("police unit"))
    category = models.CharField(_("category"), max_length=10, choices=Category.choices)
    post = models.CharField(_("post"), max_length=40, blank=True)  # 职务: 所长, 社区民警 …
    work_phone = PersonalCharField(_("work phone"), max_length=20, blank=True, kind=Kind.PHONE,
                                   sensitivity=Sensitivity.PERSONAL)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                blank=True, related_name="officer")
    status = models.CharField(_("duty status"), max_length=10, choices=DutyStatus.choices,
                              default=DutyStatus.OFF_DUTY)
    status_since = models.DateTimeField(_("since"), default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("officer")
        verbose_name_plural = _("officers")
        indexes = [models.Index(fields=["unit", "status"], name="officer_unit_status")]

    def __str__(self) -> str:
        return f"{self.name}（{self.badge_number}）"


class StatusChange(models.Model):
    """The officer's duty status over time: every change, who made it and why."""

    officer = models.ForeignKey(Officer, on_delete=models.CASCADE, related_name="status_changes")
    status = models.CharField(max_length=10, choices=DutyStatus.choices)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                           related_name="+")
    #: "recall", "report on post", "import", "set by the station commander" …
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["officer", "at"], name="status_change_officer_time")]

    def __str__(self) -> str:
        return f"{self.officer_id} {self.status} {self.at:%Y-%m-%d %H:%M}"


class ResponseLevel(models.Model):
    """The emergency response level of an area (一级/二级/三级响应) from `started_at` until
    `ended_at` (lowered or ended). One current level per area."""

    class Level(models.IntegerChoices):
        ONE = 1, _("level one")
        TWO = 2, _("level two")
        THREE = 3, _("level three")

    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="response_levels")
    level = models.PositiveSmallIntegerField(_("response level"), choices=Level.choices)
    started_at = models.DateTimeField(default=timezone.now)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                               blank=True, related_name="+")
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="+")

    jurisdiction_path = "area__path"

    class Meta:
        verbose_name = _("response level")
        verbose_name_plural = _("response levels")
        constraints = [models.UniqueConstraint(fields=["area"], condition=Q(ended_at__isnull=True),
                                               name="response_one_current_per_area")]

    def __str__(self) -> str:
        return f"{self.area} {self.get_level_display()}"


class Recall(models.Model):
    """召回: one officer called back to post by a raised response level; acknowledged, then
    reported on post, or escalated to the station commander when not back in time."""

    response = models.ForeignKey(ResponseLevel, on_delete=models.CASCADE, related_name="recalls")
    officer = models.ForeignKey(Officer, on_delete=models.CASCADE, related_name="recalls")
    sent_at = models.DateTimeField(default=timezone.now)
    #: by when they must be back on post
    due_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    on_post_at = models.DateTimeField(null=True, blank=True)
    #: the response was lowered or ended before they came back
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("recall")
        verbose_name_plural = _("recalls")
        constraints = [models.UniqueConstraint(fields=["response", "officer"], name="recall_once_per_response")]
        indexes = [models.Index(fields=["due_at"], condition=Q(on_post_at__isnull=True, ended_at__isnull=True),
                                name="recall_waiting")]

    def __str__(self) -> str:
        return f"{self.officer_id} ← {self.response_id}"


class Reassignment(models.Model):
    """下沉: an officer attached to another station (or a community of it) for a period; the
    grants that go with it hold from `starts_at` to `ends_at` and no longer."""

    officer = models.ForeignKey(Officer, on_delete=models.PROTECT, related_name="reassignments")
    to_unit = models.ForeignKey(PoliceUnit, on_delete=models.PROTECT, related_name="reassigned_in",
                                verbose_name=_("to police station"))
    #: a community of that station, when the officer goes to one community only
    to_area = models.ForeignKey(Area, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                verbose_name=_("to community"))
    role = models.CharField(max_length=16, default="warden")
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    #: the time-bounded grant that goes with it (`duty.reassignments`): same window, ended on cancel
    grant = models.OneToOneField("accounts.Grant", on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="+")

    class Meta:
        verbose_name = _("reassignment")
        verbose_name_plural = _("reassignments")
        constraints = [models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")),
                                              name="reassignment_ends_after_start")]

    def __str__(self) -> str:
        return f"{self.officer} → {self.to_unit}"


class Shift(models.Model):
    """One officer on duty at one post (a checkpoint, a compound's gates, a station) from
    `starts_at` to `ends_at` (e.g. 24 hours as 3 × 8 h)."""

    class PostKind(models.TextChoices):
        CHECKPOINT = "checkpoint", _("checkpoint")
        GATE = "gate", _("compound gates")
        STATION = "station", _("police station")

    post_kind = models.CharField(_("post"), max_length=10, choices=PostKind.choices)
    #: the checkpoint's or the compound's area, or the station's area — for jurisdiction
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="shifts")
    #: the checkpoint's code, the compound's code or the station's code
    post_code = models.CharField(max_length=64)
    officer = models.ForeignKey(Officer, on_delete=models.PROTECT, related_name="shifts")
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    jurisdiction_path = "area__path"

    class Meta:
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")
        constraints = [models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")),
                                              name="shift_ends_after_start")]
        indexes = [models.Index(fields=["post_kind", "post_code", "starts_at"], name="shift_post_time"),
                   models.Index(fields=["officer", "starts_at"], name="shift_officer_time")]

    def __str__(self) -> str:
        return f"{self.post_code} {self.officer_id} {self.starts_at:%m-%d %H:%M}"
