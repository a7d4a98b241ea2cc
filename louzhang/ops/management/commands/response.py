from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from louzhang.areas.models import Area
from louzhang.core.commands import LouzhangCommand
from louzhang.duty.models import ResponseLevel
from louzhang.duty.services import RECALL_DUE_IN, DutyError, response_set


class Command(LouzhangCommand):
    """The response level of an area as the operator at the console sets it: the service is
    called with `actor=None`, the operator, who may set any area's level."""

    help = ("Response levels: `louzhang response set AREA_CODE --level 1|2|3|0 [--due-hours H]` "
            "(level one cancels leave and recalls the officers of the area; 0 ends the response); "
            "`louzhang response list`.")

    def arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="set|list")
        put = sub.add_parser("set", help="set (0: end) the response level of an area")
        put.add_argument("area", metavar="AREA_CODE")
        put.add_argument("--level", type=int, required=True, choices=[0, 1, 2, 3])
        put.add_argument("--due-hours", type=int, default=int(RECALL_DUE_IN.total_seconds() // 3600),
                         help="level one: recalled officers are due back on post this many hours later")
        sub.add_parser("list", help="the response levels in force")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            for r in ResponseLevel.objects.filter(ended_at__isnull=True).select_related("area").order_by("area__path"):
                since = timezone.localtime(r.started_at).strftime("%Y-%m-%d %H:%M")
                self.stdout.write(f"{r.area.code}\t{r.area.name}\tlevel {r.level}\tsince {since}")
            return
        area = Area.objects.filter(code=options["area"]).first()
        if area is None:
            raise CommandError(f"no area with code {options['area']!r}")
        if not 1 <= options["due_hours"] <= 24 * 14:
            raise CommandError("--due-hours must be 1 to 336")
        try:
            outcome = response_set(actor=None, area=area, level=options["level"],
                                   due_in=timedelta(hours=options["due_hours"]))
        except DutyError as exc:
            raise CommandError(str(exc)) from None
        for sentence in outcome.in_words():  # in the installation's language, like every command
            self.stdout.write(sentence)
