"""The one lifecycle of users' background jobs (imports, exports, reports): queue, claim,
progress, finish or fail, and take up again the job of a worker that died.

A job is claimed with a conditional UPDATE (queued → running, one attempt more), so of two
workers handed the same job — a task queued twice, a recovered task beside a re-queued job —
exactly one runs it. The claim is a lease held by the claiming worker: while that worker beats
(`WorkerBeat`), the job stays its own however long a step takes; once it stopped beating and the
lease has lapsed, the recovery sweep queues the job again — `MAX_ATTEMPTS` attempts in all, then
the job is failed with the reason in words for the user. A job run outside a worker (no beat to
go by) holds it by the lease alone, renewed with the progress.

A job's work must be safe to run again from the top: imports are idempotent, an export writes a
new file.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.apps import apps
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from louzhang.worker.models import MAX_ATTEMPTS, Job
from louzhang.worker.recovery import live_worker_ids, stale_after
from louzhang.worker.schedule import periodic

logger = logging.getLogger("louzhang.worker")
J = TypeVar("J", bound=Job)
#: progress is written (and the lease renewed) at most this often, in seconds
PROGRESS_EVERY = 1.0


class JobFailed(Exception):
    """Raised by a job's work when it cannot be done; the message tells the user why."""


class JobLost(Exception):
    """The job is no longer this worker's: its lease lapsed and it was queued again."""


#: what the worker does for a job of a kind: `work(job, progress)` returns the fields of the
#: concrete model to store with the job done; `progress(n)` says n more are done
Work = Callable[[Any, Callable[[int], None]], Mapping[str, Any]]
_WORK: dict[str, Work] = {}
_holder = threading.local()


def job_work(model: type[Job]) -> Callable[[Work], Work]:
    """Register the function below as the work of jobs of `model` (at import, like `periodic`)."""

    def register(work: Work) -> Work:
        _WORK[model._meta.label] = work
        return work

    return register


def job_models() -> list[type[Job]]:
    return [model for model in apps.get_models() if issubclass(model, Job)]


@contextmanager
def held_by(worker_id: str) -> Iterator[None]:
    """Jobs claimed in this thread inside the block are held by the worker `worker_id`."""
    previous = getattr(_holder, "worker_id", "")
    _holder.worker_id = worker_id
    try:
        yield
    finally:
        _holder.worker_id = previous


def _lease(now: datetime) -> datetime:
    """Until when a claim holds without its worker's beat: as long as a worker is taken for
    alive without one."""
    return now + stale_after()


# --- queueing --------------------------------------------------------------------------------


def job_enqueue(job: Job) -> None:
    """Queue the job's task once the current transaction commits (at once outside one)."""
    model, pk = type(job), job.pk
    transaction.on_commit(lambda: _send(model, pk))


def _send(model: type[Job], pk: int) -> None:
    from louzhang.worker.tasks import run_job

    try:
        run_job.enqueue(model._meta.label, pk)
    except Exception:  # the queue (Redis) is down: say so rather than wait for ever
        logger.exception("could not queue %s %s", model._meta.label, pk)
        model._default_manager.filter(pk=pk, state=Job.State.QUEUED).update(
            state=Job.State.FAILED, finished_at=timezone.now(),
            error=_("The background queue could not be reached; try again later."),
        )


# --- the lifecycle ---------------------------------------------------------------------------


def job_start(model: type[J], *, job_id: int) -> J | None:
    """Claim a queued job for this worker: running, under a lease, one attempt more. None when
    it is not queued (another worker holds it, or it is finished)."""
    now = timezone.now()
    claimed = model._default_manager.filter(pk=job_id, state=Job.State.QUEUED).update(
        state=Job.State.RUNNING, attempts=F("attempts") + 1,
        worker_id=getattr(_holder, "worker_id", ""), lease_until=_lease(now),
        started_at=now, finished_at=None, processed=0, error="",
    )
    return model._default_manager.get(pk=job_id) if claimed else None


