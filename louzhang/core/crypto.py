"""Secrets kept in the database encrypted with a key kept outside it (the data key).

What a stolen database file or a backup would otherwise give away — a WeCom robot's address
(it carries the robot key), a DingTalk or Feishu signing secret, a gateway's shared secret — is
stored as ``fernet:<token>`` (Fernet: AES-128-CBC with an HMAC-SHA256, from `cryptography`).

The key (a Fernet key: 32 random bytes, URL-safe base64) comes from

* ``LOUZHANG_DATA_KEY`` in the environment (several keys separated by commas while rotating:
  the first encrypts, every one decrypts), or else
* the key file ``LOUZHANG_DATA_KEY_FILE``, by default ``<LOUZHANG_VAR_DIR>/data.key`` (one key a
  line, the first encrypts), made on first need — never while encrypted values are stored,
  since a new key could not read them: then the error names the missing file and the settings.

The key file is read again whenever it changes (`louzhang keys rotate` rewrites it while the
server and the worker run). A rotation moves the old keys to ``<key file>.retired`` (one key a
line): they decrypt, never encrypt, so a backup made before the rotation still reads; delete that
file once no such backup is kept. Backups of the database do not hold the keys: they are backed
up separately (README, "Secrets at rest").

Stored values are decrypted only when they are used (`reveal`, `Channel.plain_url()`): loading a
row never needs the key, so a missing or wrong key stops the deliveries (which wait, saying
why) and nothing else.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core import checks
from django.db import DatabaseError, connection, models

from louzhang.env import create_secret_file

#: what an encrypted value begins with in its column
PREFIX = "fernet:"
KEY_VARIABLE = "LOUZHANG_DATA_KEY"
FILE_VARIABLE = "LOUZHANG_DATA_KEY_FILE"


class DataKeyError(Exception):
    """The data key is missing, unreadable or not the one the stored secrets were encrypted
    with; the message says where the key was looked for and which setting to change."""


# --- where the key lives ---------------------------------------------------------------------


@dataclass(frozen=True)
class KeySource:
    #: the keys given in LOUZHANG_DATA_KEY (empty: the key file is used)
    given: tuple[str, ...]
    path: Path

    @property
    def from_environment(self) -> bool:
        return bool(self.given)

    def describe(self) -> str:
        if self.given:
            return f"the key in {KEY_VARIABLE}"
        return f"the key file {self.path} ({FILE_VARIABLE})"


def key_source() -> KeySource:
    """Where the data key is, as the settings (or, before they name it, the environment) say."""
    given = str(getattr(settings, KEY_VARIABLE, None) or os.environ.get(KEY_VARIABLE) or "")
    file_name = getattr(settings, FILE_VARIABLE, None) or os.environ.get(FILE_VARIABLE)
    path = Path(file_name) if file_name else Path(settings.VAR_DIR) / "data.key"
    return KeySource(tuple(k.strip() for k in given.replace("\n", ",").split(",") if k.strip()), path)


def retired_path(path: Path) -> Path:
    """The file of retired keys beside the key file `path`: decrypt-only."""
    return path.with_name(path.name + ".retired")


def new_key() -> str:
    return Fernet.generate_key().decode("ascii")


def _parse(keys: tuple[str, ...] | list[str], where: str) -> MultiFernet:
    if not keys:
        raise DataKeyError(f"{where}: holds no key")
    try:
        return MultiFernet([Fernet(k.encode("ascii")) for k in keys])
    except (ValueError, UnicodeEncodeError):
        raise DataKeyError(
            f"{where}: not a data key (a key is 44 characters of URL-safe base64, as "
            "`louzhang keys new` prints)") from None


def read_key_file(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataKeyError(f"the key file {path} ({FILE_VARIABLE}): cannot read: {exc}") from exc
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def write_key_file(path: Path, keys: list[str]) -> None:
    """Replace the key file whole (a temporary file renamed over it, mode 0600, synced): a
    crash leaves the old file or the new one, never a part of either."""
    fd, temporary = tempfile.mkstemp(prefix=".data_key.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            os.fchmod(f.fileno(), 0o600)
            f.write("".join(f"{k}\n" for k in keys))
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _sync_directory(path.parent)


def _sync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _make_key_file(path: Path) -> None:
    """A new key file at `path`, unless one appears there first (theirs is the key then)."""
    create_secret_file(path, new_key() + "\n")
    _sync_directory(path.parent)


# --- the cipher ------------------------------------------------------------------------------

_lock = threading.Lock()
_cached: tuple[Any, MultiFernet] | None = None


def _file_version(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def cipher(*, create: bool = True) -> MultiFernet:
    """The data key(s) as a cipher: the first key encrypts, every key decrypts.

    A missing key file is made (`create`) only when no encrypted value is stored."""
    global _cached
    source = key_source()
    if source.from_environment:
        version: Any = ("env", source.given)
    else:
        version = ("file", str(source.path), _file_version(source.path),
                   _file_version(retired_path(source.path)))
    cached = _cached
    if cached is not None and cached[0] == version:
        return cached[1]
    with _lock:
        if source.from_environment:
            made = _parse(source.given, KEY_VARIABLE)
        else:
            path = source.path
            if version[2] is None:
                stored = encrypted_values_stored()
                if stored or not create:
                    raise DataKeyError(
                        f"the key file {path} is missing, but {stored} encrypted secrets are stored "
                        f"in the database: put the key file back (from where it was backed up), or "
                        f"point {FILE_VARIABLE} at it, or give the key in {KEY_VARIABLE}"
                        if stored else f"the key file {path} is missing ({FILE_VARIABLE})")
                _make_key_file(path)
                version = ("file", str(path), _file_version(path), version[3])
            keys: list[str] = []
            for _attempt in range(20):  # made by another process this instant (the fallback)
                keys = read_key_file(path)
                if keys:
                    break
                time.sleep(0.1)
            made = _parse(keys + _retired_keys(path), f"the key file {path} ({FILE_VARIABLE})")
        _cached = (version, made)
        return made


def _retired_keys(path: Path) -> list[str]:
    """The retired keys kept beside the key file (after the active ones: they never encrypt)."""
    retired = retired_path(path)
    if not retired.exists():
        return []
    return read_key_file(retired)


def forget_key() -> None:
    """Read the key again on next use (after the settings changed, in tests)."""
    global _cached
    _cached = None


def encrypt(text: str) -> str:
    return PREFIX + cipher().encrypt(text.encode("utf-8")).decode("ascii")


def decrypt(stored: str) -> str:
    """The plain text of a stored value; a value stored before encryption is returned as is."""
    if not stored.startswith(PREFIX):
        return stored
    token = stored[len(PREFIX):].encode("ascii")
    try:
        return cipher(create=False).decrypt(token).decode("utf-8")
    except InvalidToken:
        pass
    forget_key()  # the file may have changed this instant (a rotation): once more, fresh
    try:
        return cipher(create=False).decrypt(token).decode("utf-8")
    except InvalidToken:
        raise DataKeyError(
            f"the stored secrets cannot be read with {key_source().describe()}: not the key they "
            f"were encrypted with; restore the right key file, or set {FILE_VARIABLE} or "
            f"{KEY_VARIABLE} to it") from None


# --- the field -------------------------------------------------------------------------------


def reveal(value: str | None) -> str:
    """The plain text of an `EncryptedTextField`'s value, as loaded (``fernet:…``) or as
    assigned (plain); raises `DataKeyError` when no key at hand reads it."""
    return decrypt(value) if value else ""


def is_readable(value: str | None) -> bool:
    """Whether `reveal(value)` would succeed."""
    try:
        reveal(value)
    except DataKeyError:
        return False
    return True


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]
    """Text stored encrypted with the data key. Loading a row does NOT decrypt: the attribute
    holds the stored ``fernet:…`` value, and `reveal` gives the plain text where it is used
    (a delivery), so nothing else can fail on a missing or wrong key. A plain value assigned is
    encrypted when saved; a stored value saved again is kept as it is. An empty value is stored
    empty. It cannot be searched: only `isnull` lookups are allowed."""

    description = "Text encrypted at rest with the data key"

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "" or str(value).startswith(PREFIX):
            return value
        return encrypt(str(value))

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name != "isnull":
            return None  # Django then says "Unsupported lookup"
        return super().get_lookup(lookup_name)


@dataclass(frozen=True)
class Column:
    label: str
    table: str
    pk: str
    name: str

    def sql(self, text: str) -> str:
        """`text` with {table}, {pk} and {column} quoted for the database."""
        quote = connection.ops.quote_name
        return text.format(table=quote(self.table), pk=quote(self.pk), column=quote(self.name))


def encrypted_columns() -> Iterator[Column]:
    """Every `EncryptedTextField` of an installed model whose table exists."""
    from django.apps import apps

    tables = set(connection.introspection.table_names())
    for model in apps.get_models():
        if model._meta.db_table not in tables:
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedTextField):
                yield Column(model._meta.label, model._meta.db_table, model._meta.pk.column,
                             field.column)


def encrypted_values_stored() -> int:
    """How many encrypted values the database holds (0 before the tables exist)."""
    total = 0
    for column in encrypted_columns():
        with connection.cursor() as cursor:
            cursor.execute(column.sql("SELECT COUNT(*) FROM {table} WHERE {column} LIKE %s"),
                           [PREFIX + "%"])
            row = cursor.fetchone()
            total += int(row[0]) if row else 0
    return total


# --- re-encrypting (rotation) ----------------------------------------------------------------


@dataclass
class Resealed:
    columns: int = 0
    values: int = 0
    #: plain values found (stored before encryption) and encrypted now
    sealed: int = 0
    #: values none of the keys could read (left as they were)
    unreadable: int = 0
    #: values a running process wrote with the old key while the rotation ran (re-encrypted)
    late: int = 0


def reseal(using: MultiFernet, *, batch: int = 500,
           progress: Callable[[str], None] | None = None) -> Resealed:
    """Re-encrypt every stored secret with the first key of `using` (which must read them all),
    and encrypt any stored in plain. Row by row with a conditional update, so a value changed
    meanwhile is not overwritten and an interrupted run can simply be run again."""
    result = Resealed()
    for column in encrypted_columns():
        result.columns += 1
        last: Any = None
        while True:
            sql = "SELECT {pk}, {column} FROM {table} WHERE {column} <> ''"
            params: list[Any] = []
            if last is not None:
                sql += " AND {pk} > %s"
                params.append(last)
            with connection.cursor() as cursor:
                cursor.execute(column.sql(sql + f" ORDER BY {{pk}} LIMIT {int(batch)}"), params)
                rows = cursor.fetchall()
            if not rows:
                break
            for pk, stored in rows:
                last = pk
                if stored is None:
                    continue
                if stored.startswith(PREFIX):
                    try:
                        fresh = using.rotate(stored[len(PREFIX):].encode("ascii"))
                    except InvalidToken:
                        result.unreadable += 1
                        continue
                else:
                    fresh = using.encrypt(stored.encode("utf-8"))
                    result.sealed += 1
                with connection.cursor() as cursor:
                    cursor.execute(
                        column.sql("UPDATE {table} SET {column} = %s WHERE {pk} = %s AND {column} = %s"),
                        [PREFIX + fresh.decode("ascii"), pk, stored])
                result.values += 1
        if progress:
            progress(f"{column.label}.{column.name}: re-encrypted")
    return result


def unreadable_with(reader: MultiFernet) -> int:
    """How many stored encrypted values `reader` cannot decrypt."""
    failed = 0
    for column in encrypted_columns():
        with connection.cursor() as cursor:
            cursor.execute(column.sql("SELECT {column} FROM {table} WHERE {column} LIKE %s"),
                           [PREFIX + "%"])
            for (stored,) in cursor.fetchall():
                try:
                    reader.decrypt(stored[len(PREFIX):].encode("ascii"))
                except InvalidToken:
                    failed += 1
    return failed


def rotate(*, progress: Callable[[str], None] | None = None, grace_seconds: float = 2.0) -> Resealed:
    """Encrypt every stored secret with a new key (the key file), crash-safe:

    1. the new key is written in front of the old ones (both read everything meanwhile);
    2. every value is re-encrypted with it;
    3. once none needs an old key, the old keys move to `<key file>.retired` (decrypt-only: a
       backup made before the rotation still reads) and the key file keeps the new key alone;
       a last pass re-encrypts anything a running process wrote with an old key meanwhile.

    Interrupted anywhere, the file still holds every key some value needs: run it again.
    With the key in `LOUZHANG_DATA_KEY` (several keys, new first) it does step 2 and says to
    remove the old keys from the environment."""
    source = key_source()
    if source.from_environment:
        if len(source.given) < 2:
            raise DataKeyError(
                f"the data key comes from {KEY_VARIABLE}, which rotation cannot rewrite: put a "
                f"new key in front of it ({KEY_VARIABLE}=NEW,OLD — `louzhang keys new` prints "
                "one) for every Louzhang process, run `louzhang keys rotate`, then keep NEW alone")
        using = _parse(source.given, KEY_VARIABLE)
        result = reseal(using, progress=progress)
        if result.unreadable:
            raise DataKeyError(f"{result.unreadable} stored secrets could be read with none of "
                               f"the keys in {KEY_VARIABLE}; nothing else is wrong")
        return result
    old = read_key_file(source.path) if source.path.exists() else []
    if not old and encrypted_values_stored():
        cipher()  # raises: the key file is missing while encrypted values are stored
    fresh = new_key()
    write_key_file(source.path, [fresh, *old])  # step 1
    forget_key()
    using = _parse([fresh, *old, *_retired_keys(source.path)], f"the key file {source.path}")
    result = reseal(using, progress=progress)  # step 2
    if result.unreadable or unreadable_with(_parse([fresh], "the new key")):
        raise DataKeyError(
            f"{result.unreadable} stored secrets could be read with none of the keys in "
            f"{source.path}; the file keeps every key (new first) until they can")
    # step 3: the old keys retired (decrypt-only, for backups made before now), then the file
    # keeps the new key alone; the retired file is written first, so a crash between the two
    # leaves every key somewhere
    retired = retired_path(source.path)
    kept = read_key_file(retired) if retired.exists() else []
    write_key_file(retired, [*old, *(k for k in kept if k not in old)])
    write_key_file(source.path, [fresh])
    forget_key()
    if grace_seconds:
        time.sleep(grace_seconds)
    result.late = unreadable_with(_parse([fresh], "the new key"))
    if result.late:
        reseal(using)
    return result


# --- the start-up check ----------------------------------------------------------------------


@checks.register(checks.Tags.security)
def check_data_key(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Every command (`serve`, `worker` …) warns at start when a stored secret cannot be read:
    a missing or wrong key is said at once, naming the setting, instead of on the first
    delivery. A warning, not an error: the product runs, only the deliveries on the channels
    concerned wait (`louzhang keys check` lists them; `louzhang keys forget-unreadable` gives
    them up). Every stored value is tried (channels are few)."""
    try:
        stored = encrypted_values_stored()
    except DatabaseError:  # no database yet, or not reachable: the commands say so themselves
        return []
    if not stored:
        return []
    advice = ("deliveries on the channels concerned wait; `louzhang keys check` lists them, "
              "`louzhang keys forget-unreadable` switches them off")
    try:
        failed = unreadable_with(cipher(create=False))
    except DataKeyError as exc:
        return [checks.Warning(f"{exc}; {advice}", id="louzhang.W101")]
    if failed:
        return [checks.Warning(
            f"{failed} of {stored} stored secrets cannot be read with {key_source().describe()} "
            f"(nor a retired key): not the key they were encrypted with; restore the right key "
            f"file, or set {FILE_VARIABLE} or {KEY_VARIABLE} to it; {advice}", id="louzhang.W102")]
    return []


