"""What the background workers leave in the database: who is alive, when periodic jobs ran, and
the lifecycle every background job of a user shares."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class WorkerBeat(models.Model):
    """A running `louzhang worker`, seen at `seen_at` (written every few seconds)."""

    worker_id = models.CharField(max_length=64, unique=True)
    host = models.CharField(max_length=200)
    pid = models.PositiveIntegerField()
    backend = models.CharField(max_length=32)
    started_at = models.DateTimeField(default=timezone.now)
    seen_at = models.DateTimeField(default=timezone.now, db_index=True)
    stopped_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.worker_id} on {self.host}"


class PeriodicJob(models.Model):
    """A job run on a schedule; whichever worker moves `next_run_at` first runs it, so several
    workers never run the same round twice."""

    name = models.CharField(max_length=64, unique=True)
    next_run_at = models.DateTimeField(default=timezone.now)
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.name


#: a task or a job left half done by a worker that died is taken up at most this many times
#: in all, then marked failed: one poison task must not take down every worker in turn
MAX_ATTEMPTS = 3


class Job(models.Model):
    """Work a user asked for and a worker does in the background — an import, an export, a
    report: queued → running → done or failed, with progress, a lease and the attempts made.

    Every kind of job has this one lifecycle; a concrete model adds what its work needs and
    leaves behind (the uploaded file, the counts, the file to download). State changes only
    through the services of `louzhang.worker.jobs`.
    """

    class State(models.TextChoices):
        QUEUED = "queued", _("waiting for the worker")
        RUNNING = "running", _("running")
        DONE = "done", pgettext_lazy("import state", "done")
        FAILED = "failed", _("failed")

    #: what the pages call the running state of this kind ("importing", "exporting")
    running_label: ClassVar[StrOrPromise] = _("running")

    user = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.QUEUED)
    #: how much there is to do (rows, residents …), 0 while unknown; `processed` of it is done
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    #: why it failed, in words for the user
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    #: while running: the worker holding it (its beat says it is alive) and until when the job
    #: is its own without that; renewed with the progress
    worker_id = models.CharField(max_length=64, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    #: how many times a worker took it up (more than one: a worker died while running it)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        abstract = True

    @property
    def finished(self) -> bool:
        return self.state in (self.State.DONE, self.State.FAILED)

    @property
    def percent(self) -> int:
        if self.state == self.State.DONE:
            return 100
        return min(99, self.processed * 100 // self.total) if self.total else 0

    @property
    def state_label(self) -> StrOrPromise:
        return self.running_label if self.state == self.State.RUNNING else self.get_state_display()

    @property
    def taken_up_again(self) -> int:
        """The attempt under way or waited for when a worker died during an earlier one, else 0."""
        upcoming = self.attempts + (1 if self.state == self.State.QUEUED else 0)
        return upcoming if upcoming > 1 and not self.finished else 0

    @property
    def max_attempts(self) -> int:
        return MAX_ATTEMPTS
