from __future__ import annotations

from datetime import datetime, timedelta

from louzhang.disinfection.services import disinfections_sweep
from louzhang.worker.schedule import periodic


@periodic("disinfection.sweep", every=lambda: timedelta(minutes=5))
def sweep(now: datetime) -> dict[str, int]:
    return disinfections_sweep(now)