# --- giving up what no key reads -------------------------------------------------------------


@dataclass(frozen=True)
class Forgotten:
    label: str
    pk: Any
    column: str
    #: the row's `name`, where it has one (a channel's)
    name: str
    #: whether the row is switched off with it (it has `is_active`)
    switched_off: bool
    #: the value as read (blanked only if still the same)
    stored: str


def unreadable_values() -> list[Forgotten]:
    """Every stored encrypted value no key at hand reads (all of them when there is no key)."""
    from django.apps import apps

    try:
        reader: MultiFernet | None = cipher(create=False)
    except DataKeyError:
        reader = None
    found: list[Forgotten] = []
    for column in encrypted_columns():
        model = apps.get_model(column.label)
        names = {f.column for f in model._meta.concrete_fields}
        named = "name" in names
        with connection.cursor() as cursor:
            cursor.execute(column.sql("SELECT {pk}, {column} FROM {table} WHERE {column} LIKE %s "
                                      "ORDER BY {pk}"), [PREFIX + "%"])
            rows = cursor.fetchall()
        labels = (dict(model._default_manager.filter(pk__in=[r[0] for r in rows])
                       .values_list("pk", "name")) if named and rows else {})
        for row in rows:
            pk, stored = row[0], str(row[1])
            if reader is not None:
                try:
                    reader.decrypt(stored[len(PREFIX):].encode("ascii"))
                    continue
                except InvalidToken:
                    pass
            found.append(Forgotten(column.label, pk, column.name, str(labels.get(pk, "")),
                                   "is_active" in names, stored))
    return found


def forget_unreadable() -> list[Forgotten]:
    """Blank every stored value no key reads, and switch its row off (a channel's
    `is_active`), in one transaction; the value is compared as it was read, so one written
    meanwhile (readable) is kept. Returns what was given up."""
    from django.apps import apps
    from django.db import transaction

    forgotten = unreadable_values()
    done: list[Forgotten] = []
    with transaction.atomic():
        for item in forgotten:
            model = apps.get_model(item.label)
            column = Column(item.label, model._meta.db_table, model._meta.pk.column, item.column)
            with connection.cursor() as cursor:
                cursor.execute(column.sql("UPDATE {table} SET {column} = '' WHERE {pk} = %s AND {column} = %s"),
                               [item.pk, item.stored])
                changed = cursor.rowcount
            if changed and item.switched_off:
                model._default_manager.filter(pk=item.pk).update(is_active=False)
            if changed:
                done.append(item)
    return done
