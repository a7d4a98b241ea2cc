"""Telling people: the in-app inbox, delivery channels (group robots, webhooks, SMS) and the
outbox of deliveries the worker sends.

A delivery is written in the same transaction as the event that causes it (transactional
outbox) and sent afterwards, at least once; every attempt is kept with the platform's answer.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from louzhang.areas.models import Area
from louzhang.core.crypto import EncryptedTextField, reveal


class Notification(models.Model):
    """One line in a user's inbox (always on, whatever channels exist)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="notifications")
    #: what it is about, as its owner names it ("followup:17"): notifications link to their
    #: subject without knowing what kind of thing it is
    about = models.CharField(max_length=64, blank=True, db_index=True)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    #: the page of the subject, on this site ("/followups/17/")
    link = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(fields=["user", "created_at"], name="notification_user_time"),
            models.Index(fields=["user"], condition=Q(read_at__isnull=True),
                         name="notification_unread"),
        ]

    def __str__(self) -> str:
        return self.title


class ChannelKind(models.TextChoices):
    WECOM = "wecom", _("WeCom group robot")
    DINGTALK = "dingtalk", _("DingTalk group robot")
    FEISHU = "feishu", _("Feishu group bot")
    WEBHOOK = "webhook", _("JSON webhook")
    SMS = "sms", _("SMS gateway")


#: the audience of a residents' group chat: never sent follow-ups (internal work), only what is
#: meant for residents (notices, the outcome of a tip)
RESIDENTS = "resident"


class Channel(models.Model):
    """A delivery channel bound to an area and the roles it serves: the 东河区 wardens' work
    group (楼长工作群), a station's officers' group, a compound's residents' group …"""

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=ChannelKind.choices)
    #: the robot's webhook address; for WeCom, DingTalk and Feishu it carries the robot's key or
    #: token, so it is a secret too: both are stored encrypted with the data key (`core.crypto`);
    #: loaded, they hold the stored (encrypted) value: `plain_url()` / `plain_secret()` decrypt
    #: (raising `DataKeyError` without the right key); they cannot be searched
    url = EncryptedTextField(_("address"), max_length=500)
    secret = EncryptedTextField(_("signing secret"), max_length=200, blank=True)
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="channels",
                             verbose_name=_("area"))
    #: roles whose follow-ups and alerts are announced here (an empty list: every staff role;
    #: "resident" marks a residents' group, which staff work never reaches)
    roles = models.JSONField(_("roles"), default=list, blank=True)
    #: kind-specific options, validated by the transport (e.g. {"format": "markdown"})
    options = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    #: set when the platform locks the robot (DingTalk 130101: 10 minutes); nothing is sent before
    paused_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="+")

    jurisdiction_path = "area__path"

    class Meta:
        verbose_name = _("channel")
        verbose_name_plural = _("channels")

    def __str__(self) -> str:
        return self.name

    def plain_url(self) -> str:
        """The address in plain, for sending (`DataKeyError` without the right key)."""
        return reveal(self.url)

    def plain_secret(self) -> str:
        """The signing secret in plain, for sending (`DataKeyError` without the right key)."""
        return reveal(self.secret)

    def serves(self, role: str) -> bool:
        if not self.roles:
            return role != RESIDENTS
        return role in self.roles


class Delivery(models.Model):
    """One message for one channel (and, for SMS, one recipient): the outbox row."""

    class State(models.TextChoices):
        PENDING = "pending", _("waiting")
        SENT = "sent", _("sent")
        DEAD = "dead", _("failed for good")

    #: stable id, sent along where the channel allows so the receiver can drop duplicates
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="deliveries")
    #: what it is about (see `Notification.about`)
    about = models.CharField(max_length=64, blank=True, db_index=True)
    #: the rendered message: {"title", "text", "link", "mentions": [phones]} — rendered once, in
    #: the event's transaction, so a retry sends exactly what was decided then
    message = models.JSONField()
    #: SMS: the phone number sent to
    recipient = models.CharField(max_length=20, blank=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    #: while set and in the future, one sender holds the delivery; a sender killed mid-send lets
    #: it lapse and the delivery is taken up again
    lease_until = models.DateTimeField(null=True, blank=True)
    #: when a task to send it was last queued (the outbox sweep re-queues after the lease time)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    #: attempts that failed (a platform saying "slow down" does not count)
    failures = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    jurisdiction_path = "channel__area__path"

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(state="pending"),
                         name="delivery_due"),
            models.Index(fields=["channel", "state"], name="delivery_channel_state"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.uid}"


class DeliveryAttempt(models.Model):
    """One request to the platform and what it answered."""

    class Outcome(models.TextChoices):
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        RETRY = "retry", _("failed, will retry")
        RATE_LIMITED = "rate_limited", _("rate limited, will retry")
        PERMANENT = "permanent", _("refused for good")

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempts_made")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.SENDING)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response = models.CharField(max_length=500, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        indexes = [models.Index(fields=["channel", "started_at"], name="attempt_channel_time")]

    def __str__(self) -> str:
        return f"{self.delivery_id} {self.outcome}"
