from __future__ import annotations

import multiprocessing
import threading
import time
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from louzhang.core.commands import LouzhangCommand
from louzhang.env import env_int

WORKER_CHECK_SECONDS = 60


def _warn_without_worker(write: Any) -> bool:
    """Say so when no `louzhang worker` has been seen lately: nothing would be delivered."""
    from louzhang.worker.recovery import worker_seen_recently

    seen = worker_seen_recently()
    if not seen:
        write("louzhang: WARNING no background worker seen in the last minute: notifications, "
              "escalations and imports wait until `louzhang worker` runs")
    return seen


def _watch_worker() -> None:
    """In the server's master process, check every minute and warn while no worker runs."""
    import sys

    def watch() -> None:
        while True:
            time.sleep(WORKER_CHECK_SECONDS)
            try:
                _warn_without_worker(lambda line: print(line, file=sys.stderr, flush=True))
            except Exception as exc:  # the database may be restarting; say so and go on
                print(f"louzhang: could not check for a worker: {exc}", file=sys.stderr, flush=True)
            finally:
                connection.close()

    threading.Thread(target=watch, name="louzhang-worker-watch", daemon=True).start()


class Command(LouzhangCommand):
    help = "Run the web app and API with gunicorn (several workers, static files served by the app)."

    def arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
        parser.add_argument("--port", type=int, default=8000, help="port to listen on")
        parser.add_argument(
            "--workers", type=int,
            default=env_int("LOUZHANG_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 9), minimum=1),
            help="worker processes (LOUZHANG_WORKERS)",
        )
        parser.add_argument(
            "--threads", type=int, default=env_int("LOUZHANG_THREADS", 4, minimum=1),
            help="threads per worker (LOUZHANG_THREADS)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not 0 < options["port"] < 65536:
            raise CommandError(f"--port {options['port']}: must be between 1 and 65535")
        if options["workers"] < 1 or options["threads"] < 1:
            raise CommandError("--workers and --threads must be at least 1")
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            raise CommandError("the database is not up to date: run `louzhang init` first")
        _warn_without_worker(self.stderr.write)
        connection.close()

        from gunicorn.app.base import BaseApplication

        bind = f"[{options['host']}]:{options['port']}" if ":" in options["host"] else \
            f"{options['host']}:{options['port']}"
        config = {
            "bind": bind,
            "workers": options["workers"],
            "threads": options["threads"],
            "worker_class": "gthread",
            "timeout": 60,
            "graceful_timeout": 20,
            "keepalive": 5,
            "limit_request_line": settings.REQUEST_LINE_LIMIT,
            "accesslog": "-",
            "errorlog": "-",
            "forwarded_allow_ips": "127.0.0.1,::1",
            "max_requests": 10000,
            "max_requests_jitter": 1000,
        }
        stdout = self.stdout

        class Louzhang(BaseApplication):  # type: ignore[misc]
            def load_config(self) -> None:
                for key, value in config.items():
                    self.cfg.set(key, value)
                self.cfg.set("when_ready", lambda server: (stdout.write(
                    f"louzhang: serving on http://{bind}/ with {config['workers']} workers"
                ), _watch_worker()))

            def load(self) -> Any:
                from louzhang.wsgi import application

                return application

        Louzhang().run()
