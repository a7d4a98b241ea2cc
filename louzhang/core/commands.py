"""Base for `louzhang` commands: a bad argument is one clear line and a non-zero exit."""

from __future__ import annotations

import sys
from typing import NoReturn

from django.core.management.base import BaseCommand, CommandError, CommandParser


class OneLineParser(CommandParser):
    """argparse prints the whole usage block on error; an operator needs the one line that matters."""

    def error(self, message: str) -> NoReturn:
        if self.called_from_command_line:
            sys.stderr.write(f"{self.prog}: error: {message}\n")
            sys.exit(2)
        raise CommandError(f"Error: {message}")


class LouzhangCommand(BaseCommand):
    """Commands add their arguments in `arguments()`; sub-parsers inherit the one-line errors."""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.__class__ = OneLineParser
        self.arguments(parser)

    def arguments(self, parser: CommandParser) -> None:
        """Override to declare the command's arguments."""
