from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from louzhang.accounts.models import ApiToken, User
from louzhang.accounts.services import AccountError, token_create, token_revoke
from louzhang.core.commands import LouzhangCommand


class Command(LouzhangCommand):
    help = "API tokens: `louzhang token create USERNAME` prints a new token and nothing else."

    def arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="create|list|revoke")
        create = sub.add_parser("create", help="print a new API token for USERNAME")
        create.add_argument("username")
        create.add_argument("--name", default="", help="what the token is for (e.g. gate kiosk 东门)")
        listing = sub.add_parser("list", help="list a user's tokens (prefix, created, last used)")
        listing.add_argument("username")
        revoke = sub.add_parser("revoke", help="revoke a token by its prefix")
        revoke.add_argument("prefix")

    def _user(self, username: str) -> User:
        try:
            return User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"unknown user {username!r}") from None

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "create":
            try:
                _, plain = token_create(user=self._user(options["username"]), name=options["name"])
            except AccountError as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(plain)
        elif action == "list":
            for token in self._user(options["username"]).api_tokens.order_by("created_at"):
                state = "revoked" if token.revoked_at else "active"
                used = token.last_used_at.isoformat() if token.last_used_at else "never"
                self.stdout.write(f"{token.prefix}\t{state}\t{token.created_at.isoformat()}\t{used}\t{token.name}")
        else:
            tokens = list(ApiToken.objects.filter(prefix=options["prefix"]).select_related("user"))
            if len(tokens) != 1:
                raise CommandError(f"no single token with prefix {options['prefix']!r}")
            if not token_revoke(token=tokens[0]):
                raise CommandError(f"token {tokens[0].prefix} was already revoked")
            self.stdout.write(f"revoked {tokens[0].prefix}")
