from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from louzhang.core.commands import LouzhangCommand
from louzhang.worker.runner import Worker, run_once


class Command(LouzhangCommand):
    help = ("Run background tasks (deliveries, imports, reports) and the periodic rules. "
            "Run one or more beside `louzhang serve`; stopping one at any moment loses nothing.")

    def arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true",
                            help="run what is due now, then exit (for cron or a quick check)")
        parser.add_argument("--worker-id", default=None, help="a name for this worker (default: host-pid-random)")
        parser.add_argument("--threads", type=int, default=2,
                            help="tasks run at once (database backend): a long import then "
                                 "never holds back a delivery (default 2)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["once"]:
            ran = run_once(options["worker_id"] or "once")
            self.stdout.write(f"ran {ran} task(s)")
            return
        if options["threads"] < 1:
            raise CommandError("--threads must be at least 1")
        Worker(worker_id=options["worker_id"], threads=options["threads"]).run()
