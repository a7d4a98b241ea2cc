"""`louzhang stats rebuild [--date D | --from D --to D]`: roll the figures of past days up again
from the records (after an import of old records, a correction, a new figure)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.core.management.base import CommandError, CommandParser

from louzhang.core.commands import LouzhangCommand
from louzhang.stats.models import frozen_through
from louzhang.stats.rollup import rebuild
from louzhang.stats.selectors import today

#: the longest stretch rebuilt in one run (a year of an emergency)
MAX_REBUILD_DAYS = 366


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{option} {value!r}: a date as YYYY-MM-DD") from None


class Command(LouzhangCommand):
    help = ("Figures of the dashboard and the daily report: `louzhang stats rebuild` rolls today up "
            "again from the records; `--date D` one day; `--from D --to D` every day between.")

    def arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="rebuild")
        put = sub.add_parser("rebuild", help="roll days up again from the records")
        put.add_argument("--date", metavar="YYYY-MM-DD")
        put.add_argument("--from", dest="first", metavar="YYYY-MM-DD")
        put.add_argument("--to", dest="last", metavar="YYYY-MM-DD")

    def handle(self, *args: Any, **options: Any) -> None:
        first, last = self._days(options)
        for day, rows in rebuild(first, last):
            self.stdout.write(f"{day.isoformat()}\t{rows} areas")
        n = (last - first).days + 1
        self.stdout.write(f"rebuilt {n} day{'s' if n != 1 else ''}, {first.isoformat()} to {last.isoformat()}")

    def _days(self, options: dict[str, Any]) -> tuple[date, date]:
        now = today()
        if options["date"] and (options["first"] or options["last"]):
            raise CommandError("give either --date or --from and --to, not both")
        if options["date"]:
            first = last = _day(options["date"], "--date")
        elif options["first"] or options["last"]:
            if not (options["first"] and options["last"]):
                raise CommandError("--from and --to go together")
            first, last = _day(options["first"], "--from"), _day(options["last"], "--to")
        else:
            first = last = now
        if first > last:
            raise CommandError(f"--from {first} is after --to {last}")
        if last > now:
            raise CommandError(f"{last} is in the future (today is {now})")
        frozen = frozen_through()
        if frozen is not None and first <= frozen:
            raise CommandError(f"the days up to {frozen} are frozen: their records were purged "
                               f"(`louzhang purge`), so their figures stay as they were; rebuild from {frozen + timedelta(days=1)}")
        if (last - first).days + 1 > MAX_REBUILD_DAYS:
            raise CommandError(f"at most {MAX_REBUILD_DAYS} days in one run (asked {(last - first).days + 1})")
        return first, last

