from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings

from louzhang.notifications.services import outbox_sweep
from louzhang.worker.schedule import periodic


@periodic("notifications.outbox_sweep",
          every=lambda: timedelta(seconds=settings.LOUZHANG_OUTBOX_SWEEP_SECONDS))
def sweep(now: datetime) -> int:
    return outbox_sweep(now)
