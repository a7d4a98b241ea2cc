"""Keeping the figures up to date: the worker's `refresh` rolls today up, yesterday once more
after midnight, and a past day again when a record of it arrives late; `louzhang stats
rebuild` rolls any past day up; the demo city comes with two weeks of figures.

The known day of tests/test_stats_figures.py (its test city, its hand count) is reused."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from louzhang.areas.models import Area
from louzhang.stats.models import AreaDay, StaleDay
from louzhang.stats.rollup import refresh
from louzhang.stats.selectors import area_place, figures
from tests import test_stats_figures as known
from tests.conftest import BAOTOU, run_cli
from tests.test_stats_figures import (
    CA2,
    DIST_A,
    HAND_CA2,
    HAND_DIST_A,
    D,
    World,
    _row_values,
    build,
    on,
    place,
)

#: the known day's fixtures: its clock and its rules' settings
clock = known.clock
_rules = known._rules

pytestmark = pytest.mark.django_db


def test_refresh_rolls_yesterday_once_after_midnight_and_is_idempotent(clock: Any) -> None:
    build(clock)
    clock.move_to(on(D, "23:59"))
    assert refresh() == [D, D - timedelta(days=1)]  # yesterday never rolled up yet
    live = _row_values(D)
    assert figures(place(DIST_A), D) == HAND_DIST_A
    clock.move_to(on(D, "23:59") + timedelta(seconds=50))
    assert refresh() == [D]
    assert _row_values(D) == live, "two refreshes, the same rows"
    clock.move_to(on(D, "00:00", 1) + timedelta(seconds=30))
    assert refresh() == [D + timedelta(days=1), D]  # yesterday's states at its end
    assert _row_values(D) == live
    clock.move_to(on(D, "00:01", 1) + timedelta(seconds=30))
    assert refresh() == [D + timedelta(days=1)]  # once


def test_a_record_sent_late_rolls_its_day_up_again(clock: Any) -> None:
    w: World = build(clock)
    clock.move_to(on(D, "00:05", 1))
    refresh()
    refresh()
    assert figures(place(CA2), D)["gate_checks"] == HAND_CA2["gate_checks"]
    # the next morning a gate device that was offline sends yesterday evening's records
    clock.move_to(on(D, "09:00", 1))
    late = on(D, "18:00")
    batch = [{"client_id": "late-1", "gate": f"{CA2}-E", "direction": "in", "at": late.isoformat(),
              "temperature": "38.6", "visitor": {"name": "访客"}}]
    from louzhang.gates.services import gate_checks_ingest

    assert [r.status for r in gate_checks_ingest(user=w.users["gate"], records=batch)] == ["created"]
    clock.move_to(on(D, "09:01", 1))
    assert refresh() == [D + timedelta(days=1), D]
    assert not StaleDay.objects.filter(day=D).exists()
    after = figures(place(CA2), D)
    assert (after["gate_checks"], after["gate_fevers"], after["fevers"]) == (4, 2, 2)
    assert figures(place(DIST_A), D)["fevers"] == HAND_DIST_A["fevers"] + 1
    # the record is looked at again until it is older than SETTLE (ids are drawn before their
    # transaction commits: a batch with lower ids may still be committing), then no more
    clock.move_to(on(D, "09:02", 1))
    assert refresh() == [D + timedelta(days=1), D]
    clock.move_to(on(D, "09:06", 1))
    assert refresh() == [D + timedelta(days=1), D]
    clock.move_to(on(D, "09:07", 1))
    assert refresh() == [D + timedelta(days=1)]  # nothing late any more
    # the same record sent again is stored once, and marks nothing
    gates_again = gate_checks_ingest(user=w.users["gate"], records=batch)
    assert [r.status for r in gates_again] == ["duplicate"]
    assert refresh() == [D + timedelta(days=1)]


def test_louzhang_stats_rebuild_rolls_the_days_asked_up(clock: Any) -> None:
    build(clock)
    clock.move_to(on(D, "12:00", 2))
    out = StringIO()
    call_command("stats", "rebuild", "--from", str(D - timedelta(days=1)), "--to", str(D), stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith(f"{D - timedelta(days=1)}\t") and lines[1].startswith(f"{D}\t")
    assert lines[-1] == f"rebuilt 2 days, {D - timedelta(days=1)} to {D}"
    assert figures(place(DIST_A), D) == HAND_DIST_A
    out = StringIO()
    call_command("stats", "rebuild", "--date", str(D), stdout=out)
    assert out.getvalue().splitlines()[-1] == f"rebuilt 1 day, {D} to {D}"
    for args, message in (
            (["--date", "2020-02-30"], "--date '2020-02-30': a date as YYYY-MM-DD"),
            (["--from", str(D)], "--from and --to go together"),
            (["--from", str(D), "--to", str(D - timedelta(days=1))], "is after --to"),
            (["--date", str(D + timedelta(days=3))], "is in the future"),
            (["--date", str(D), "--from", str(D), "--to", str(D)], "either --date or")):
        with pytest.raises(CommandError, match=message.replace("(", r"\(")):
            call_command("stats", "rebuild", *args, stdout=StringIO())


def test_a_bad_date_is_one_line_and_a_non_zero_exit(cli_env: dict[str, str]) -> None:
    done = run_cli(cli_env, "stats", "rebuild", "--date", "10.02.2020")
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == ["CommandError: --date '10.02.2020': a date as YYYY-MM-DD"]


def test_the_demo_city_comes_with_two_weeks_of_figures() -> None:
    """`louzhang demo` adds them (`demo_load(history=True)`); the tests' seed goes without."""
    from django.utils import timezone

    from louzhang.demo.stats import demo_stats
    from louzhang.gates.models import GateRecord

    today = timezone.localdate()
    yesterday = today - timedelta(days=1)
    today_checks = GateRecord.objects.filter(at__date__gte=today).count()
    assert demo_stats() > 1000
    assert GateRecord.objects.filter(at__date__gte=today).count() == today_checks  # past days only
    city = area_place(Area.objects.get(code=BAOTOU))
    days = [figures(city, yesterday - timedelta(days=n)) for n in range(13)]
    assert all(d["gate_checks"] > 0 for d in days)
    assert all(d["officers"] > 0 for d in days)
    assert sum(d["households_visited"] for d in days) > 0
    ordos = area_place(Area.objects.get(code="150600"))
    assert sum(figures(ordos, yesterday - timedelta(days=n))["key_region_vehicles"] for n in range(13)) > 0
    rows = AreaDay.objects.count()
    assert demo_stats() == 0  # loaded twice: nothing added
    assert AreaDay.objects.count() == rows
