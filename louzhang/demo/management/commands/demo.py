from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from louzhang.core.commands import LouzhangCommand
from louzhang.demo.services import credentials_file, demo_load


class Command(LouzhangCommand):
    help = "Load the demo city (idempotent) and print the demo log-ins."

    def arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", choices=["small", "city"], default="small")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["scale"] == "city":
            raise CommandError(
                "--scale city is not available yet: it arrives with the registry import "
                "(it generates a Baotou-sized city through the import path)"
            )
        result = demo_load()
        created = ", ".join(f"{n} {what}" for what, n in result.created.items())
        self.stdout.write(f"demo city loaded; created: {created}")
        self.stdout.write(f"demo log-ins (kept in {credentials_file()}):")
        for username, password in result.logins.items():
            shown = password or "(password changed since the demo was loaded; not shown)"
            self.stdout.write(f"  {result.roles[username]:<11} {username:<12} {shown}")
