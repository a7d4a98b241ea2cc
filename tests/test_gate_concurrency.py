"""Devices uploading at the same moment, through a real `louzhang serve` with several worker
processes: batches touching the same households in different orders all succeed (no deadlock
surfaces as a 500), every record is stored once and every follow-up is opened once."""

from __future__ import annotations

import json
import threading
import urllib.request
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from tests.conftest import BAOLI, run_cli, served

pytestmark = pytest.mark.django_db


def _shell(env: dict[str, str], code: str) -> str:
    result = run_cli(env, "shell", "-c", code)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_concurrent_uploads_over_the_same_households_all_land_once(cli_env: dict[str, str]) -> None:
    for args in (("init",), ("demo",)):
        assert run_cli(cli_env, *args).returncode == 0
    passes = json.loads(_shell(cli_env, (
        "import json; from louzhang.gates.models import HouseholdPass;"
        f"print(json.dumps(list(HouseholdPass.objects.filter(household__code__startswith='{BAOLI}-34-')"
        ".order_by('code').values_list('code', flat=True)[:12])))")))
    token = run_cli(cli_env, "token", "create", "gate").stdout.strip()
    now = timezone.localtime().replace(microsecond=0)
    devices, batches_each, size = 4, 3, 60

    def batch(device: int, n: int) -> list[dict[str, Any]]:
        order = passes[:] if device % 2 else passes[::-1]  # opposite orders: the deadlock shape
        return [{"client_id": f"d{device}-{n}-{i}", "gate": f"{BAOLI}-E", "direction": "in",
                 "at": (now - timedelta(seconds=i)).isoformat(), "temperature": 38.0 if i % 4 else 36.4,
                 "pass_code": order[i % len(order)]}
                for i in range(size)]

    statuses: list[int] = []
    created: list[int] = []
    lock = threading.Lock()

    with served(cli_env, workers=4) as url:
        def upload(device: int) -> None:
            for n in range(batches_each):
                request = urllib.request.Request(
                    f"{url}/api/v1/gate-checks", data=json.dumps({"records": batch(device, n)}).encode(),
                    headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
                with urllib.request.urlopen(request, timeout=120) as response:
                    results = json.loads(response.read())["results"]
                    with lock:
                        statuses.append(response.status)
                        created.append(sum(r["status"] == "created" for r in results))

        threads = [threading.Thread(target=upload, args=(d,)) for d in range(devices)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert statuses == [200] * devices * batches_each
    assert sum(created) == devices * batches_each * size
    stored = _shell(cli_env, "from louzhang.gates.models import GateRecord; print(GateRecord.objects.exclude(client_id__startswith='seed-history-').count())")
    assert int(stored) == devices * batches_each * size
    # one fever follow-up per household, whatever the number of uploads that hit it at once
    fevers = json.loads(_shell(cli_env, (
        "import json; from django.db.models import Count, Sum; from louzhang.followups.models import FollowUp;"
        "q = FollowUp.objects.filter(kind='fever');"
        "print(json.dumps([q.count(), q.values('subject_id').annotate(n=Count('id')).filter(n__gt=1).count(),"
        " q.aggregate(r=Sum('repeats'))['r']]))")))
    hot_records = devices * batches_each * sum(1 for i in range(size) if i % 4)
    households_hot = len(passes)
    assert fevers[0] == households_hot and fevers[1] == 0
    assert fevers[0] + fevers[2] == hot_records  # every fever record counted once
