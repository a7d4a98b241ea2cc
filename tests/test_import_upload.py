"""Uploading a spreadsheet in the web UI: imported in the background by the worker, progress
on the page, the rejected rows downloadable — only by the one who uploaded it."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from louzhang.registry.models import ImportJob, Resident
from tests.conftest import BAOLI, InlineWorker, web_client
from tests.test_import_residents import HEADER, LI, WANG, ZHANG, xlsx


def _upload(client, path, kind="residents", **extra):
    with open(path, "rb") as handle:
        data = {"kind": kind, "file": SimpleUploadedFile(path.name, handle.read()), **extra}
    return client.post("/imports/", data)


def test_a_warden_uploads_and_the_worker_imports_it(warden, warden_jy, gate, worker: InlineWorker, tmp_path):
    bad = ZHANG[:17] + ("1" if ZHANG[17] != "1" else "2")
    path = xlsx(tmp_path / "34号楼居民.xlsx", [
        HEADER,
        [1, "张建国", "男", ZHANG, "13812345678", "保利百合", 34, 2, 702, "常住", "", ""],
        [2, "李秀英", "女", LI, "", "保利百合", 34, 2, 701, "暂住", "", ""],
        [3, "赵错", "男", bad, "", "保利百合", 34, 2, 701, "常住", "", ""],
        [4, "钱外", "男", WANG, "", "保利百合", 1, 1, 101, "常住", "", ""],  # building 1: not theirs
    ])
    client = web_client(warden)
    response = _upload(client, path)
    job = ImportJob.objects.get(user=warden)
    assert response.status_code == 302 and response["Location"] == f"/imports/{job.pk}/"
    queued = client.get(f"/imports/{job.pk}/").content.decode()
    assert 'data-state="queued"' in queued and 'hx-trigger="every 1s"' in queued

    worker.run()
    job.refresh_from_db()
    assert (job.state, job.created, job.rejected, job.processed) == ("done", 2, 2, 4)
    assert Resident.objects.get(id_number=ZHANG).household.code.endswith("-34-2-0712")  # room 702
    fragment = client.get(f"/imports/{job.pk}/", headers={"HX-Request": "true"}).content.decode()
    assert 'data-state="done"' in fragment and "hx-trigger" not in fragment  # polling stops
    assert 'data-count="created">2<' in fragment

    download = client.get(f"/imports/{job.pk}/rejects.csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(download.streaming_content).decode("utf-8-sig"))))
    assert [r["原行号"] for r in rows] == ["6", "7"]  # title row and blank line above the header
    assert rows[0]["错误原因"].startswith("身份证号校验位错误")
    assert rows[1]["错误原因"] == "该户不在您的辖区内"

    for outsider in (warden_jy, gate):
        other = web_client(outsider)
        assert other.get(f"/imports/{job.pk}/").status_code == 404
        assert other.get(f"/imports/{job.pk}/rejects.csv").status_code == 404
    assert web_client(gate).get("/imports/").status_code == 404  # gate staff do not import


def test_a_file_that_cannot_be_imported_says_why(warden, worker: InlineWorker, tmp_path):
    client = web_client(warden)
    wrong = tmp_path / "名单.docx"
    wrong.write_bytes(b"PK\x03\x04 not a spreadsheet")
    page = _upload(client, wrong).content.decode()
    assert "请使用 .csv 或 .xlsx 文件" in page and not ImportJob.objects.exists()

    headless = tmp_path / "无表头.csv"
    headless.write_text("张三,男\n李四,女\n", encoding="utf-8")
    _upload(client, headless)
    worker.run()
    job = ImportJob.objects.get()
    assert job.state == "failed" and "表头" in job.error
    assert "表头" in client.get(f"/imports/{job.pk}/").content.decode()


def test_a_worker_killed_during_an_import_runs_it_again_and_that_changes_nothing(
        warden, worker: InlineWorker, tmp_path):
    from louzhang.registry.importing.residents import import_residents
    from louzhang.worker.jobs import held_by, job_start

    path = xlsx(tmp_path / "again.xlsx", [HEADER, [1, "张建国", "男", ZHANG, "", "保利百合", 34, 2, 702, "常住", "", ""]])
    client = web_client(warden)
    _upload(client, path)
    job = ImportJob.objects.get()
    with held_by("killed-worker"):  # a worker takes the job, imports the rows, and is killed
        assert job_start(ImportJob, job_id=job.pk) is not None
    import_residents(path, actor=warden)
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):  # it never beats again
        worker.run()
    job.refresh_from_db()
    assert (job.state, job.attempts, job.created, job.unchanged) == ("done", 2, 0, 1)
    assert Resident.objects.filter(id_number=ZHANG).count() == 1
    assert 'data-count="unchanged">1<' in client.get(f"/imports/{job.pk}/").content.decode()


def test_a_refused_upload_keeps_what_the_warden_chose(warden, tmp_path):
    client = web_client(warden)
    wrong = tmp_path / "车辆.docx"
    wrong.write_bytes(b"PK\x03\x04 not a spreadsheet")
    page = _upload(client, wrong, kind="vehicles", compound=BAOLI).content.decode()
    assert "请使用 .csv 或 .xlsx 文件" in page
    assert '<option value="vehicles" selected>' in page
    assert f'value="{BAOLI}"' in page
    no_file = client.post("/imports/", {"kind": "vehicles", "compound": BAOLI}).content.decode()
    assert "请选择要上传的文件" in no_file and '<option value="vehicles" selected>' in no_file
    assert f'value="{BAOLI}"' in no_file and not ImportJob.objects.exists()
