from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.db import connection

from louzhang.audit.services import audit_record
from louzhang.core.commands import LouzhangCommand
from louzhang.core.crypto import (
    PREFIX,
    DataKeyError,
    cipher,
    encrypted_columns,
    encrypted_values_stored,
    key_source,
    new_key,
    rotate,
    unreadable_with,
)


class Command(LouzhangCommand):
    """The data key that encrypts channel secrets at rest (`louzhang.core.crypto`)."""

    help = ("The data key: `louzhang keys check` (where it is; can every stored secret be read?), "
            "`louzhang keys rotate` (re-encrypt every stored secret with a new key), "
            "`louzhang keys new` (print a new key, for LOUZHANG_DATA_KEY).")
    # `check` must run when the key is wrong: the start-up check would refuse it
    requires_system_checks: list[str] = []  # type: ignore[assignment]

    def arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="check|rotate|new")
        sub.add_parser("check", help="where the key is and whether every stored secret can be read")
        sub.add_parser("rotate", help="re-encrypt every stored secret with a new key")
        sub.add_parser("new", help="print a new key (to give in LOUZHANG_DATA_KEY)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"_{options['action']}")()
        except DataKeyError as exc:
            raise CommandError(str(exc)) from None
        except OSError as exc:  # the key file's directory not writable, a full disk …
            raise CommandError(f"the key file {key_source().path}: {exc}") from None

    def _new(self) -> None:
        self.stdout.write(new_key())

    def _check(self) -> None:
        source = key_source()
        self.stdout.write(f"data key: {source.describe()}")
        stored = encrypted_values_stored()
        plain = 0
        for column in encrypted_columns():
            with connection.cursor() as cursor:
                cursor.execute(column.sql("SELECT COUNT(*) FROM {table} WHERE {column} <> '' "
                                          "AND {column} NOT LIKE %s"), [PREFIX + "%"])
                row = cursor.fetchone()
            plain += int(row[0]) if row else 0
        self.stdout.write(f"encrypted secrets stored: {stored}")
        if plain:
            self.stdout.write(f"secrets stored in plain: {plain} (`louzhang keys rotate` encrypts them)")
        if not stored:
            return
        unreadable = unreadable_with(cipher(create=False))
        if unreadable:
            raise CommandError(f"{unreadable} of {stored} stored secrets cannot be read with "
                               f"{source.describe()}: not the key they were encrypted with")
        self.stdout.write("every stored secret can be read")

    def _rotate(self) -> None:
        result = rotate(progress=self.stdout.write)
        source = key_source()
        audit_record(actor=None, action="change", object_type="core.data_key",
                     summary=f"data key rotated: {result.values} secrets re-encrypted")
        self.stdout.write(f"{result.values} secrets re-encrypted with a new key "
                          f"({result.sealed} of them were stored in plain)")
        if source.from_environment:
            self.stdout.write("every secret is now under the first key of LOUZHANG_DATA_KEY: "
                              "remove the other keys from it for every Louzhang process")
        else:
            self.stdout.write(f"the key file {source.path} holds the new key alone; back it up "
                              "again (backups of the database do not hold it)")
