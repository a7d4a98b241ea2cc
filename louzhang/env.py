"""Typed readers for settings that come from the environment.

Every reader fails loudly, naming the variable, when a value cannot be used: an operator who
mistypes ``DEBUG=ture`` must learn it at start-up, not from odd behaviour later. A secret may
also be given as ``NAME_FILE`` pointing at a file that holds it (Docker/systemd credentials).
"""

from __future__ import annotations

import os
from pathlib import Path


class ConfigurationError(Exception):
    """An environment variable holds a value Louzhang cannot use."""


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str | None:
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigurationError(f"{name}_FILE={file_name}: cannot read: {exc.strerror}") from exc
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigurationError(f"{name}={raw!r}: expected one of 1/0, true/false, yes/no, on/off")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"{name}={raw!r}: expected a whole number") from None
    if minimum is not None and value < minimum:
        raise ConfigurationError(f"{name}={raw!r}: must be at least {minimum}")
    return value


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigurationError(f"{name}={raw!r}: expected a number") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_int_list(name: str, default: list[int]) -> list[int]:
    """Comma-separated whole numbers, rising (e.g. escalation steps "60,240")."""
    items = env_list(name, [str(v) for v in default])
    try:
        values = [int(item) for item in items]
    except ValueError:
        raise ConfigurationError(f"{name}={','.join(items)!r}: expected whole numbers separated by commas") from None
    if any(v < 0 for v in values) or values != sorted(values):
        raise ConfigurationError(f"{name}={','.join(items)!r}: expected rising numbers, none below 0")
    return values
