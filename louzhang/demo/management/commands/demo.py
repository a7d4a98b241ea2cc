from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import CommandError, CommandParser

from louzhang.core.commands import LouzhangCommand
from louzhang.demo.services import credentials_file, demo_load


class Command(LouzhangCommand):
    help = "Load the demo city (idempotent) and print the demo log-ins."

    def arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", choices=["small", "city"], default="small",
                            help="city: a Baotou-sized synthetic city through the import path")
        parser.add_argument("--residents", type=int, default=1_000_000, help="--scale city: residents")
        parser.add_argument("--compounds", type=int, default=1_000, help="--scale city: compounds")
        parser.add_argument("--vehicles", type=int, default=300_000, help="--scale city: vehicles")
        parser.add_argument("--wardens", type=int, default=4_500, help="--scale city: wardens")

    def handle(self, *args: Any, **options: Any) -> None:
        result = demo_load(history=True)
        if options["scale"] == "city":
            self._city(options)
        created = ", ".join(f"{n} {what}" for what, n in result.created.items())
        self.stdout.write(f"demo city loaded; created: {created}")
        self.stdout.write(f"demo log-ins (kept in {credentials_file()}):")
        for username, password in result.logins.items():
            shown = password or "(password changed since the demo was loaded; not shown)"
            self.stdout.write(f"  {result.roles[username]:<11} {username:<12} {shown}")

    def _city(self, options: dict[str, Any]) -> None:
        from louzhang.demo.city_scale import CityScale, city_build

        scale = CityScale(compounds=options["compounds"], residents=options["residents"],
                          vehicles=options["vehicles"], wardens=options["wardens"])
        for name in ("compounds", "residents", "vehicles", "wardens"):
            if getattr(scale, name) < 1:
                raise CommandError(f"--{name} must be at least 1")
        if scale.residents > scale.compounds * 720 * 3:
            raise CommandError(f"--residents: at most {scale.compounds * 720 * 3:,} for "
                               f"{scale.compounds:,} compounds (720 households each, 1–3 people)")
        bar = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            bar = tqdm(unit=" rows", file=sys.stderr)
        try:
            report = city_build(scale, say=self.stdout.write, progress=bar.update if bar else None)
        finally:
            if bar is not None:
                bar.close()
        total = sum(report.seconds.values())
        self.stdout.write(f"city-scale demo ready: {report.counts['residents']:,} residents, "
                          f"{report.counts['vehicles']:,} vehicles in {total:.0f} s")
