"""The worker's part: today's figures rolled up every `LOUZHANG_STATS_REFRESH_SECONDS`."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings

from louzhang.stats.rollup import refresh
from louzhang.worker.schedule import periodic

logger = logging.getLogger("louzhang.stats")


@periodic("stats.refresh", every=lambda: timedelta(seconds=settings.LOUZHANG_STATS_REFRESH_SECONDS))
def stats_refresh(now: datetime) -> None:
    days = refresh(now)
    logger.debug("figures rolled up for %s", ", ".join(str(d) for d in days))
