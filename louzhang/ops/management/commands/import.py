"""`louzhang import KIND FILE`: residents and vehicles (the registry's importers) and officers
(`duty.importing`). It lives with the entry points because it reaches more than one floor of the
house: the registry below, people on post above it."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from louzhang.accounts.models import User
from louzhang.core.commands import LouzhangCommand
from louzhang.duty.importing import import_officers
from louzhang.registry.importing.engine import ImportFileError, ImportSummary
from louzhang.registry.importing.residents import import_residents
from louzhang.registry.importing.vehicles import import_vehicles

#: kind -> importer(path, *, actor, compound_code, rejects_path, progress)
IMPORTERS: dict[str, Callable[..., ImportSummary]] = {
    "residents": import_residents, "vehicles": import_vehicles, "officers": import_officers,
}


class Command(LouzhangCommand):
    help = "Import from CSV or XLSX: `louzhang import residents|vehicles|officers FILE [--rejects PATH] [--json]`."

    def arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=sorted(IMPORTERS))
        parser.add_argument("file", type=Path)
        parser.add_argument("--rejects", type=Path, default=None,
                            help="where to write the rejected rows (default: FILE-rejects.csv)")
        parser.add_argument("--compound", default=None,
                            help="compound code for a file without a 小区 column (residents, vehicles)")
        parser.add_argument("--as", dest="as_user", default=None, metavar="USERNAME",
                            help="import with that user's jurisdiction (rows outside it are rejected)")
        parser.add_argument("--json", action="store_true",
                            help="print one JSON summary object on stdout, nothing else")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = None
        if options["as_user"]:
            actor = User.objects.filter(username=options["as_user"], is_active=True).first()
            if actor is None:
                raise CommandError(f"--as {options['as_user']}: no such active user")
        bar = None
        if not options["json"] and sys.stderr.isatty():
            from tqdm import tqdm

            bar = tqdm(unit=" rows", desc=options["file"].name, file=sys.stderr)
        try:
            summary = IMPORTERS[options["kind"]](
                options["file"], actor=actor, compound_code=options["compound"],
                rejects_path=options["rejects"], progress=bar.update if bar else None,
            )
        except ImportFileError as exc:
            raise CommandError(str(exc)) from None
        finally:
            if bar:
                bar.close()
        if options["json"]:
            self.stdout.write(json.dumps(summary.as_dict(), ensure_ascii=False))
            return
        rate = summary.read / summary.seconds if summary.seconds else 0
        self.stdout.write(
            f"{summary.read} rows read: {summary.created} created, {summary.updated} updated, "
            f"{summary.unchanged} unchanged, {summary.rejected} rejected "
            f"in {summary.seconds:.1f} s ({rate:,.0f} rows/s)"
        )
        if summary.warnings:
            self.stdout.write(f"{summary.warnings} warnings (e.g. retired region codes in ID numbers)")
        if summary.rejects_file:
            self.stdout.write(f"rejected rows, with the reason for each: {summary.rejects_file}")
