"""Typed readers for settings that come from the environment.

Every reader fails loudly, naming the variable, when a value cannot be used: an operator who
mistypes ``DEBUG=ture`` must learn it at start-up, not from odd behaviour later. A secret may
also be given as ``NAME_FILE`` pointing at a file that holds it (Docker/systemd credentials).
"""

from __future__ import annotations

import os
import secrets
import tempfile
import time
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


def create_secret_file(path: Path, content: str) -> None:
    """A new file at `path` holding `content`, readable by its owner only, unless one appears
    there first. It appears whole or not at all: written to a temporary file beside it and
    hard-linked into place, which fails when another process got there first — so processes
    starting at once (a server beside a worker) all end up with the one file that won."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            os.fchmod(f.fileno(), 0o600)
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process made it first: theirs is the one
        except OSError:  # a file system without hard links: create it exclusively instead
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "w", encoding="ascii") as f:
                    f.write(content)
                    f.flush()
                    os.fsync(f.fileno())
    finally:
        os.unlink(temporary)


def secret_key_kept_in(path: Path) -> str:
    """The secret key kept in `path`, made there on first use.

    The file appears whole or not at all: the key is written to a temporary file beside it and
    hard-linked into place, which fails when another process got there first — so processes
    starting at once (a server beside a worker) all end up with the one key that won. A file
    found empty or short is an error, never a key.
    """
    if not path.exists():
        create_secret_file(path, secrets.token_urlsafe(50))
    key = ""
    for _attempt in range(20):  # made by another process this instant (the fallback above)
        try:
            key = path.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigurationError(f"secret key file {path}: cannot read: {exc}") from exc
        if len(key) >= 32:
            break
        time.sleep(0.1)
    if len(key) < 32:
        raise ConfigurationError(
            f"secret key file {path}: holds {'nothing' if not key else 'a key too short'}; "
            "delete it to have a new key made (signed-in users will have to log in again), "
            "or set SECRET_KEY")
    return key
