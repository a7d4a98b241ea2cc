"""Imports and exports share one job lifecycle: claimed by exactly one worker, taken up again
when that worker dies, given up — visibly — after three attempts; and only users who may start
a job can."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.utils import timezone

from louzhang.audit.models import AuditEvent
from louzhang.registry.exports import export_job_create
from louzhang.registry.importing.engine import ImportFileError
from louzhang.registry.importing.residents import import_residents
from louzhang.registry.imports import import_job_create
from louzhang.registry.models import ExportJob, ImportJob
from louzhang.worker.jobs import (
    JobLost,
    held_by,
    job_finish,
    job_progress,
    job_run,
    job_start,
    jobs_recover,
)
from louzhang.worker.models import MAX_ATTEMPTS, WorkerBeat
from tests.conftest import BAOLI, DONGHE, InlineWorker, web_client
from tests.test_import_residents import HEADER, ZHANG, xlsx


@pytest.fixture
def upload(tmp_path):
    path = xlsx(tmp_path / "34号楼.xlsx", [HEADER, [1, "张建国", "男", ZHANG, "", "保利百合", 34, 2, 702, "常住", "", ""]])
    return lambda: SimpleUploadedFile(path.name, path.read_bytes())


def _claim(job, worker_id):
    with held_by(worker_id):
        return job_start(type(job), job_id=job.pk)


def test_of_two_workers_handed_the_same_import_only_one_runs_it(warden, upload, worker: InlineWorker):
    job = import_job_create(user=warden, kind="residents", upload=upload())
    first, second = _claim(job, "worker-a"), _claim(job, "worker-b")
    assert first is not None and second is None
    assert job_run(label="registry.ImportJob", job_id=job.pk) == "taken"  # b's task does nothing
    job.refresh_from_db()
    assert (job.state, job.worker_id, job.attempts) == ("running", "worker-a", 1)

    again = import_job_create(user=warden, kind="residents", upload=upload())
    from louzhang.worker.tasks import run_job

    run_job.enqueue("registry.ImportJob", again.pk)  # its task queued twice
    worker.run()
    again.refresh_from_db()
    assert again.state == "done" and again.attempts == 1
    imports = AuditEvent.objects.filter(object_type="registry.import.residents")
    assert imports.count() == 1  # imported once


def test_a_job_whose_worker_died_is_taken_up_again_and_counted(warden, upload, worker: InlineWorker):
    client = web_client(warden)
    job = import_job_create(user=warden, kind="residents", upload=upload())
    assert _claim(job, "killed-worker").attempts == 1
    soon = timezone.now() + timedelta(seconds=10)
    assert jobs_recover(soon) == 0  # its lease has not lapsed yet
    later = timezone.now() + timedelta(minutes=2)
    assert jobs_recover(later) == 1
    job.refresh_from_db()
    assert (job.state, job.attempts, job.worker_id) == ("queued", 1, "")
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert 'data-attempt="2"' in page and "第 2 次" in page  # the uploader is told
    worker.run()
    job.refresh_from_db()
    assert (job.state, job.attempts, job.created) == ("done", 2, 1)


def test_a_job_held_by_a_beating_worker_is_not_taken_away_however_long_it_takes(warden, upload):
    job = import_job_create(user=warden, kind="residents", upload=upload())
    _claim(job, "busy-worker")
    later = timezone.now() + timedelta(minutes=30)
    WorkerBeat.objects.create(worker_id="busy-worker", host="h", pid=1, backend="database", seen_at=later)
    assert jobs_recover(later) == 0
    assert ImportJob.objects.get(pk=job.pk).state == "running"


def test_a_worker_whose_job_was_taken_up_again_stops_and_records_nothing(warden, upload):
    job = import_job_create(user=warden, kind="residents", upload=upload())
    stale = _claim(job, "stalled-worker")
    jobs_recover(timezone.now() + timedelta(minutes=2))
    fresh = _claim(job, "other-worker")
    with pytest.raises(JobLost):
        job_progress(stale, done=100)
    assert not job_finish(stale, processed=1)
    assert job_finish(fresh, processed=1)
    job.refresh_from_db()
    assert (job.state, job.attempts, job.worker_id) == ("done", 2, "other-worker")


def test_after_three_lost_workers_the_job_is_given_up_and_the_uploader_sees_why(warden, upload):
    job = import_job_create(user=warden, kind="residents", upload=upload())
    moment = timezone.now()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert _claim(job, f"worker-{attempt}").attempts == attempt
        moment += timedelta(minutes=2)
        assert jobs_recover(moment) == 1
    job.refresh_from_db()
    assert job.state == "failed" and job.finished_at is not None
    assert "3 次" in job.error and "放弃" in job.error
    assert _claim(job, "late-worker") is None
    page = web_client(warden).get(f"/imports/{job.pk}/").content.decode()
    assert 'data-state="failed"' in page and job.error in page and "hx-trigger" not in page


def test_an_export_whose_worker_died_is_given_up_the_same_way(commander):
    job = export_job_create(user=commander, code=DONGHE)
    moment = timezone.now()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        _claim(job, f"worker-{attempt}")
        moment += timedelta(minutes=2)
        jobs_recover(moment)
    page = web_client(commander).get(f"/exports/{job.pk}/").content.decode()
    job.refresh_from_db()
    assert job.state == "failed" and job.error in page and 'role="alert"' in page


def test_only_wardens_and_commanders_start_imports(gate, health, upload):
    for user in (gate, health):
        with pytest.raises(PermissionDenied):
            import_job_create(user=user, kind="residents", upload=upload(), compound_code=BAOLI)
    assert not ImportJob.objects.exists()


def test_the_command_line_refuses_an_import_as_a_user_who_may_not_import(gate, tmp_path):
    path = xlsx(tmp_path / "r.xlsx", [HEADER, [1, "张建国", "男", ZHANG, "", "保利百合", 34, 2, 702, "常住", "", ""]])
    with pytest.raises(ImportFileError, match="gate"):
        import_residents(path, actor=gate)  # `louzhang import residents FILE --as gate`


def test_an_export_job_is_only_for_areas_the_user_reaches(warden_jy, warden):
    with pytest.raises(Http404):
        export_job_create(user=warden_jy, code=DONGHE)  # 九原区's warden, 东河区
    with pytest.raises(Http404):
        export_job_create(user=warden, code="999999")
    assert not ExportJob.objects.exists()
