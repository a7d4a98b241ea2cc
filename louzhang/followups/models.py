"""Follow-ups (待办/闭环): the one object for every piece of work the system asks of a person.

A fever at a gate, a key-region car bound for a compound, a tip, a missed check-in: each becomes a
follow-up with an owner (the responsible warden), a due time, an escalation path and, at the
end, a closing finding. Every change is kept in its history (`FollowUpEvent`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from louzhang.areas.models import Area


class State(models.TextChoices):
    OPEN = "open", _("open")
    ACKNOWLEDGED = "acknowledged", _("acknowledged")
    DONE = "done", _("done")
    CANCELLED = "cancelled", _("cancelled")


#: states in which a follow-up still asks something of somebody
ACTIVE_STATES = (State.OPEN, State.ACKNOWLEDGED)


class Priority(models.IntegerChoices):
    NORMAL = 1, _("normal")
    URGENT = 2, _("urgent")


class FollowUp(models.Model):
    kind = models.CharField(_("kind"), max_length=32)
    #: the rule that opened it ("manual" for one a commander assigned by hand)
    rule = models.CharField(_("rule"), max_length=64)
    subject_type = models.CharField(_("subject type"), max_length=32)
    subject_id = models.CharField(_("subject"), max_length=64)
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="followups",
                             verbose_name=_("area"))
    #: what happened, fit for a group chat: never an unmasked name, phone or ID number
    summary = models.CharField(_("what happened"), max_length=300)
    #: what the owner must do
    action = models.CharField(_("what to do"), max_length=200)
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices,
                                                default=Priority.NORMAL)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                              blank=True, related_name="followups", verbose_name=_("owner"))
    #: the role through which the owner answers for the area (warden, or commander when the
    #: building has no warden)
    owner_role = models.CharField(_("owner's role"), max_length=16, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.OPEN)
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    due_at = models.DateTimeField(_("due"))
    reminded_at = models.DateTimeField(_("reminded"), null=True, blank=True)
    #: 0 with the owner; 1 told the nearest commanders (station); 2 the next tier (branch) …
    escalation_level = models.PositiveSmallIntegerField(_("escalation level"), default=0)
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    finding = models.TextField(_("finding"), blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                  blank=True, related_name="+")
    #: times the same rule fired again for the same subject while this one was open
    repeats = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    jurisdiction_path = "area__path"

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        constraints = [
            # one open follow-up per rule and subject: the database refuses a second even when
            # two events race
            models.UniqueConstraint(
                fields=["rule", "subject_type", "subject_id"],
                condition=Q(state__in=["open", "acknowledged"]),
                name="followup_one_active_per_subject",
            ),
            models.CheckConstraint(
                condition=Q(state__in=["open", "acknowledged"], closed_at__isnull=True)
                | Q(state__in=["done", "cancelled"], closed_at__isnull=False),
                name="followup_closed_iff_finished",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "state", "due_at"], name="followup_owner_due"),
            models.Index(fields=["state", "due_at"], name="followup_state_due"),
            models.Index(fields=["subject_type", "subject_id"], name="followup_subject"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.summary}"

    @property
    def about(self) -> str:
        """How notifications name this follow-up (`notifications.Notification.about`)."""
        return f"followup:{self.pk}"

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES


class FollowUpEvent(models.Model):
    """One line of a follow-up's history."""

    class Kind(models.TextChoices):
        OPENED = "opened", _("opened")
        REPEATED = "repeated", _("happened again")
        ACKNOWLEDGED = "acknowledged", _("acknowledged")
        REMINDED = "reminded", _("owner reminded")
        ESCALATED = "escalated", _("escalated")
        REASSIGNED = "reassigned", _("reassigned")
        NOTE = "note", _("note")
        DONE = "done", _("done")
        CANCELLED = "cancelled", _("cancelled")

    followup = models.ForeignKey(FollowUp, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    #: none for the system (rules, the escalation clock)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                              blank=True, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    note = models.TextField(blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["followup", "at"], name="followup_event_at")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"
