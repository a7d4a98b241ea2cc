"""The database's storage is exhausted — the disk under SQLite is full, PostgreSQL cannot extend a
file — answered as what it is: `503 Service Unavailable` with `Retry-After`, an RFC 9457 problem
document (API.md, "Errors"), not a 500 and a traceback. Nothing of the failed request was stored
(its transaction rolled back); what was acknowledged before stays; once space is freed the next
request succeeds, without a restart.

Hooked in at two places:

- the API (`louzhang.api.problems.install`), where django-ninja catches every exception before any
  middleware sees it: its handler for `django.db.DatabaseError` answers `storage_full_answer()`
  first;
- pages: `core.middleware.RequestContextMiddleware.process_exception` answers the product's
  error page with a 503 (`storage_exhausted`).

It shares its shape with the "database unavailable" 503 (a PostgreSQL restart): the same status,
`Retry-After`, problem+json; only `type` and `detail` differ.
"""

from __future__ import annotations

import errno
import logging
import sqlite3
from collections.abc import Iterator

from django.http import HttpResponse, JsonResponse

logger = logging.getLogger("louzhang.db")

#: SQLite's primary result code for "database or disk is full" (also what `max_page_count` gives)
SQLITE_FULL = 13
#: PostgreSQL's SQLSTATE for a full disk (class 53, insufficient resources)
PG_DISK_FULL = "53100"
#: seconds a device waits before sending again (it keeps its records meanwhile)
RETRY_AFTER = 60
PROBLEM_TYPE = "https://louzhang.invalid/problems/storage-full"
DETAIL = ("the database is full (storage exhausted): nothing of this request was stored; "
          "send it again later — records acknowledged before are kept")


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def storage_exhausted(exc: BaseException) -> bool:
    """`exc` (or what caused it) says the database's storage is full."""
    for error in _chain(exc):
        if isinstance(error, sqlite3.Error):
            code = getattr(error, "sqlite_errorcode", None)
            if (code is not None and code & 0xFF == SQLITE_FULL) or "database or disk is full" in str(error):
                return True
        if getattr(error, "sqlstate", None) == PG_DISK_FULL:
            return True
        if isinstance(error, OSError) and error.errno == errno.ENOSPC:
            return True
    return False


def storage_full_problem() -> HttpResponse:
    """The 503 problem document (application/problem+json) with `Retry-After`."""
    response = JsonResponse(
        {"type": PROBLEM_TYPE, "title": "Service Unavailable", "status": 503, "detail": DETAIL},
        status=503, content_type="application/problem+json")
    response["Retry-After"] = str(RETRY_AFTER)
    return response


def storage_full_answer(exc: BaseException) -> HttpResponse | None:
    """The 503 for a full database, logged once as such; None for any other error."""
    if not storage_exhausted(exc):
        return None
    logger.error("the database is full (storage exhausted): %s", exc)
    return storage_full_problem()
