"""Users, their grants (role over an area) and API tokens."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from louzhang.areas.models import Area, PoliceUnit
from louzhang.core.personal import Kind, PersonalCharField, Sensitivity


class Role(models.TextChoices):
    COMMANDER = "commander", _("commander")
    WARDEN = "warden", _("building warden")
    CHECKPOINT = "checkpoint", _("checkpoint officer")
    GATE = "gate", _("gate staff")
    UNIT_REP = "unit_rep", _("unit representative")
    HEALTH = "health", _("health liaison")


class User(AbstractUser):
    """Anyone who logs in: officers, property gate staff, volunteers, health staff."""

    display_name = models.CharField(_("name"), max_length=50, blank=True)
    phone = PersonalCharField(
        _("phone"), max_length=20, blank=True, kind=Kind.PHONE, sensitivity=Sensitivity.PERSONAL
    )
    police_unit = models.ForeignKey(
        PoliceUnit, on_delete=models.PROTECT, null=True, blank=True, related_name="officers",
        verbose_name=_("police unit"),
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.username


def in_force(at: datetime | None = None) -> models.Q:
    """Grants in force at `at` (now): started (or without a start) and not yet ended (or
    without an end). A grant outside its window gives nothing."""
    at = at or timezone.now()
    return (models.Q(starts_at__isnull=True) | models.Q(starts_at__lte=at)) & (
        models.Q(ends_at__isnull=True) | models.Q(ends_at__gt=at))


class GrantQuerySet(models.QuerySet["Grant"]):
    def in_force(self, at: datetime | None = None) -> GrantQuerySet:
        return self.filter(in_force(at))


class Grant(models.Model):
    """A role held over an area, or over a police unit's beat (a station's communities).

    Grants are many per user: a warden is typically warden of several buildings in several
    compounds. What a user may see is the union of the subtrees of their grants.

    A grant may hold for a time only, from `starts_at` until `ends_at` (an officer reassigned
    to a station for seven days, 下沉); without them it holds from when it is made until it is
    removed. Only an open-ended grant is unique per user, role and area (or unit): an officer
    reassigned to the same station twice holds two grants, one after the other.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="grants")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    area = models.ForeignKey(
        Area, on_delete=models.PROTECT, null=True, blank=True, related_name="grants"
    )
    police_unit = models.ForeignKey(
        PoliceUnit, on_delete=models.PROTECT, null=True, blank=True, related_name="grants"
    )
    #: held from (none: from when it is made)
    starts_at = models.DateTimeField(_("from"), null=True, blank=True)
    #: held until, not including (none: until removed)
    ends_at = models.DateTimeField(_("until"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = GrantQuerySet.as_manager()

    class Meta:
        verbose_name = _("grant")
        verbose_name_plural = _("grants")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(area__isnull=False, police_unit__isnull=True)
                    | models.Q(area__isnull=True, police_unit__isnull=False)
                ),
                name="grant_area_xor_unit",
            ),
            # an empty window (a reassignment cancelled before it started) holds nothing
            models.CheckConstraint(
                condition=(
                    models.Q(starts_at__isnull=True) | models.Q(ends_at__isnull=True)
                    | models.Q(ends_at__gte=models.F("starts_at"))
                ),
                name="grant_window_ordered",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "area"], name="grant_unique_area",
                condition=models.Q(area__isnull=False, starts_at__isnull=True, ends_at__isnull=True),
            ),
            models.UniqueConstraint(
                fields=["user", "role", "police_unit"], name="grant_unique_unit",
                condition=models.Q(police_unit__isnull=False, starts_at__isnull=True,
                                   ends_at__isnull=True),
            ),
        ]
        indexes = [models.Index(fields=["role", "area"], name="grant_role_area")]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.area or self.police_unit}"


class ApiToken(models.Model):
    """A bearer token for devices and integrations; only its SHA-256 is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100, blank=True)
    #: first characters of the token, to tell tokens apart in lists; not secret, not enough to use
    prefix = models.CharField(max_length=12)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class LeadWarden(models.Model):
    """The warden a station commander names to answer for a whole compound (牵头楼长): a
    visitor's fever at its gate, a key-region car bound for it. Without one, the warden holding
    most of its buildings answers (`access.holders.compound_owner`)."""

    compound = models.OneToOneField(
        Area, on_delete=models.CASCADE, related_name="lead_warden", verbose_name=_("compound")
    )
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="leads", verbose_name=_("lead warden")
    )
    named_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    named_at = models.DateTimeField(_("named"), auto_now=True)

    class Meta:
        verbose_name = _("lead warden")
        verbose_name_plural = _("lead wardens")

    def __str__(self) -> str:
        return f"{self.compound} · {self.user}"
