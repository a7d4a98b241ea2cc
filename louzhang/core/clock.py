"""The local day the pages and counts speak of."""

from __future__ import annotations

from datetime import datetime, time

from django.utils import timezone


def today_start() -> datetime:
    """Midnight at the start of today, local time (`TIME_ZONE`), as an aware datetime."""
    return timezone.make_aware(datetime.combine(timezone.localdate(), time.min))
