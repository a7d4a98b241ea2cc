"""Query counts of the hot pages and the device APIs, pinned so that an N+1 fails a test the day
it is written.

Each test reads a page (or posts a batch) with a little data, then again with more of the same —
twice the buildings, forty follow-ups more, a batch of fifty instead of one — and asks for the
same number of queries: what a page reads must not grow with what it shows. The larger run is
also held under an upper bound, today's count plus a little slack, with what it reads named
next to it; raise a bound only with a reason.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from louzhang.accounts.models import Grant, Role, User
from louzhang.areas.models import Area, Level, build_path
from louzhang.followups.models import FollowUp
from louzhang.gates.models import Gate, HouseholdPass
from louzhang.registry.models import Resident
from tests.conftest import BAOLI, BAOLI_34, BAOLI_34_2_6W, BAOTOU, FUGUI, api_for, web_client

pytestmark = pytest.mark.django_db

EAST, WEST = f"{BAOLI}-E", f"{BAOLI}-W"
CHECKPOINT = "DLT-CP1"


@pytest.fixture(autouse=True)
def _noon() -> Iterator[None]:
    """Today's gate records stay today's, whenever the suite runs (midnight included)."""
    noon = timezone.make_aware(datetime.combine(timezone.localdate(), time(12)))
    with time_machine.travel(noon, tick=True):
        yield


# --- counting --------------------------------------------------------------------------------


def _run(action: Callable[[], Any]) -> tuple[CaptureQueriesContext, Any]:
    with CaptureQueriesContext(connection) as captured:
        result = action()
    return captured, result


def _shape(sql: str) -> str:
    """A statement without its values, to tell which query a run repeats."""
    sql = re.sub(r"'(?:[^']|'')*'", "?", sql)
    sql = re.sub(r"\d+", "?", sql)  # savepoint names too
    sql = re.sub(r"\((?:\?, )*\?\)", "(…)", sql)
    sql = re.sub(r"^SELECT .*? FROM ", "SELECT … FROM ", sql)
    return sql[:200]


def _more(small: CaptureQueriesContext, large: CaptureQueriesContext) -> str:
    """What the larger run read or wrote more often than the smaller one."""
    extra = Counter(_shape(q["sql"]) for q in large.captured_queries)
    extra.subtract(_shape(q["sql"]) for q in small.captured_queries)
    lines = [f"  {n:+d} × {sql}" for sql, n in extra.most_common() if n]
    return f"{len(small)} queries with less data, {len(large)} with more:\n" + "\n".join(lines)


def _selects(captured: CaptureQueriesContext) -> int:
    return sum(
        1 for q in captured.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")
    )


def _page(client: Any, path: str) -> tuple[CaptureQueriesContext, str]:
    captured, response = _run(lambda: client.get(path))
    assert response.status_code == 200, (path, response.status_code)
    return captured, response.content.decode()


def _post(
    api: Any, path: str, records: list[dict[str, Any]]
) -> tuple[CaptureQueriesContext, list[Any]]:
    captured, response = _run(lambda: api.post(path, {"records": records}))
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert len(results) == len(records)
    return captured, results


# --- data, made with the models (what the pages read, not how it got there) -----------------


def _id_number(sequence: int) -> str:
    """A fictitious GB 11643 number with a valid check character, born 1980-01-01 in 东河区."""
    first17 = f"15020219800101{sequence:03d}"
    weights = [pow(2, 17 - i, 11) for i in range(17)]
    return (
        first17 + "10X98765432"[sum(int(c) * w for c, w in zip(first17, weights, strict=True)) % 11]
    )


def _residents_move_in(household: str, how_many: int) -> list[Resident]:
    area = Area.objects.get(code=household)
    return Resident.objects.bulk_create(
        [
            Resident(
                name=f"欧阳{'明芳'[n % 2]}{'一二三四五六七八九十'[n % 10]}",
                gender="MF"[n % 2],
                birth_date=date(1980, 1, 1),
                id_number=_id_number(900 - n),
                phone=f"1390000{n:04d}",
                household=area,
                residency=Resident.Residency.TENANT,
            )
            for n in range(how_many)
        ]
    )


def _wardens_buildings(user: User, codes: list[str]) -> None:
    Grant.objects.bulk_create(
        [
            Grant(user=user, role=Role.WARDEN, area=area)
            for area in Area.objects.filter(code__in=codes)
        ]
    )


def _districts_open(names: list[str]) -> None:
    city = Area.objects.get(code=BAOTOU)
    for n, name in enumerate(names):
        code = f"1502{90 + n}"
        Area.objects.create(
            code=code,
            name=name,
            level=Level.DISTRICT,
            parent=city,
            path=build_path(city, code),
            ordinal=50 + n,
        )


def _households(building: str = BAOLI_34) -> list[str]:
    """The 24 households of a demo building: 2 units × 6 floors × 2 doors."""
    return [
        f"{building}-{unit}-{floor:02d}{door:02d}"
        for unit in (1, 2)
        for floor in range(1, 7)
        for door in (1, 2)
    ]


def _followups_open(owners: list[User], area_codes: list[str], first: int, how_many: int) -> None:
    now = timezone.now()
    areas = list(Area.objects.filter(code__in=area_codes))
    FollowUp.objects.bulk_create(
        [
            FollowUp(
                kind="task",
                rule="query_counts",
                subject_type="household",
                subject_id=f"qc-{n}",
                area=areas[n % len(areas)],
                summary=f"居民 邹* 发热 38.{n % 10} °C",
                action="请核实",
                priority=1 + n % 2,
                owner=owners[n % len(owners)],
                owner_role=Role.WARDEN,
                due_at=now + timedelta(hours=n % 7 - 3),
            )
            for n in range(first, first + how_many)
        ]
    )


GATE_NAMES = {"N": "北门", "S": "南门"}


def _gates_open(*codes: str) -> None:
    for code in codes:
        compound = Area.objects.get(code=code.rsplit("-", 1)[0])
        Gate.objects.create(code=code, name=GATE_NAMES[code.rsplit("-", 1)[1]], compound=compound)


def _gate_records(
    first: int, how_many: int, *, fever_every: int = 0, visitors: bool = True
) -> list[dict[str, Any]]:
    """Records at 保利百合's two gates, in and out: residents of building 34 with their passes
    (a household each, round the building) and, every fifth, a visitor."""
    households = _households()
    passes = dict(
        HouseholdPass.objects.filter(household__code__in=households).values_list(
            "household__code", "code"
        )
    )
    at = timezone.localtime().replace(microsecond=0) - timedelta(minutes=1)
    records = []
    for n in range(first, first + how_many):
        record: dict[str, Any] = {
            "client_id": f"qc-gate-{n:06d}",
            "gate": (EAST, WEST)[n % 2],
            "direction": ("in", "out")[n // 2 % 2],
            "at": (at - timedelta(seconds=n)).isoformat(),
            "temperature": 38.2 if fever_every and n % fever_every == 0 else 36.4,
        }
        if visitors and n % 5 == 4:
            record["visitor"] = {"name": f"访客{n}", "phone": f"1381234{n:04d}", "reason": "探亲"}
        else:
            record["pass_code"] = passes[households[n % len(households)]]
        records.append(record)
    return records


def _vehicle_checks(first: int, how_many: int, *, from_wuhan: bool = True) -> list[dict[str, Any]]:
    """Cars checked at 达拉特旗 a minute ago, bound for 保利百合: from Wuhan (a key region:
    each becomes a follow-up) or local cars (nothing to follow up)."""
    at = timezone.localtime().replace(microsecond=0) - timedelta(minutes=1)
    plate, origin = ("鄂A", "武汉市") if from_wuhan else ("蒙B", "包头市")
    return [
        {
            "client_id": f"qc-car-{n:06d}",
            "checkpoint": CHECKPOINT,
            "at": (at - timedelta(seconds=n)).isoformat(),
            "plate": f"{plate}{10000 + n}",
            "vehicle_type": "car",
            "origin": origin,
            "destination": {"compound": BAOLI},
            "occupants": [{"name": "张三", "temperature": 36.6}],
            "disposition": "pass",
        }
        for n in range(first, first + how_many)
    ]


# --- pages -----------------------------------------------------------------------------------


def test_the_wardens_home_reads_the_same_number_of_queries_with_twice_the_buildings(
    warden: User,
    django_assert_max_num_queries: Any,
) -> None:
    client = web_client(warden)
    client.get("/")
    small, page = _page(client, "/")
    assert f"/areas/{BAOLI_34}/" in page and f"/areas/{BAOLI}-2/" not in page
    _wardens_buildings(warden, [f"{BAOLI}-{b}" for b in (1, 2, 3, 4, 5, 6, 8)])  # 7 → 14 buildings
    # 13: session, user, grants, the buildings held, their compound, its crumbs, household and
    # resident counts, roles, follow-ups (mine, open, overdue), unread inbox
    with django_assert_max_num_queries(13 + 1) as large:
        _captured, page = _page(client, "/")
        assert len(large) == len(small), _more(small, large)
    assert f"/areas/{BAOLI}-2/" in page and f"/areas/{BAOLI}-8/" in page


def test_the_wardens_home_reads_the_same_number_of_queries_with_buildings_in_a_second_compound(
    warden: User,
) -> None:
    client = web_client(warden)
    client.get("/")
    small, _page_before = _page(client, "/")
    _wardens_buildings(warden, [f"{FUGUI}-{b}" for b in (7, 8, 9)])
    large, page = _page(client, "/")
    assert "富贵佳园" in page
    assert len(large) == len(small), _more(small, large)


def test_the_commanders_home_reads_the_same_number_of_queries_with_more_districts_in_the_city(
    commander: User,
    django_assert_max_num_queries: Any,
) -> None:
    client = web_client(commander)
    client.get("/")
    small, _page_before = _page(client, "/")
    _districts_open(["新城区", "高新区", "滨河新区", "北梁新区"])
    # 11: session, user, grants, the city, its districts, their household counts (one query),
    # roles, follow-ups (mine, open, overdue), unread inbox
    with django_assert_max_num_queries(11 + 1) as large:
        _captured, page = _page(client, "/")
        assert len(large) == len(small), _more(small, large)
    assert "高新区" in page and "北梁新区" in page


def test_the_household_page_reads_the_same_number_of_queries_with_more_residents(
    warden: User,
    django_assert_max_num_queries: Any,
) -> None:
    client = web_client(warden)
    path = f"/areas/{BAOLI_34_2_6W}/"
    client.get(path)
    small, _page_before = _page(client, path)
    moved_in = _residents_move_in(BAOLI_34_2_6W, 8)
    # 9: session, user, the household, grants, its residents, one audit event for the names
    # shown in full, crumbs, unread inbox, its cars
    with django_assert_max_num_queries(9 + 1) as large:
        _captured, page = _page(client, path)
        assert len(large) == len(small), _more(small, large)
    assert all(r.name in page and r.id_number in page for r in moved_in)


def test_the_compound_page_reads_the_same_number_of_queries_with_twice_the_buildings_and_another_gate(
    warden: User,
    django_assert_max_num_queries: Any,
) -> None:
    client = web_client(warden)
    path = f"/areas/{BAOLI}/"
    client.get(path)
    small, _page_before = _page(client, path)
    _wardens_buildings(warden, [f"{BAOLI}-{b}" for b in (1, 2, 3, 4, 5, 6, 8)])
    _gates_open(f"{BAOLI}-N")
    # 10: session, user, the compound, grants, the buildings held, crumbs, household and
    # resident counts, the gates, unread inbox
    with django_assert_max_num_queries(10 + 1) as large:
        _captured, page = _page(client, path)
        assert len(large) == len(small), _more(small, large)
    assert f"/areas/{BAOLI}-8/" in page and "北门" in page


def test_the_wardens_follow_ups_read_the_same_number_of_queries_with_forty_more(
    warden: User,
    django_assert_max_num_queries: Any,
) -> None:
    client = web_client(warden)
    _followups_open([warden], _households()[:3], 0, 3)
    client.get("/followups/")
    small, page = _page(client, "/followups/")
    before = page.count("data-followup=")
    _followups_open([warden], _households(), 3, 40)
    # 8: session, user, grants, counts (the page, mine, overdue), unread inbox, one page of
    # follow-ups with their areas and owners
    with django_assert_max_num_queries(8 + 1) as large:
        _captured, page = _page(client, "/followups/")
        assert len(large) == len(small), _more(small, large)
    assert page.count("data-followup=") == before + 40


def test_the_commanders_follow_up_board_reads_the_same_number_of_queries_with_forty_more_of_many_owners(
    commander: User,
    warden: User,
    warden_jy: User,
    station_xnb: User,
    django_assert_max_num_queries: Any,
) -> None:
    client = web_client(commander)
    _followups_open([warden], _households()[:3], 0, 3)
    client.get("/followups/")
    small, page = _page(client, "/followups/")
    before = page.count("data-followup=")
    everywhere = _households() + _households(f"{FUGUI}-2") + [BAOLI, FUGUI]
    _followups_open([warden, warden_jy, station_xnb], everywhere, 3, 40)
    # 8: session, user, grants, counts (the page, mine, overdue), unread inbox, one page of
    # follow-ups with their areas and owners
    with django_assert_max_num_queries(8 + 1) as large:
        _captured, page = _page(client, "/followups/")
        assert len(large) == len(small), _more(small, large)
    assert page.count("data-followup=") == before + 40


@pytest.mark.parametrize("viewer", ["commander", "warden"])
def test_the_gates_overview_reads_the_same_number_of_queries_with_more_gates_and_records_today(
    viewer: str,
    gate: User,
    django_user_model: Any,
    django_assert_max_num_queries: Any,
) -> None:
    user = django_user_model.objects.get(username=viewer)
    client = web_client(user)
    device = api_for(gate)
    _post(device, "/gate-checks", _gate_records(0, 2, fever_every=2))
    client.get("/gates/")
    small, page = _page(client, "/gates/")
    gates_before = page.count("data-gate=")
    _gates_open(f"{BAOLI}-N", f"{BAOLI}-S", f"{FUGUI}-N")
    _post(device, "/gate-checks", _gate_records(2, 60, fever_every=7))
    # 9 (8 for the warden): session, user, grants, the gates in sight (count, rows with their
    # compounds), today's counts per gate (one grouped query), the gates the user records at,
    # the checkpoints held (a commander), unread inbox
    with django_assert_max_num_queries(9 + 1) as large:
        _captured, page = _page(client, "/gates/")
        assert len(large) == len(small), _more(small, large)
    assert page.count("data-gate=") == gates_before + (3 if viewer == "commander" else 2)


def test_today_reads_the_same_number_of_queries_with_more_fevers_and_key_region_cars(
    warden: User,
    gate: User,
    checkpoint_officer: User,
    django_assert_max_num_queries: Any,
) -> None:
    client = web_client(warden)
    device, checkpoint = api_for(gate), api_for(checkpoint_officer)
    _post(device, "/gate-checks", _gate_records(0, 1, fever_every=1))
    _post(checkpoint, "/vehicle-checks", _vehicle_checks(0, 1))
    client.get("/today/")
    small, page = _page(client, "/today/")
    assert page.count('class="fever-row"') == 1
    _post(
        device, "/gate-checks", _gate_records(1, 40, fever_every=2)
    )  # 20 fevers, visitors among them
    _post(checkpoint, "/vehicle-checks", _vehicle_checks(1, 10))
    # 6: session, user, grants, fevers with gate, compound and household, key-region cars with
    # checkpoint, destination, region and registered car, unread inbox
    with django_assert_max_num_queries(6 + 1) as large:
        _captured, page = _page(client, "/today/")
        assert len(large) == len(small), _more(small, large)
    assert page.count('class="fever-row"') == 21 and "鄂A10010" in page


# --- device APIs -----------------------------------------------------------------------------


def test_a_batch_of_fifty_gate_records_costs_the_same_queries_as_a_batch_of_one(
    gate: User,
    django_assert_max_num_queries: Any,
) -> None:
    device = api_for(gate)
    device.get("/gates")  # the token is marked used on its first call, not on every call
    one, fifty = _gate_records(0, 1), _gate_records(1, 50)
    assert any("visitor" in r for r in fifty) and {r["gate"] for r in fifty} == {EAST, WEST}
    small, results = _post(device, "/gate-checks", one)
    assert [r["status"] for r in results] == ["created"]
    # 9: token, gates, passes, grants, resends, home observations; one INSERT of the whole
    # batch inside a savepoint
    with django_assert_max_num_queries(9 + 1) as large:
        _captured, results = _post(device, "/gate-checks", fifty)
        assert len(large) == len(small), _more(small, large)
    assert {r["status"] for r in results} == {"created"}


def test_fevers_in_ten_households_read_no_more_than_a_fever_in_one(
    gate: User,
    django_assert_max_num_queries: Any,
) -> None:
    """Each fever opens a follow-up of its own and tells the warden and the health liaison:
    those are writes, one set per follow-up. What the batch reads to get there — open
    follow-ups, who answers, the places, the channels — is read once."""
    device = api_for(gate)
    device.get("/gates")
    one, ten = (
        _gate_records(0, 1, fever_every=1),
        _gate_records(1, 10, fever_every=1, visitors=False),
    )
    small, results = _post(device, "/gate-checks", one)
    assert [r["alerts"] for r in results] == [["fever"]]
    # 16: token, gates, passes, grants, resends, home observations, households, open
    # follow-ups, who answers (grants, users), place names, channels; in a savepoint the
    # records' INSERT and the open follow-ups again. And 8 per follow-up: savepoints (4), the
    # follow-up, its first event, the warden's and the health liaison's inbox lines
    with django_assert_max_num_queries(16 + 8 * 10 + 1) as large:
        _captured, results = _post(device, "/gate-checks", ten)
        assert _selects(large) == _selects(small), _more(small, large)
    assert [r["alerts"] for r in results] == [["fever"]] * 10
    assert FollowUp.objects.filter(kind="fever").count() == 11


def test_a_key_region_car_bound_for_a_compound_stays_within_its_queries(
    checkpoint_officer: User,
    django_assert_max_num_queries: Any,
) -> None:
    device = api_for(checkpoint_officer)
    device.get("/checkpoints")
    # 26: token, resends, checkpoints, destinations, grants, key regions, registered cars; read
    # ahead of the transaction: open follow-ups, who answers (grants, users, the lead warden),
    # place names, channels; then in savepoints the inspections and their occupants (one
    # INSERT each), open follow-ups again, the follow-up, its event, an inbox line, and the
    # inbox lines of the compound's other wardens (one INSERT)
    with django_assert_max_num_queries(26 + 1):
        _captured, results = _post(device, "/vehicle-checks", _vehicle_checks(0, 1))
    assert results[0]["alerts"] == ["key_region_vehicle"]


def test_a_batch_of_twenty_vehicle_checks_costs_the_same_queries_as_a_batch_of_one(
    checkpoint_officer: User,
) -> None:
    device = api_for(checkpoint_officer)
    device.get("/checkpoints")
    small, results = _post(device, "/vehicle-checks", _vehicle_checks(0, 1, from_wuhan=False))
    assert [(r["status"], r["alerts"]) for r in results] == [("created", [])]
    large, results = _post(device, "/vehicle-checks", _vehicle_checks(1, 20, from_wuhan=False))
    assert {(r["status"], tuple(r["alerts"])) for r in results} == {("created", ())}
    assert len(large) == len(small), _more(small, large)
