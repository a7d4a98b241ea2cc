"""`louzhang restore FILE [--json]`: a backup restored into an empty database (`ops.backups`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from louzhang.core.commands import LouzhangCommand
from louzhang.ops.backups import NOT_INCLUDED, BackupError, backup_restore


class Command(LouzhangCommand):
    #: a backup is taken in an emergency: it must not wait on the URL and template checks
    requires_system_checks: list[str] = []
    help = ("Restore a backup into an empty database (DATABASE_URL): `louzhang restore FILE [--json]`; "
            "a database holding data is refused and left as it is.")

    def arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="a file written by `louzhang backup`")
        parser.add_argument("--json", action="store_true",
                            help="print one JSON summary object on stdout, nothing else")

    def handle(self, *args: Any, **options: Any) -> None:
        quiet = options["json"] or not options["verbosity"]
        try:
            summary = backup_restore(options["file"], progress=None if quiet else self.stdout.write)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        if options["json"]:
            self.stdout.write(json.dumps(summary.as_dict(), ensure_ascii=False))
            return
        self.stdout.write(
            f"restored {summary.path}: {summary.engine}, {len(summary.tables)} tables, {summary.rows:,} rows "
            f"as of {summary.created_at} (Louzhang {summary.louzhang_version}), row counts checked, "
            f"in {summary.seconds:.1f} s")
        if summary.migrated:
            self.stdout.write(f"migrated forward: {len(summary.migrated)} migrations "
                              f"({', '.join(summary.migrated[:5])}{' …' if len(summary.migrated) > 5 else ''})")
        self.stdout.write("not in the backup (put them back yourself): " + "; ".join(NOT_INCLUDED))
        self.stdout.write("run `louzhang init` to collect the static files before `louzhang serve`")
