"""Django's `flush` (empty every table), able to empty the append-only audit log too.

Used by the test suite between transactional tests and by developers; like Django's own, it asks
for confirmation unless --no-input is given.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands.flush import Command as DjangoFlush
from django.db import connections

from louzhang.audit.maintenance import audit_maintenance


class Command(DjangoFlush):
    def handle(self, **options: Any) -> None:
        with audit_maintenance(connections[options["database"]]):
            super().handle(**options)
