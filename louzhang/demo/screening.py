"""The demo city's door-to-door screening: the round opened on 25 January ("1月25日起全面摸排",
here dated three days ago so that the figures are live), the warden 郝志东's visits in building
34 of 保利百合 — one of them finding a returnee from Wuhan, now under home observation with their
check-ins — and a household where nobody was home.

Everything goes through the services a warden's phone uses, so the demo shows what they do."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from louzhang.accounts.models import User
from louzhang.areas.models import Area
from louzhang.observation.models import Observation
from louzhang.observation.services import check_in_record
from louzhang.registry.models import Resident
from louzhang.screening.models import Round
from louzhang.screening.services import VisitIn, round_open, visit_record

ROUND_NAME = "全面摸排（1月25日起）"
COMPOUND = "150202001001001"  # 保利百合
#: the household where the visit found a returnee: 34号楼一单元3楼东户
RETURNEE_HOUSEHOLD = f"{COMPOUND}-34-1-0302"


def _at(days_ago: int, hour: int, minute: int = 0) -> datetime:
    day = timezone.localdate() - timedelta(days=days_ago)
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def _member(resident: Resident) -> dict[str, object]:
    """A member with nothing to report."""
    return {"resident": resident.pk}


def load_screening() -> int:
    """Load the round, the visits and the observation once; returns the visits made."""
    if Round.objects.filter(name=ROUND_NAME).exists():
        return 0
    station = User.objects.get(username="station_xnb")
    warden = User.objects.get(username="warden")
    health = User.objects.get(username="health")
    compound = Area.objects.get(code=COMPOUND)
    round_open(actor=station, area=compound, name=ROUND_NAME, starts_on=timezone.localdate() - timedelta(days=3))
    made = 0

    def visit(code: str, client_id: str, at: datetime, mode: str, people: list[dict[str, object]]) -> None:
        nonlocal made
        visit_record(actor=warden, data=VisitIn.model_validate({
            "client_id": client_id, "household": code, "at": at.isoformat(), "mode": mode,
            "people": people}))
        made += 1

    unit = f"{COMPOUND}-34-1"
    # 34号楼一单元, floor by floor: nothing to report, then the returnee
    for n, code in enumerate([f"{unit}-0101", f"{unit}-0102", f"{unit}-0201", f"{unit}-0202", f"{unit}-0301"]):
        members = Resident.objects.filter(household__code=code)
        visit(code, f"demo-visit-{n}", _at(2, 9, 10 * n), "in_person", [_member(m) for m in members])
    returned = timezone.localdate() - timedelta(days=4)
    family = list(Resident.objects.filter(household__code=RETURNEE_HOUSEHOLD).order_by("birth_date"))
    youngest = family[-1]
    visit(RETURNEE_HOUSEHOLD, "demo-visit-returnee", _at(2, 10, 5), "in_person", [
        {"resident": youngest.pk, "key_region_stay": {"region": "武汉市",
                                                     "from": (returned - timedelta(days=9)).isoformat(),
                                                     "to": returned.isoformat()},
         "returned_at": returned.isoformat(), "travel": "K1234",
         "advice": "居家观察14天，每日早晚测体温并报告"},
        *[_member(m) for m in family[:-1]],
    ])
    # nobody home, twice: the round asks the warden to reach them another way
    visit(f"{unit}-0401", "demo-visit-nobody-1", _at(2, 10, 30), "nobody_home", [])
    visit(f"{unit}-0401", "demo-visit-nobody-2", _at(1, 18, 40), "nobody_home", [])
    # the returnee's check-ins: yesterday morning and evening through the personal link, this morning by
    # the health liaison's phone call
    observation = Observation.objects.get(resident=youngest)
    for client_id, at, temperature, actor in [
        ("demo-checkin-1", _at(1, 8, 20), "36.5", None),
        ("demo-checkin-2", _at(1, 19, 5), "36.7", None),
        ("demo-checkin-3", min(_at(0, 8, 40), timezone.now()), "36.6", health),
    ]:
        check_in_record(observation=observation, at=at, temperature=Decimal(temperature), actor=actor,
                        via="officer" if actor else "resident", client_id=client_id)
    return made
