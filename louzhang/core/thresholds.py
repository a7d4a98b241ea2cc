"""Thresholds from the settings, as the domain compares them."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from django.conf import settings


def fever_threshold() -> Decimal:
    """The temperature (°C) at or above which a reading is a fever (`LOUZHANG_FEVER_THRESHOLD`).
    Read on every call, so a changed setting (a test's override) takes effect at once."""
    return _decimal(settings.LOUZHANG_FEVER_THRESHOLD)


@lru_cache(maxsize=8)
def _decimal(value: float) -> Decimal:
    # via str: 37.3 is 37.3, not 37.29999999999999715782905696
    return Decimal(str(value))
