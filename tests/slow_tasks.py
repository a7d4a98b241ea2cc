"""A task that takes its time, standing in for a long import in worker tests."""

from __future__ import annotations

import time

from django_tasks import task


@task()
def hold(seconds: float) -> str:
    time.sleep(seconds)
    return "held"
