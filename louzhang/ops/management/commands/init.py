from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.db import connection

from louzhang.core.commands import LouzhangCommand


class Command(LouzhangCommand):
    help = "Create or migrate the database named by DATABASE_URL and collect static files."

    def handle(self, *args: Any, **options: Any) -> None:
        verbosity = options["verbosity"]
        call_command("migrate", interactive=False, verbosity=max(verbosity - 1, 0))
        call_command("collectstatic", interactive=False, verbosity=0)
        # fresh planner statistics: SQLite has none until ANALYZE, and without them it may prefer
        # a poor index for jurisdiction queries
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        if verbosity:
            self.stdout.write(
                f"louzhang: database ready ({connection.vendor}: {connection.settings_dict['NAME']}); "
                f"static files in {settings.STATIC_ROOT}"
            )
