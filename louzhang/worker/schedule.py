"""Periodic jobs: registered by the apps, run by `louzhang worker`, one round by one worker."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from louzhang.worker.models import PeriodicJob

logger = logging.getLogger("louzhang.worker")


@dataclass(frozen=True)
class Periodic:
    name: str
    every: Callable[[], timedelta]
    func: Callable[[datetime], object]


PERIODIC: dict[str, Periodic] = {}


def periodic(name: str, *, every: Callable[[], timedelta]) -> Callable[[Callable[[datetime], object]], Callable[[datetime], object]]:
    """Register `func(now)` to run every `every()` (read each round, so settings apply)."""

    def register(func: Callable[[datetime], object]) -> Callable[[datetime], object]:
        PERIODIC[name] = Periodic(name, every, func)
        return func

    return register


def _claim(job: Periodic, now: datetime) -> bool:
    try:
        with transaction.atomic():
            PeriodicJob.objects.get_or_create(name=job.name, defaults={"next_run_at": now})
    except IntegrityError:  # another worker created it at the same moment
        pass
    claimed = PeriodicJob.objects.filter(name=job.name, next_run_at__lte=now).update(
        next_run_at=now + job.every(), last_started_at=now
    )
    return claimed == 1


def run_due_jobs(now: datetime | None = None) -> list[str]:
    """Run every periodic job whose time has come; return the names of those run here."""
    ran = []
    for job in PERIODIC.values():
        moment = now or timezone.now()
        if not _claim(job, moment):
            continue
        error = ""
        try:
            job.func(moment)
        except Exception:
            error = traceback.format_exc()
            logger.exception("periodic job %s failed", job.name)
        PeriodicJob.objects.filter(name=job.name).update(
            last_finished_at=timezone.now(), last_error=error[-4000:]
        )
        ran.append(job.name)
    return ran
