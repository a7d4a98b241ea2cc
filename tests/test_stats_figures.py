"""The figures of a day counted by hand: a known day of events in a test city of its own (two
districts, three compounds, three stations), made through the services a phone, a gate device
and a checkpoint use, then `rollup_day` — every figure of `figures.FIGURES` for a compound, a
station, both districts and the city against numbers written out here, not recomputed.

The day is 2020-02-10 (Asia/Shanghai); records at 23:59 the day before and 00:01 the day after
fall on their own local day. The demo city loaded in the test database is elsewhere on the
tree and in 2026: it changes none of these numbers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from louzhang.accounts.models import Role, User
from louzhang.accounts.services import user_create
from louzhang.areas.models import Area, Level, PoliceUnit
from louzhang.areas.services import area_create
from louzhang.checkpoints.models import Checkpoint
from louzhang.checkpoints.services import vehicle_checks_ingest
from louzhang.demo.city import make_id_number
from louzhang.disinfection.services import disinfection_record
from louzhang.duty.models import DutyStatus, Officer
from louzhang.duty.selectors import police_units
from louzhang.duty.services import officer_status_set
from louzhang.followups.models import FollowUp
from louzhang.followups.services import followup_assign, followup_close
from louzhang.gates.models import Gate, HouseholdPass
from louzhang.gates.services import gate_checks_ingest, passes_issue
from louzhang.observation.models import Observation, Source, Status
from louzhang.observation.services import (
    check_in_record,
    observation_close,
    observation_open,
    observations_sweep,
)
from louzhang.registry.models import Resident
from louzhang.screening.services import VisitIn, visit_record
from louzhang.stats import figures as F
from louzhang.stats.models import AreaDay, UnitDay
from louzhang.stats.rollup import rebuild, rollup_day
from louzhang.stats.selectors import Place, area_place, figures, station_place, total
from louzhang.tips.models import Category
from louzhang.tips.models import Source as TipSource
from louzhang.tips.models import Status as TipStatus
from louzhang.tips.services import TipIn, tip_close, tip_receive, tip_verify_start

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
D = date(2020, 2, 10)
CITY, DIST_A, DIST_B = "990100", "990101", "990102"
SUB_A, SUB_B = "990101001", "990102001"
COMM_A1, COMM_A2, COMM_B1 = "990101001001", "990101001002", "990102001001"
CA1, CA2, CB1 = "990101001001001", "990101001002001", "990102001001001"


def at(day: date, hhmm: str) -> datetime:
    hour, minute = (int(p) for p in hhmm.split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


def on(day: date, hhmm: str, days: int = 0) -> datetime:
    return at(day + timedelta(days=days), hhmm)


@dataclass
class World:
    users: dict[str, User] = field(default_factory=dict)
    officers: dict[str, Officer] = field(default_factory=dict)
    observations: dict[str, Observation] = field(default_factory=dict)
    followups: dict[str, FollowUp] = field(default_factory=dict)
    n: int = 0

    def cid(self) -> str:
        self.n += 1
        return f"hand-{self.n}"


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(at(D, "00:00") - timedelta(days=20), tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def _rules(settings: Any) -> None:
    settings.LOUZHANG_FEVER_THRESHOLD = 37.3
    settings.LOUZHANG_OBSERVATION_NEEDS_CONFIRMATION = False
    settings.LOUZHANG_CHECK_IN_EVENING_DEADLINE = "21:00"
    settings.LOUZHANG_OBSERVATION_DAYS = 14


def _tree() -> None:
    city = area_create(code=CITY, name="测试市", level=Level.CITY, parent=None)
    a = area_create(code=DIST_A, name="甲区", level=Level.DISTRICT, parent=city)
    b = area_create(code=DIST_B, name="乙区", level=Level.DISTRICT, parent=city)
    sa = area_create(code=SUB_A, name="甲街道", level=Level.SUBDISTRICT, parent=a)
    sb = area_create(code=SUB_B, name="乙街道", level=Level.SUBDISTRICT, parent=b)
    comms = {COMM_A1: area_create(code=COMM_A1, name="一社区", level=Level.COMMUNITY, parent=sa),
             COMM_A2: area_create(code=COMM_A2, name="二社区", level=Level.COMMUNITY, parent=sa),
             COMM_B1: area_create(code=COMM_B1, name="三社区", level=Level.COMMUNITY, parent=sb)}
    seq = 0
    # CA1: building 1, units 1 and 2 (4 + 2 households); CA2, CB1: one unit of 4 households
    for code, community, units in ((CA1, COMM_A1, {1: 4, 2: 2}), (CA2, COMM_A2, {1: 4}), (CB1, COMM_B1, {1: 4})):
        compound = area_create(code=code, name=f"小区{code[-4:]}", level=Level.COMPOUND, parent=comms[community])
        building = area_create(code=f"{code}-1", name="1号楼", level=Level.BUILDING, parent=compound)
        for u, households in units.items():
            unit = area_create(code=f"{code}-1-{u}", name=f"{u}单元", level=Level.UNIT, parent=building)
            for h in ("0101", "0102", "0201", "0202")[:households]:
                household = area_create(code=f"{code}-1-{u}-{h}", name=f"{h}户", level=Level.HOUSEHOLD, parent=unit)
                for member in range(2):
                    seq += 1
                    Resident.objects.create(
                        name=f"居民{seq}", gender="M" if member else "F", birth_date=date(1980 + member, 1, 1),
                        id_number=make_id_number("150202", date(1980 + member, 1, 1), 500 + seq),
                        phone=f"139{seq:08d}", household=household, residency="permanent", is_head=member == 0)
        Gate.objects.create(code=f"{code}-E", name="东门", compound=compound)
        if code == CA1:
            Gate.objects.create(code=f"{code}-W", name="西门", compound=compound)
    passes_issue(households=list(Area.objects.filter(level=Level.HOUSEHOLD, path__startswith=city.path)))


def _police() -> dict[str, PoliceUnit]:
    area = {a.code: a for a in Area.objects.filter(code__in=[CITY, DIST_A, DIST_B, SUB_A, SUB_B])}
    bureau = PoliceUnit.objects.create(code="T-PSB", name="测试市公安局", kind="bureau", area=area[CITY])
    ba = PoliceUnit.objects.create(code="T-A", name="甲区分局", kind="branch", parent=bureau, area=area[DIST_A])
    bb = PoliceUnit.objects.create(code="T-B", name="乙区分局", kind="branch", parent=bureau, area=area[DIST_B])
    units = {"P0": bureau, "PA": ba, "PB": bb}
    for key, code, parent, sub, community in (("SA", "T-A-1", ba, SUB_A, COMM_A1), ("SA2", "T-A-2", ba, SUB_A, COMM_A2),
                                              ("SB", "T-B-1", bb, SUB_B, COMM_B1)):
        units[key] = PoliceUnit.objects.create(code=code, name=f"{key}派出所", kind="station", parent=parent, area=area[sub])
        units[key].communities.set(Area.objects.filter(code=community))
    Checkpoint.objects.create(code="T-CPA", name="甲区检查站", area=area[DIST_A], operating_unit=ba)
    Checkpoint.objects.create(code="T-CPB", name="三社区卡口", area=Area.objects.get(code=COMM_B1), operating_unit=bb)
    return units


def _resident(household: str, head: bool = True) -> Resident:
    return Resident.objects.get(household__code=household, is_head=head)


def _pass(household: str) -> str:
    return HouseholdPass.objects.get(household__code=household).code


def build(clock: Any) -> World:
    """The test city and its events from 20 days before the day to the end of the day."""
    w = World()
    clock.move_to(on(D, "08:00", -20))
    _tree()
    units = _police()
    w.users = {
        "cmd": user_create(username="t_cmd", role=Role.COMMANDER, area_codes=[CITY], check_password=False),
        "warden": user_create(username="t_warden", role=Role.WARDEN, area_codes=[CA1, CA2, CB1], check_password=False),
        "gate": user_create(username="t_gate", role=Role.GATE, area_codes=[CA1, CA2, CB1], check_password=False),
        "cp": user_create(username="t_cp", role=Role.CHECKPOINT, area_codes=[CITY], check_password=False),
        "health": user_create(username="t_health", role=Role.HEALTH, area_codes=[CITY], check_password=False),
    }

    # --- officers, three days before: statuses set by the commander (the operator) --------
    clock.move_to(on(D, "10:00", -3))
    for key, unit, status in (("o1", "SA", DutyStatus.ON_POST), ("o2", "SA", DutyStatus.ON_POST),
                              ("o3", "SA", None), ("o5", "PA", DutyStatus.ON_POST),
                              ("o6", "SB", DutyStatus.ON_POST), ("o7", "SB", None), ("o8", "P0", DutyStatus.ON_POST)):
        officer = Officer.objects.create(badge_number=f"99{key}", name=key, unit=units[unit], category="police")
        if status:
            officer_status_set(actor=None, officer=officer, status=status, reason="一级响应")
        w.officers[key] = officer
    # on post since it was created, and never changed: no history row (as the demo's rosters)
    w.officers["o4"] = Officer.objects.create(badge_number="99o4", name="o4", unit=units["SA2"],
                                              category="police", status=DutyStatus.ON_POST)

    # --- observations that began earlier --------------------------------------------------
    clock.move_to(on(D, "10:00", -14))
    w.observations["B"] = observation_open(
        actor=w.users["health"], household=Area.objects.get(code=f"{CB1}-1-1-0101"),
        resident=_resident(f"{CB1}-1-1-0101"), reason="密接", last_exposure=D - timedelta(days=14),
        source=Source.HEALTH)[0]
    clock.move_to(on(D, "10:00", -5))
    w.observations["A"] = observation_open(
        actor=w.users["health"], household=Area.objects.get(code=f"{CA1}-1-1-0101"),
        resident=_resident(f"{CA1}-1-1-0101"), reason="武汉返回", last_exposure=D - timedelta(days=6),
        source=Source.HEALTH)[0]
    clock.move_to(on(D, "23:00", -1))
    observations_sweep()

    # --- the evening before: 23:59 --------------------------------------------------------
    clock.move_to(on(D, "23:59", -1))
    gates(w, [(f"{CA1}-E", "in", "36.5", f"{CA1}-1-1-0102")])
    vehicles(w, [("T-CPA", "鄂A12345", ["38.5"])])
    visit(w, f"{CA1}-1-1-0201", "in_person", [])
    check_in_record(observation=w.observations["B"], at=on(D, "23:59", -1), temperature=Decimal("38.0"),
                    actor=w.users["health"], client_id=w.cid())
    late_tip = tip_receive(TipIn(area=Area.objects.get(code=f"{CA2}-1"), category=Category.OTHER,
                                 content="楼下有人聚集打牌"), source=TipSource.WEB).tip
    disinfect(w, f"{CA2}-1-1")

    # --- the day: 00:01 -------------------------------------------------------------------
    clock.move_to(on(D, "00:01"))
    gates(w, [(f"{CA1}-W", "out", "36.6", f"{CA1}-1-1-0201")])
    check_in_record(observation=w.observations["B"], at=on(D, "00:01"), temperature=Decimal("37.6"),
                    actor=w.users["health"], client_id=w.cid())
    tip_receive(TipIn(area=Area.objects.get(code=f"{CB1}-1"), category=Category.OTHER, content="有人从外地回来"),
                source=TipSource.WEB)
    disinfect(w, f"{CA2}-1-1")
    tip_verify_start(tip=late_tip, actor=w.users["warden"])
    tip_close(tip=late_tip, actor=w.users["warden"], status=TipStatus.UNFOUNDED, outcome="已劝散")
    visit(w, f"{CB1}-1-1-0102", "phone", [])

    # --- the day --------------------------------------------------------------------------
    clock.move_to(on(D, "08:00"))
    gates(w, [(f"{CA1}-E", "in", "36.4", f"{CA1}-1-1-0102")])
    tip = tip_receive(TipIn(area=Area.objects.get(code=f"{CA1}-1"), category=Category.OTHER, content="电梯没消毒"),
                      source=TipSource.WEB).tip
    disinfect(w, f"{CA1}-1-1")
    clock.move_to(on(D, "08:10"))
    gates(w, [(f"{CA1}-E", "out", "38.2", f"{CA1}-1-1-0102")])
    clock.move_to(on(D, "09:00"))
    gates(w, [(f"{CA1}-E", "out", "36.5", f"{CA1}-1-1-0101")])  # under observation: a breach
    vehicles(w, [("T-CPA", "鄂A23456", ["38.0", "36.5"])])
    visit(w, f"{CA1}-1-1-0201", "in_person", [{
        "resident": _resident(f"{CA1}-1-1-0201").pk,
        "key_region_stay": {"region": "武汉市", "from": str(D - timedelta(days=12)), "to": str(D - timedelta(days=2))},
        "returned_at": str(D - timedelta(days=2))}])
    w.observations["C"] = Observation.objects.get(resident=_resident(f"{CA1}-1-1-0201"))
    disinfect(w, f"{CA1}-1-2")
    w.followups["district"] = followup_assign(actor=w.users["cmd"], area=Area.objects.get(code=DIST_A),
                                              summary="检查站人手", action="调配", due_in=timedelta(hours=2))
    clock.move_to(on(D, "09:30"))
    gates(w, [(f"{CA1}-E", "in", "36.6", f"{CA1}-1-1-0101")])  # coming in is no breach
    vehicles(w, [("T-CPA", "蒙B12345", ["36.4"])])
    clock.move_to(on(D, "10:00"))
    gates(w, [(f"{CA2}-E", "in", "37.3", f"{CA2}-1-1-0101")])  # at the threshold: a fever
    visit(w, f"{CA1}-1-1-0202", "in_person", [])
    observation_close(actor=w.users["health"], observation=w.observations["B"], status=Status.RELEASED, today=D)
    w.followups["station"] = followup_assign(actor=w.users["cmd"], area=Area.objects.get(code=COMM_A1),
                                             summary="社区排班", action="排班", due_in=timedelta(hours=48))
    clock.move_to(on(D, "10:05"))
    gates(w, [(f"{CA2}-E", "in", "36.5", None)])
    clock.move_to(on(D, "11:00"))
    gates(w, [(f"{CA2}-E", "out", "37.2", f"{CA2}-1-1-0102")])
    visit(w, f"{CA2}-1-1-0201", "in_person", [{"resident": _resident(f"{CA2}-1-1-0201").pk,
                                              "contact_with_case": True}])
    w.followups["compound"] = followup_assign(actor=w.users["cmd"], area=Area.objects.get(code=CA2),
                                              summary="门岗缺人", action="补人", due_in=timedelta(hours=1))
    clock.move_to(on(D, "11:30"))
    visit(w, f"{CA2}-1-1-0202", "nobody_home", [])
    clock.move_to(on(D, "12:00"))
    gates(w, [(f"{CB1}-E", "in", "38.5", None)])
    clock.move_to(on(D, "12:05"))
    observations_sweep()
    clock.move_to(on(D, "12:30"))
    gates(w, [(f"{CB1}-E", "out", "36.3", f"{CB1}-1-1-0201")])
    clock.move_to(on(D, "13:00"))
    vehicles(w, [("T-CPA", "鄂F34567", ["36.6", "36.7"])])
    clock.move_to(on(D, "14:00"))
    vehicles(w, [("T-CPB", "蒙A54321", ["37.4"])])
    officer_status_set(actor=None, officer=w.officers["o2"], status=DutyStatus.SICK, reason="发热")
    clock.move_to(on(D, "15:00"))
    gates(w, [(f"{CB1}-E", "out", "36.4", f"{CB1}-1-1-0101")])  # released this morning: no breach
    visit(w, f"{CA1}-1-1-0202", "in_person", [{"resident": _resident(f"{CA1}-1-1-0202").pk, "symptoms": ["cough"]}])
    tip_verify_start(tip=tip, actor=w.users["warden"])
    tip_close(tip=tip, actor=w.users["warden"], status=TipStatus.UNFOUNDED, outcome="已消毒")
    clock.move_to(on(D, "16:00"))
    followup_close(followup=w.followups["compound"], actor=w.users["cmd"], done=True, finding="已补人")
    clock.move_to(on(D, "17:00"))
    gates(w, [(f"{CA1}-E", "out", "36.7", f"{CA1}-1-1-0101")])  # the second breach
    clock.move_to(on(D, "18:00"))
    disinfect(w, f"{CA1}-1-1")
    clock.move_to(on(D, "19:00"))
    check_in_record(observation=w.observations["A"], at=on(D, "19:00"), temperature=Decimal("38.0"),
                    actor=w.users["health"], client_id=w.cid())
    clock.move_to(on(D, "20:00"))
    check_in_record(observation=w.observations["C"], at=on(D, "20:00"), temperature=Decimal("36.6"),
                    actor=w.users["health"], client_id=w.cid())
    clock.move_to(on(D, "20:30"))
    check_in_record(observation=w.observations["A"], at=on(D, "20:30"), temperature=Decimal("38.1"),
                    actor=w.users["health"], client_id=w.cid())
    clock.move_to(on(D, "21:05"))
    observations_sweep()
    return w


def after_the_day(w: World, clock: Any) -> None:
    """The next morning: what happens then changes nothing of the day."""
    clock.move_to(on(D, "00:01", 1))
    gates(w, [(f"{CA1}-E", "in", "36.5", f"{CA1}-1-1-0102")])
    clock.move_to(on(D, "09:00", 1))
    officer_status_set(actor=None, officer=w.officers["o3"], status=DutyStatus.ON_POST)
    followup_close(followup=w.followups["district"], actor=w.users["cmd"], done=True, finding="已调配")
    clock.move_to(on(D, "10:00", 1))
    observation_close(actor=w.users["health"], observation=w.observations["C"], status=Status.MOVED,
                      note="搬走", today=D + timedelta(days=1))


def gates(w: World, records: list[tuple[str, str, str, str | None]]) -> None:
    from django.utils import timezone

    batch = [{"client_id": w.cid(), "gate": gate, "direction": direction,
              "at": timezone.localtime().isoformat(), "temperature": temperature,
              **({"pass_code": _pass(household)} if household else {"visitor": {"name": "访客"}})}
             for gate, direction, temperature, household in records]
    results = gate_checks_ingest(user=w.users["gate"], records=batch)
    assert [r.status for r in results] == ["created"] * len(batch), [r.as_dict() for r in results]


def vehicles(w: World, records: list[tuple[str, str, list[str]]]) -> None:
    from django.utils import timezone

    batch = [{"client_id": w.cid(), "checkpoint": cp, "at": timezone.localtime().isoformat(), "plate": plate,
              "occupants": [{"temperature": t} for t in temps], "disposition": "pass"}
             for cp, plate, temps in records]
    results = vehicle_checks_ingest(user=w.users["cp"], records=batch)
    assert [r.status for r in results] == ["created"] * len(batch), [r.as_dict() for r in results]


def visit(w: World, household: str, mode: str, people: list[dict[str, Any]]) -> None:
    from django.utils import timezone

    result = visit_record(actor=w.users["warden"], data=VisitIn.model_validate({
        "client_id": w.cid(), "household": household, "at": timezone.localtime().isoformat(), "mode": mode,
        "people": people}))
    assert result.status == "created"


def disinfect(w: World, unit: str) -> None:
    disinfection_record(unit=Area.objects.get(code=unit), areas=["stairwell"], agent="84消毒液",
                        client_id=w.cid(), actor=w.users["cmd"])


def place(code: str) -> Place:
    if code.startswith("station:"):
        unit = PoliceUnit.objects.get(code=code.removeprefix("station:"))
        return station_place(police_units()[unit.pk])
    return area_place(Area.objects.get(code=code))


# --- the hand count ---------------------------------------------------------------------------

#: compound 1 (CA1, community 一社区, station T-A-1)
HAND_CA1 = dict(
    officers=0, officers_on_post=0,
    households=6, households_visited=2,  # 0201 (the returnee), 0202 twice: one household
    returnees_found=1, symptomatic_found=1, contacts_found=0,
    under_observation=2,  # A (since five days), C (found this morning)
    observations_started=1,  # C
    check_ins_missed=2,  # A and C missed the morning (swept 12:05)
    released=0,
    breaches=2,  # 0101 went out at 09:00 and 17:00; in at 09:30 is none, nor 0201 at 00:01
    fevers=2,  # 38.2 at the gate; A's 38.0 and 38.1 check-ins (one person)
    gate_checks=6,  # 00:01, 08:00, 08:10, 09:00, 09:30, 17:00 (not 23:59 the day before)
    gate_fevers=1, vehicles_checked=0, key_region_vehicles=0, checkpoint_fevers=0,
    check_in_fevers=1,
    tips_received=1, tips_closed=1,
    # open at the end of the day, all overdue: the fever of 0102 (08:10), the breach of 0101
    # (09:00, 17:00 counted on it), the symptomatic person of 0202, A's fever check-in; the
    # tip is closed, A's and C's missed check-ins were settled by their evening check-ins
    followups_open=4, followups_overdue=4,
    units=2, units_disinfected=2,  # 1-1 twice, 1-2 once
)
HAND_CA2 = dict(
    officers=0, officers_on_post=0,
    households=4, households_visited=1,  # 0201; nobody home at 0202 is no visit
    returnees_found=0, symptomatic_found=0, contacts_found=1,
    under_observation=0,  # the contact is proposed, not yet under observation
    observations_started=0, check_ins_missed=0, released=0, breaches=0,
    fevers=1, gate_checks=3, gate_fevers=1,  # 37.3 is a fever, 37.2 is not
    vehicles_checked=0, key_region_vehicles=0, checkpoint_fevers=0, check_in_fevers=0,
    tips_received=0,  # received at 23:59 the day before
    tips_closed=1,  # closed at 00:01
    # the fever of 0101 and the contact's proposed observation, both overdue; the task given
    # at 11:00 was done at 16:00, the tip closed
    followups_open=2, followups_overdue=2,
    units=1, units_disinfected=1,  # 00:01 (23:59 was the day before)
)
HAND_CB1 = dict(
    officers=0, officers_on_post=0,
    households=4, households_visited=1,  # 0102 by phone at 00:01
    returnees_found=0, symptomatic_found=0, contacts_found=0,
    under_observation=0, observations_started=0, check_ins_missed=0,
    released=1,  # B, on their last day
    breaches=0,  # B's household went out after the release
    fevers=2,  # the visitor's 38.5, B's 37.6 at 00:01 (38.0 at 23:59 was the day before)
    gate_checks=3, gate_fevers=1,
    vehicles_checked=0,  # T-CPB lies in 三社区: its community's, not a compound's
    key_region_vehicles=0, checkpoint_fevers=0, check_in_fevers=1,
    tips_received=1, tips_closed=0,
    # B's fever check-in of 23:59 (overdue), the visitor's fever (overdue), the tip of 00:01
    # (due tomorrow 00:01)
    followups_open=3, followups_overdue=2,
    units=1, units_disinfected=0,
)
#: 三社区 = CB1 and checkpoint T-CPB: 蒙A54321 with one occupant at 37.4, its follow-up; and
#: the officers of station T-B-1, whose whole beat it is (o6 on post, o7 off duty)
HAND_COMM_B1 = {**HAND_CB1, "vehicles_checked": 1, "checkpoint_fevers": 1, "fevers": 3,
                "followups_open": 4, "followups_overdue": 3, "officers": 2, "officers_on_post": 1}
#: station T-B-1 (beat: 三社区): its community and its own officers
HAND_STATION_B = dict(HAND_COMM_B1)
#: 乙区: 三社区 and the officers of its branch (none) and station
HAND_DIST_B = dict(HAND_STATION_B)
#: station T-A-1 (beat: 一社区 = CA1): the task given at 一社区 (open, due in two days); three
#: officers: o1 on post, o2 sick since 14:00, o3 on post only the next morning
HAND_STATION_A = {**HAND_CA1, "followups_open": 5, "followups_overdue": 4, "officers": 3,
                  "officers_on_post": 1}
#: 甲区: CA1, CA2, the task at 一社区, at the district itself the task given at 09:00 (due
#: 11:00) and two checkpoint fevers of T-CPA (23:59 the day before, 09:00) all open; T-CPA's
#: day: 鄂A23456 (38.0 and 36.5), 蒙B12345, 鄂F34567; officers of T-A (o5), T-A-1 (o1 of
#: three), T-A-2 (o4, on post since created without a history row)
HAND_DIST_A = {k: HAND_CA1[k] + HAND_CA2[k] for k in F.KEYS}
HAND_DIST_A.update(vehicles_checked=3, key_region_vehicles=2, checkpoint_fevers=1, fevers=4,
                   followups_open=4 + 2 + 1 + 3, followups_overdue=4 + 2 + 3, officers=5,
                   officers_on_post=3)
#: the city: both districts and the bureau's officer o8 (on post)
HAND_CITY = {k: HAND_DIST_A[k] + HAND_DIST_B[k] for k in F.KEYS}
HAND_CITY.update(officers=8, officers_on_post=5)


def _row_values(day: date) -> dict[tuple[str, int], tuple[int, ...]]:
    rows = {("area", r["area_id"]): tuple(r[k] for k in F.AREA_KEYS)
            for r in AreaDay.objects.filter(day=day).values("area_id", *F.AREA_KEYS)}
    rows.update({("unit", r["unit_id"]): (r["officers"], r["officers_on_post"])
                 for r in UnitDay.objects.filter(day=day).values("unit_id", "officers", "officers_on_post")})
    return rows


def test_every_figure_of_a_known_day_against_the_hand_count(clock: Any) -> None:
    build(clock)
    clock.move_to(on(D, "23:59"))
    rollup_day(D)
    for code, hand in ((CA1, HAND_CA1), (CA2, HAND_CA2), (CB1, HAND_CB1), (COMM_B1, HAND_COMM_B1),
                       ("station:T-A-1", HAND_STATION_A), ("station:T-B-1", HAND_STATION_B),
                       (DIST_A, HAND_DIST_A), (DIST_B, HAND_DIST_B), (CITY, HAND_CITY)):
        assert set(hand) == set(F.KEYS), code
        assert figures(place(code), D) == hand, code
    # the hand count is one: the city's area figures are its districts' sums
    assert all(HAND_CITY[k] == HAND_DIST_A[k] + HAND_DIST_B[k] for k in F.AREA_KEYS)


def test_the_day_boundary_is_the_local_day(clock: Any) -> None:
    build(clock)
    clock.move_to(on(D, "12:00", 1))
    rebuild(D - timedelta(days=1), D)
    before = figures(place(CA1), D - timedelta(days=1))
    assert (before["gate_checks"], before["households_visited"]) == (1, 1)  # 23:59
    ca2 = figures(place(CA2), D - timedelta(days=1))
    assert (ca2["tips_received"], ca2["tips_closed"], ca2["units_disinfected"]) == (1, 0, 1)
    cb1 = figures(place(CB1), D - timedelta(days=1))
    assert (cb1["check_in_fevers"], cb1["fevers"]) == (1, 1)  # B's 38.0 at 23:59
    district = figures(place(DIST_A), D - timedelta(days=1))
    assert (district["vehicles_checked"], district["key_region_vehicles"], district["checkpoint_fevers"]) == (1, 1, 1)
    # two days: events added up, states as they stood at the end of the last
    both = total([(d, figures(place(CA1), d)) for d in (D - timedelta(days=1), D)])
    assert (both["gate_checks"], both["households_visited"], both["under_observation"]) == (7, 3, 2)


def test_a_past_day_rebuilt_later_is_the_day_as_it_stood_at_its_end(clock: Any) -> None:
    w = build(clock)
    clock.move_to(on(D, "23:59"))
    rollup_day(D)
    live = _row_values(D)
    # the next morning: a gate record, o3 back on post, the district's task done, C moved away
    after_the_day(w, clock)
    clock.move_to(on(D, "12:00", 3))
    assert rebuild(D, D)[0][0] == D
    assert _row_values(D) == live
    assert figures(place(DIST_A), D) == HAND_DIST_A
    # and the next day is the next day's
    rebuild(D + timedelta(days=1), D + timedelta(days=1))
    nxt = figures(place("station:T-A-1"), D + timedelta(days=1))
    assert (nxt["officers_on_post"], nxt["under_observation"], nxt["gate_checks"]) == (2, 1, 1)
    assert figures(place(DIST_A), D + timedelta(days=1))["followups_open"] == HAND_DIST_A["followups_open"] - 1
