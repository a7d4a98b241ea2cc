from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings

from louzhang.followups.services import followups_escalate
from louzhang.worker.schedule import periodic


@periodic("followups.escalate",
          every=lambda: timedelta(seconds=settings.LOUZHANG_ESCALATION_CHECK_SECONDS))
def escalate(now: datetime) -> dict[str, int]:
    return followups_escalate(now)
