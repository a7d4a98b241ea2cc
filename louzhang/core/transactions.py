"""Transactions that two devices may race: run again when the database chose this one as the
victim of a deadlock (PostgreSQL 40P01) or a serialization failure (40001)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import OperationalError, transaction

T = TypeVar("T")
logger = logging.getLogger("louzhang.db")
RETRYABLE = {"40P01", "40001"}


def atomic_with_retry(work: Callable[[], T], *, attempts: int = 4) -> T:
    """`work()` inside one transaction; rolled back and run again (a few times, after a short
    pause) when the database aborted it to break a deadlock. `work` must only write to the
    database, so running it again is safe."""
    for attempt in range(1, attempts + 1):
        try:
            with transaction.atomic():
                return work()
        except OperationalError as exc:
            code = getattr(exc.__cause__, "sqlstate", None)
            if code not in RETRYABLE or attempt == attempts or transaction.get_connection().in_atomic_block:
                raise
            logger.warning("transaction aborted by the database (%s), attempt %d: running it again",
                           code, attempt)
            time.sleep(0.05 * attempt)
    raise AssertionError("unreachable")
