from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import CommandError, CommandParser

from louzhang.accounts.models import Role
from louzhang.accounts.services import AccountError, user_create
from louzhang.core.commands import LouzhangCommand


class Command(LouzhangCommand):
    help = "Manage users: `louzhang user create USERNAME --role ROLE --area CODE [--area CODE …]`."

    def arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="create")
        create = sub.add_parser("create", help="create a user with a role over one or more areas")
        create.add_argument("username")
        create.add_argument("--role", required=True, choices=Role.values)
        create.add_argument(
            "--area", action="append", required=True, dest="areas", metavar="CODE",
            help="area code (or police unit code); repeat for several",
        )
        create.add_argument("--name", default="", help="display name, e.g. 张伟")
        create.add_argument("--phone", default="")
        create.add_argument(
            "--password-stdin", action="store_true",
            help="read the password from standard input (else the user cannot log in by password)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        password = None
        if options["password_stdin"]:
            password = sys.stdin.readline().rstrip("\r\n")
            if not password:
                raise CommandError("--password-stdin: no password on standard input")
        try:
            user = user_create(
                username=options["username"], role=options["role"], area_codes=options["areas"],
                password=password, display_name=options["name"], phone=options["phone"],
            )
        except AccountError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"created user {user.username} ({options['role']}: {', '.join(options['areas'])})")
