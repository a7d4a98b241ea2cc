"""`louzhang worker`: runs background tasks and periodic jobs, beating as it goes.

One loop: beat, run the periodic jobs that are due, run ready tasks. With the database backend
the tasks come from the database queue; with the Redis (RQ) backend an RQ worker runs them in the
main thread while the beat and the periodic jobs run in a second thread.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from types import FrameType
from typing import Any

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connections
from django.utils import timezone
from django.utils.crypto import get_random_string

from louzhang.worker.jobs import held_by
from louzhang.worker.models import WorkerBeat
from louzhang.worker.schedule import run_due_jobs

logger = logging.getLogger("louzhang.worker")


def relax_commit_durability() -> None:
    """PostgreSQL: the worker's own commits do not wait for the disk (`synchronous_commit=off`).

    Safe because everything the worker writes is bookkeeping it can redo: a server crash may
    forget its last fraction of a second of commits — a delivery recorded as sent is then sent
    again (the receiver drops it by its id), an escalation step is taken again. The events that
    cause the work (gate records, follow-ups, outbox rows) are committed by the web processes
    with full durability. This cuts the worker's cost per delivery several times over.
    """
    from django.db.backends.signals import connection_created

    def relax(sender: object, connection: Any, **kwargs: object) -> None:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET synchronous_commit TO OFF")

    connection_created.connect(relax, weak=False, dispatch_uid="louzhang-worker-async-commit")
    connections.close_all()  # the next query opens a connection with the setting


def beat(worker_id: str, backend: str) -> None:
    now = timezone.now()
    updated = WorkerBeat.objects.filter(worker_id=worker_id).update(seen_at=now, stopped_at=None)
    if not updated:
        WorkerBeat.objects.create(worker_id=worker_id, host=socket.gethostname()[:200],
                                  pid=os.getpid(), backend=backend, started_at=now, seen_at=now)


#: tasks this process claimed whose run ended in a database error (the database lost under
#: them): they stay RUNNING under a live worker, which `recovery.recover_tasks` leaves alone, so
#: this worker puts them back to READY itself once the database answers again
_lost_claims: set[int] = set()
_lost_lock = threading.Lock()


def requeue_lost_claims() -> int:
    """READY again: the tasks this process lost the database under (see `_lost_claims`)."""
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    with _lost_lock:
        ids = set(_lost_claims)
    if not ids:
        return 0
    changed = DBTaskResult.objects.filter(id__in=ids, status=TaskResultStatus.RUNNING).update(
        status=TaskResultStatus.READY, started_at=None)
    with _lost_lock:
        _lost_claims.difference_update(ids)
    if changed:
        logger.warning("%d task(s) interrupted by a lost database: requeued", changed)
    return changed


def drop_broken_connections() -> None:
    """After an error: close this thread's connections that the database dropped (a server
    restarted, a network cut), so that the next query connects afresh instead of failing on
    the dead one for ever."""
    for conn in connections.all(initialized_only=True):
        try:
            conn.close_if_unusable_or_obsolete()
        except Exception:  # noqa: BLE001 - closing a dead connection may fail: it is gone anyway
            try:
                conn.close()
            except Exception:  # noqa: BLE001
                conn.connection = None


def run_ready_db_tasks(worker_id: str, *, limit: int) -> int:
    """Run up to `limit` ready tasks from the database queue; return how many ran."""
    from django.db.utils import OperationalError
    from django_tasks_db.management.commands.db_worker import Worker
    from django_tasks_db.models import DBTaskResult
    from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

    runner = Worker(queue_names=["*"], interval=0, batch=True, backend_name="default",
                    startup_delay=False, max_tasks=None, worker_id=worker_id,
                    excluded_queue_names=[])
    ran = 0
    while ran < limit:
        tasks = DBTaskResult.objects.ready().filter(backend_name="default")
        try:
            with exclusive_transaction(tasks.db):
                task_result = tasks.get_locked()
                if task_result is not None:
                    task_result.claim(worker_id)
        except OperationalError as exc:
            if is_locked_database_exception(exc):
                return ran
            raise
        if task_result is None:
            return ran
        try:
            with held_by(worker_id):  # the jobs it claims are held while this worker beats
                runner.run_task(task_result)
        except DatabaseError:
            with _lost_lock:
                _lost_claims.add(task_result.id)
            raise
        ran += 1
    return ran


def run_once(worker_id: str = "inline") -> int:
    """One round, in this process: beat, periodic jobs, ready tasks. Used by tests and `--once`."""
    beat(worker_id, backend_name())
    run_due_jobs()
    total = 0
    while True:
        ran = run_ready_db_tasks(worker_id, limit=100) if backend_name() == "database" else 0
        total += ran
        if not ran:
            return total


def backend_name() -> str:
    return str(settings.LOUZHANG_TASKS_BACKEND)


class Worker:
    def __init__(self, *, worker_id: str | None = None, tick: float | None = None,
                 threads: int = 2) -> None:
        self.worker_id = worker_id or f"{socket.gethostname()[:40]}-{os.getpid()}-{get_random_string(6)}"
        self.tick = tick if tick is not None else settings.LOUZHANG_WORKER_TICK_SECONDS
        self.threads = threads
        self.running = True
        self._stopped = threading.Event()

    def stop(self, signum: int, frame: FrameType | None) -> None:
        logger.info("worker %s: %s, stopping after the current task", self.worker_id,
                    signal.strsignal(signum))
        self.running = False
        self._stopped.set()

    def housekeeping(self) -> None:
        close_old_connections()
        beat(self.worker_id, backend_name())
        requeue_lost_claims()
        run_due_jobs()

    def run(self) -> None:
        relax_commit_durability()
        logger.info("worker %s started (%s backend)", self.worker_id, backend_name())
        try:
            if backend_name() == "rq":
                self._run_rq()
            else:
                self._run_database()
        finally:
            WorkerBeat.objects.filter(worker_id=self.worker_id).update(stopped_at=timezone.now())
            logger.info("worker %s stopped", self.worker_id)

    def _run_database(self) -> None:
        """Task threads take ready tasks; this thread beats and runs the periodic jobs, so a
        long import never silences the heartbeat (which would make the worker look dead and
        its import be taken up again) and never holds back deliveries on another thread."""
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        runners = [threading.Thread(target=self._take_tasks, name=f"louzhang-tasks-{n}")
                   for n in range(self.threads)]
        for runner in runners:
            runner.start()
        try:
            while self.running:
                try:
                    self.housekeeping()
                except DatabaseError as exc:  # the database restarting: keep beating when it is back
                    logger.warning("worker housekeeping failed: %s", str(exc).strip()[:200])
                    drop_broken_connections()
                except Exception:
                    logger.exception("worker housekeeping failed")
                    drop_broken_connections()
                self._stopped.wait(self.tick)
        finally:
            self.running = False
            for runner in runners:
                runner.join()

    def _take_tasks(self) -> None:
        try:
            while self.running:
                try:
                    ran = run_ready_db_tasks(self.worker_id, limit=50)
                except Exception as exc:
                    if isinstance(exc, DatabaseError):  # the database restarting: a line, not a trace
                        logger.warning("worker could not take a task: %s", str(exc).strip()[:200])
                    else:
                        logger.exception("worker could not take a task")
                    drop_broken_connections()
                    self._stopped.wait(1.0)  # not a busy loop while the database is away
                    ran = 0
                if not ran:
                    self._stopped.wait(0.2)
        finally:
            connections.close_all()

    def _run_rq(self) -> None:
        import django_rq

        def keep_house() -> None:
            while self.running:
                try:
                    self.housekeeping()
                except Exception:
                    logger.exception("worker housekeeping failed")
                    drop_broken_connections()
                time.sleep(self.tick)

        thread = threading.Thread(target=keep_house, name="louzhang-housekeeping", daemon=True)
        thread.start()
        from django_tasks_rq.backend import Job
        from rq.worker import SimpleWorker

        # SimpleWorker runs jobs in this process (no fork per job: Django's database connection
        # and the HTTP client are reused); the job class is the tasks backend's own
        rq_worker = django_rq.get_worker("default", worker_class=SimpleWorker,  # type: ignore[arg-type]
                                         job_class=Job)
        try:
            with held_by(self.worker_id):  # SimpleWorker runs the jobs in this thread
                rq_worker.work(with_scheduler=True)
        finally:
            self.running = False
