"""`louzhang purge --ended-on YYYY-MM-DD [--dry-run] [--json] [--force]`: when the emergency is
over, purge its personal data as `retention.policy` says, and print the report (also kept as a
`retention.PurgeRun`)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from django.core.management.base import CommandError, CommandParser

from louzhang.core.commands import LouzhangCommand
from louzhang.retention.policy import POLICY, Action
from louzhang.retention.services import PurgeRefused, purge
from louzhang.stats.models import StaleDay, freeze_through
from louzhang.stats.rollup import rollup_day


def freeze_figures(ended_on: date) -> None:
    """Before the purge removes records: roll up once more the days up to `ended_on` that are
    waiting for it (records that arrived late), then freeze them — their figures are never
    rolled up again from the records that are about to go. Retention and stats share a floor
    and cannot import each other; this command sees both."""
    for day in StaleDay.objects.filter(day__lte=ended_on).order_by("day").values_list("day", flat=True):
        rollup_day(day)
    freeze_through(ended_on)


class Command(LouzhangCommand):
    help = ("Purge the personal data of an emergency that has ended (per-kind policy: anonymise, "
            "delete or keep); `--dry-run` counts without changing anything. Refused while a "
            "response level is in force, unless `--force`.")

    def arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--ended-on", required=True, metavar="YYYY-MM-DD",
                            help="the last day of the emergency: records up to its end are purged")
        parser.add_argument("--dry-run", action="store_true", help="count, change nothing")
        parser.add_argument("--json", action="store_true", help="the report as JSON")
        parser.add_argument("--force", action="store_true",
                            help="purge even though a response level is still in force")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            ended_on = date.fromisoformat(options["ended_on"])
        except ValueError:
            raise CommandError(f"--ended-on {options['ended_on']!r}: a date as YYYY-MM-DD") from None
        try:
            report = purge(ended_on=ended_on, dry_run=options["dry_run"], actor=None,
                           force=options["force"], freeze=freeze_figures)
        except PurgeRefused as exc:
            raise CommandError(str(exc)) from None
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, sort_keys=True))
            return
        verb = "would change" if report.run.dry_run else "changed"
        self.stdout.write(f"purge #{report.run.pk} of the emergency ended on {ended_on}"
                          f"{' (dry run: nothing changed)' if report.run.dry_run else ''}")
        for rule in POLICY:
            if rule.action == Action.KEEP:
                self.stdout.write(f"{rule.kind}\tkept")
                continue
            line = f"{rule.kind}\t{rule.action.value}\t{verb} {report.counts.get(rule.kind, 0)} rows"
            if rule.kind in report.files:
                line += f", {report.files[rule.kind]} files"
            if report.still_open.get(rule.kind):
                line += f"; {report.still_open[rule.kind]} still open, kept until closed"
            if rule.kind in report.not_due:
                line += f" (not due before {report.not_due[rule.kind]})"
            self.stdout.write(line)
        self.stdout.write(f"total: {verb} {sum(report.counts.values())} rows")
