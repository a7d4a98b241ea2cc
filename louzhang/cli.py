"""The `louzhang` command: one entry point for everything an operator does (see API.md)."""

from __future__ import annotations

import os
import sys

USAGE = """usage: louzhang COMMAND [options]

  init                          create or migrate the database (DATABASE_URL; default SQLite under var/)
  demo [--scale small|city]     load the demo city (idempotent) and print the demo log-ins
  serve [--host H] [--port P]   run the web app and API (gunicorn, several workers)
  user create USERNAME --role ROLE --area CODE [--area CODE ...] [--password-stdin]
  token create USERNAME         print a new API token on stdout
  token list USERNAME | token revoke PREFIX
  import residents|vehicles|officers FILE [--rejects PATH] [--json]
  channel add NAME --kind KIND --url URL --area CODE [--role ROLE ...]
  response set AREA_CODE --level 1|2|3|0 [--due-hours H] | response list
  report daily [--date D] [--area CODE|station:CODE] -o FILE.xlsx   write the daily report (日报)
  stats rebuild [--date D | --from D --to D]   roll the figures of past days up again
  worker                        run background tasks (deliveries, imports, reports, sweeps, figures)
  backup -o FILE [--json]       a consistent copy of the whole database while it runs
  restore FILE [--json]         restore a backup into an empty database

`louzhang COMMAND --help` for a command's options; `louzhang help --all` lists every command.
"""


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "louzhang.settings")
    if not args or args[0] in {"-h", "--help"} or args == ["help"]:
        sys.stdout.write(USAGE)
        return
    if args[:2] == ["help", "--all"]:
        args = ["help"]
    from louzhang.env import ConfigurationError

    try:
        from django.core.management import execute_from_command_line

        execute_from_command_line(["louzhang", *args])
    except ConfigurationError as exc:
        sys.stderr.write(f"louzhang: configuration error: {exc}\n")
        sys.exit(2)


if __name__ == "__main__":
    main()
