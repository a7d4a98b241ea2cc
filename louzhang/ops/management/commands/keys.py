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
    forget_unreadable,
    key_source,
    new_key,
    retired_path,
    rotate,
    unreadable_values,
)


class Command(LouzhangCommand):
    """The data key that encrypts channel secrets at rest (`louzhang.core.crypto`)."""

    help = ("The data key: `louzhang keys check` (where it is; can every stored secret be read?), "
            "`louzhang keys rotate` (re-encrypt every stored secret with a new key), "
            "`louzhang keys new` (print a new key, for LOUZHANG_DATA_KEY), "
            "`louzhang keys forget-unreadable --yes` (blank the secrets no key reads and switch "
            "their channels off).")
    # `check` must run when the key is wrong: the start-up check would refuse it
    requires_system_checks: list[str] = []  # type: ignore[assignment]

    def arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True,
                                    metavar="check|rotate|new|forget-unreadable")
        sub.add_parser("check", help="where the key is and whether every stored secret can be read")
        sub.add_parser("rotate", help="re-encrypt every stored secret with a new key")
        sub.add_parser("new", help="print a new key (to give in LOUZHANG_DATA_KEY)")
        forget = sub.add_parser(
            "forget-unreadable",
            help="blank every stored secret no key reads and switch its channel off (without "
                 "--yes: only say which)")
        forget.add_argument("--yes", action="store_true", help="do it")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            action = str(options["action"]).replace("-", "_")
            if action == "forget_unreadable":
                self._forget_unreadable(yes=bool(options.get("yes")))
            else:
                getattr(self, f"_{action}")()
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
        if not source.from_environment and retired_path(source.path).exists():
            self.stdout.write(f"retired keys (decrypt only): {retired_path(source.path)}")
        cipher(create=False)  # a missing key file or a malformed key: said as such
        unreadable = unreadable_values()
        if unreadable:
            for item in unreadable:
                self.stdout.write(f"cannot be read: {_describe(item)}")
            raise CommandError(f"{len(unreadable)} of {stored} stored secrets cannot be read with "
                               f"{source.describe()}: not the key they were encrypted with "
                               "(put the right key back, or `louzhang keys forget-unreadable`)")
        self.stdout.write("every stored secret can be read")

    def _forget_unreadable(self, *, yes: bool) -> None:
        source = key_source()
        found = unreadable_values()
        if not found:
            self.stdout.write(f"every stored secret can be read with {source.describe()}: "
                              "nothing to forget")
            return
        for item in found:
            self.stdout.write(f"{'forgetting' if yes else 'would forget'}: {_describe(item)}")
        if not yes:
            self.stdout.write(f"{len(found)} stored secrets cannot be read with {source.describe()}; "
                              "run again with --yes to blank them and switch their channels off "
                              "(add the channels again with their addresses)")
            return
        done = forget_unreadable()
        names = sorted({item.name or f"{item.label} {item.pk}" for item in done})
        audit_record(actor=None, action="change", object_type="core.data_key",
                     summary=f"secrets no key reads forgotten: {len(done)} values, "
                             f"{len(names)} channels switched off",
                     detail={"forgotten": [_describe(item) for item in done], "switched_off": names})
        self.stdout.write(f"{len(done)} unreadable secrets blanked; switched off: {', '.join(names)}")

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
            self.stdout.write(f"the old keys are kept, decrypt only, in {retired_path(source.path)} "
                              "for backups made before now; delete it once none is kept")


def _describe(item: Any) -> str:
    what = f"{item.label} {item.pk}" + (f" ({item.name})" if item.name else "")
    return f"{what}, {item.column}"
