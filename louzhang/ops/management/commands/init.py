from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.staticfiles.finders import get_finders
from django.core.management import call_command
from django.db import connection

from louzhang.core.commands import LouzhangCommand

#: in STATIC_ROOT: the digest of the static sources it was last collected from
STAMP = ".louzhang-collected"


class Command(LouzhangCommand):
    help = "Create or migrate the database named by DATABASE_URL and collect static files."

    def handle(self, *args: Any, **options: Any) -> None:
        verbosity = options["verbosity"]
        call_command("migrate", interactive=False, verbosity=max(verbosity - 1, 0))
        collected = _collect_static()
        # fresh planner statistics: SQLite has none until ANALYZE, and without them it may prefer
        # a poor index for jurisdiction queries
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        if verbosity:
            self.stdout.write(
                f"louzhang: database ready ({connection.vendor}: {connection.settings_dict['NAME']}); "
                f"static files {'collected' if collected else 'already up to date'} in {settings.STATIC_ROOT}"
            )


def _collect_static() -> bool:
    """Collect (and compress) the static files unless STATIC_ROOT already holds exactly these
    sources: compressing every file again takes half a minute of CPU on every `init`."""
    root = Path(settings.STATIC_ROOT)
    stamp = root / STAMP
    digest = _sources_digest()
    try:
        if stamp.read_text() == digest:
            return False
    except OSError:
        pass
    call_command("collectstatic", interactive=False, verbosity=0)
    temporary = root / f"{STAMP}.{os.getpid()}"
    temporary.write_text(digest)
    temporary.replace(stamp)
    return True


def _sources_digest() -> str:
    """Every static source file (path, size, modification time) and how they are stored."""
    h = hashlib.sha256(settings.STORAGES["staticfiles"]["BACKEND"].encode())
    for finder in get_finders():
        for path, storage in finder.list([]):
            info = os.stat(storage.path(path))
            h.update(f"\0{path}\0{info.st_size}\0{info.st_mtime_ns}".encode())
    return h.hexdigest()
