"""The report of a purge (清除记录): who ran it, when, for which end of the emergency, and how
many rows of each kind it anonymised or deleted."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PurgeRun(models.Model):
    """One run of `louzhang purge` (or a dry run of it). `counts` maps each kind of the policy
    (`retention.policy.POLICY`) to the rows it changed (or would change, in a dry run), and
    `files` to the files it removed."""

    #: none: the operator at the console
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+", verbose_name=_("run by"))
    actor_username = models.CharField(_("run by"), max_length=150, blank=True)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    #: the last day of the emergency: records up to its end are purged
    ended_on = models.DateField(_("emergency ended on"))
    dry_run = models.BooleanField(_("dry run"), default=False)
    forced = models.BooleanField(default=False)
    counts = models.JSONField(default=dict, blank=True)
    files = models.JSONField(default=dict, blank=True)
    #: kind -> rows skipped because they were still open (kept until closed)
    still_open = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("purge")
        verbose_name_plural = _("purges")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.ended_on} {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def total(self) -> int:
        return sum(int(n) for n in self.counts.values())
