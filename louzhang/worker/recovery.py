"""Work a dead worker left half done is taken up again.

The database task backend marks a task RUNNING when a worker takes it; a worker killed at that
moment would leave it RUNNING for ever. Every task here is written to be safe to run twice
(deliveries are claimed under a lease, imports are idempotent), so a task held by a worker that
stopped beating goes back to READY — three times at most, then it is marked failed so one poison
task cannot take down every worker in turn. Users' jobs (imports, exports) carry their own lease
and attempts on their row: `louzhang.worker.jobs`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from louzhang.worker.models import MAX_ATTEMPTS, WorkerBeat
from louzhang.worker.schedule import periodic

logger = logging.getLogger("louzhang.worker")


def stale_after() -> timedelta:
    return timedelta(seconds=settings.LOUZHANG_WORKER_STALE_SECONDS)


def live_worker_ids(now: datetime) -> set[str]:
    return set(
        WorkerBeat.objects.filter(seen_at__gte=now - stale_after(), stopped_at__isnull=True)
        .values_list("worker_id", flat=True)
    )


def worker_seen_recently(now: datetime | None = None) -> bool:
    return bool(live_worker_ids(now or timezone.now()))


@periodic("worker.recover_tasks", every=lambda: timedelta(seconds=15))
def recover_tasks(now: datetime) -> int:
    """READY again: tasks RUNNING on a worker that is no longer alive. Returns how many."""
    from django.apps import apps

    if not apps.is_installed("django_tasks_db"):
        return 0
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    live = live_worker_ids(now)
    recovered = 0
    for task in DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).only(
        "id", "worker_ids", "started_at"
    ):
        holder = task.worker_ids[-1] if task.worker_ids else None
        if holder in live:
            continue
        if task.started_at and task.started_at > now - stale_after():
            continue  # taken moments ago by a worker whose first beat is on its way
        if len(task.worker_ids) >= MAX_ATTEMPTS:
            changed = DBTaskResult.objects.filter(id=task.id, status=TaskResultStatus.RUNNING).update(
                status=TaskResultStatus.FAILED, finished_at=now,
                exception_class_path="louzhang.worker.recovery.WorkerLost",
                traceback=f"the worker running it stopped {len(task.worker_ids)} times",
            )
        else:
            changed = DBTaskResult.objects.filter(id=task.id, status=TaskResultStatus.RUNNING).update(
                status=TaskResultStatus.READY, started_at=None
            )
        if changed:
            recovered += 1
            logger.warning("task %s was held by a lost worker %s: requeued", task.id, holder)
    return recovered
