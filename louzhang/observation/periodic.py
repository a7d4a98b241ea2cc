from __future__ import annotations

from datetime import datetime, timedelta

from louzhang.observation.services import observations_sweep
from louzhang.worker.schedule import periodic


@periodic("observation.sweep", every=lambda: timedelta(minutes=5))
def sweep(now: datetime) -> dict[str, int]:
    return observations_sweep(now)
