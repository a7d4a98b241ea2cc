"""`louzhang backup -o FILE [--json]`: a consistent copy of the whole database while it runs
(`ops.backups`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from louzhang.core.commands import LouzhangCommand
from louzhang.ops.backups import NOT_INCLUDED, BackupError, backup_create


class Command(LouzhangCommand):
    #: a backup is taken in an emergency: it must not wait on the URL and template checks
    requires_system_checks: list[str] = []
    help = "A consistent copy of the whole database while it runs: `louzhang backup -o FILE [--json]`."

    def arguments(self, parser: CommandParser) -> None:
        parser.add_argument("-o", "--output", type=Path, required=True, metavar="FILE",
                            help="the backup file to write (replaced if it exists)")
        parser.add_argument("--json", action="store_true",
                            help="print one JSON summary object on stdout, nothing else")

    def handle(self, *args: Any, **options: Any) -> None:
        quiet = options["json"] or not options["verbosity"]
        try:
            summary = backup_create(options["output"], progress=None if quiet else self.stdout.write)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        if options["json"]:
            self.stdout.write(json.dumps(summary.as_dict(), ensure_ascii=False))
            return
        self.stdout.write(
            f"backup written: {summary.path} ({summary.size / 1e6:,.1f} MB, {summary.engine}, "
            f"{len(summary.tables)} tables, {summary.rows:,} rows, as of {summary.created_at}) "
            f"in {summary.seconds:.1f} s")
        self.stdout.write("not in the backup (keep them yourself): " + "; ".join(NOT_INCLUDED))
