from __future__ import annotations

import multiprocessing
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from louzhang.core.commands import LouzhangCommand
from louzhang.env import env_int


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
                self.cfg.set("when_ready", lambda server: stdout.write(
                    f"louzhang: serving on http://{bind}/ with {config['workers']} workers"
                ))

            def load(self) -> Any:
                from louzhang.wsgi import application

                return application

        Louzhang().run()
