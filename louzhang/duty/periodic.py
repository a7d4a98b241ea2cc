from __future__ import annotations

from datetime import datetime, timedelta

from louzhang.duty.services import recalls_sweep
from louzhang.worker.schedule import periodic


@periodic("duty.recalls_sweep", every=lambda: timedelta(minutes=1))
def sweep(now: datetime) -> dict[str, int]:
    return recalls_sweep(now)