def _ours(job: Job) -> QuerySet[Any]:
    """The job as long as it is still the claim `job` was fetched with."""
    return type(job)._default_manager.filter(pk=job.pk, state=Job.State.RUNNING, attempts=job.attempts)


def job_progress(job: Job, *, done: int = 0, total: int | None = None) -> None:
    """`done` more are done (and the total is `total`, when given); renews the lease.
    JobLost when the job has been taken away from this claim."""
    changes: dict[str, Any] = {"processed": F("processed") + done, "lease_until": _lease(timezone.now())}
    if total is not None:
        changes["total"] = total
    if not _ours(job).update(**changes):
        raise JobLost(f"{job._meta.label} {job.pk}")


def job_finish(job: Job, **fields: Any) -> bool:
    """Done, storing `fields` of the concrete model; False when the claim was lost."""
    return bool(_ours(job).update(state=Job.State.DONE, finished_at=timezone.now(),
                                  lease_until=None, **fields))


def job_fail(job: Job, *, error: str) -> bool:
    """Failed, with `error` for the user; False when the claim was lost."""
    return bool(_ours(job).update(state=Job.State.FAILED, finished_at=timezone.now(),
                                  lease_until=None, error=error[:2000]))


class _Progress:
    """The `progress(n)` handed to a job's work: counts, and writes at most every second."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.pending = 0
        self.written = time.monotonic()

    def __call__(self, done: int) -> None:
        self.pending += done
        if time.monotonic() - self.written >= PROGRESS_EVERY:
            job_progress(self.job, done=self.pending)
            self.pending = 0
            self.written = time.monotonic()


def job_run(*, label: str, job_id: int) -> str:
    """What the task does: claim the job, do its work, record the outcome; returns the state
    it was left in, or why nothing was done ("taken", "lost")."""
    work = _WORK[label]
    job = job_start(apps.get_model(label), job_id=job_id)
    if job is None:
        return "taken"
    try:
        fields = work(job, _Progress(job))
    except JobLost:
        logger.warning("%s %s was taken up by another worker: this run stops", label, job_id)
        return "lost"
    except JobFailed as exc:
        job_fail(job, error=str(exc))
        return Job.State.FAILED
    except Exception:
        logger.exception("%s %s failed", label, job_id)
        job_fail(job, error=_("Something went wrong in the background; the operator finds the "
                              "details in the worker's log."))
        raise
    return Job.State.DONE if job_finish(job, **fields) else "lost"


# --- recovery --------------------------------------------------------------------------------


@periodic("worker.recover_jobs", every=lambda: timedelta(seconds=15))
def jobs_recover(now: datetime) -> int:
    """Jobs running on a worker that stopped beating, their lease lapsed: queued again, or
    failed for the user to see after `MAX_ATTEMPTS` attempts. Returns how many."""
    live = live_worker_ids(now)
    recovered = 0
    for model in job_models():
        lost = (model._default_manager.filter(state=Job.State.RUNNING)
                .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
                .exclude(worker_id__in=live))
        for job in lost.only("pk", "attempts", "worker_id"):
            still_lost = model._default_manager.filter(pk=job.pk, state=Job.State.RUNNING,
                                              attempts=job.attempts)
            if job.attempts >= MAX_ATTEMPTS:
                changed = still_lost.update(
                    state=Job.State.FAILED, finished_at=now, lease_until=None,
                    error=_("The background worker stopped %(n)d times while doing this, so it "
                            "was given up. Try again; if it stops again, ask the operator to look "
                            "at the worker's log.") % {"n": job.attempts},
                )
            else:
                with transaction.atomic():
                    changed = still_lost.update(state=Job.State.QUEUED, worker_id="",
                                                lease_until=None)
                    if changed:
                        job_enqueue(job)
            if changed:
                recovered += 1
                logger.warning("%s %s was held by a lost worker %r (attempt %d): %s",
                               model._meta.label, job.pk, job.worker_id, job.attempts,
                               "given up" if job.attempts >= MAX_ATTEMPTS else "queued again")
    return recovered
