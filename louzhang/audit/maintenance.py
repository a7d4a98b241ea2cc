"""The one sanctioned way past the audit log's append-only triggers: emptying a whole test or
development database (`louzhang flush`). Nothing in the product calls it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def audit_maintenance(connection: Any) -> Iterator[None]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET louzhang.audit_maintenance = 'on'")
        else:
            cursor.execute("INSERT INTO audit_maintenance (since) VALUES (CURRENT_TIMESTAMP)")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("RESET louzhang.audit_maintenance")
            else:
                cursor.execute("DELETE FROM audit_maintenance")
