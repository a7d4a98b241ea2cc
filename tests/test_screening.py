"""Visits and rounds, at the service level: matching people, adding the unregistered once, a
returnee put under observation, nothing half-written, coverage against hand-counted numbers."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone, translation

from louzhang.areas.models import Area
from louzhang.followups.models import FollowUp
from louzhang.gates.models import HomeObservation
from louzhang.identifiers.id_numbers import check_character
from louzhang.observation.models import Observation, Status
from louzhang.registry.models import Resident
from louzhang.screening.models import RoundHousehold, Visit
from louzhang.screening.selectors import (
    coverage,
    coverage_by_station,
    coverage_by_warden,
    next_in_stairwell,
    progress,
    still_to_visit,
)
from louzhang.screening.services import (
    NeedsConfirmation,
    VisitIn,
    VisitRejected,
    round_open,
    visit_record,
    visits_ingest,
)
from tests.conftest import BAOLI, BAOLI_1

pytestmark = pytest.mark.django_db

BUILDING = f"{BAOLI}-33"  # the demo warden's, 24 households


def _id(born: str, seq: int) -> str:
    first = f"150202{born}{seq:03d}"
    return first + check_character(first)


def _visit(household: str, *, client: str, mode: str = "in_person", people: list[Any] | None = None,
           at: datetime | None = None) -> VisitIn:
    return VisitIn.model_validate({
        "client_id": client, "household": household, "mode": mode, "people": people or [],
        "at": (at or timezone.now() - timedelta(minutes=5)).isoformat()})


def _household(n: int, building: str = BUILDING) -> str:
    unit, rest = divmod(n, 12)
    floor, door = divmod(rest, 2)
    return f"{building}-{unit + 1}-{floor + 1:02d}{door + 1:02d}"


def test_a_returnee_found_at_a_visit_is_put_under_home_observation(warden: Any) -> None:
    household = _household(3)
    member = Resident.objects.filter(household__code=household).first()
    assert member is not None
    today = timezone.localdate()
    result = visit_record(actor=warden, data=_visit(household, client="r-1", people=[{
        "resident": member.pk, "key_region_stay": {"region": "武汉市", "from": str(today - timedelta(days=12)),
                                                   "to": str(today - timedelta(days=5))},
        "returned_at": str(today - timedelta(days=5)), "travel": "K1234"}]))
    assert result.status == "created" and len(result.observations) == 1
    observation = Observation.objects.get(pk=result.observations[0])
    assert observation.status == Status.ACTIVE and observation.resident == member
    assert observation.ends_on == today - timedelta(days=5) + timedelta(days=14)
    assert "武汉市" in observation.reason and "K1234" in observation.reason
    # the household is marked for the gate rule
    mark = HomeObservation.objects.get(pk=observation.gate_mark_id)
    assert mark.household.code == household and mark.ended_at is None
    # a second visit finding the same does not observe them twice
    again = visit_record(actor=warden, data=_visit(household, client="r-2", people=[{
        "resident": member.pk, "key_region_stay": {"region": "武汉市"}, "returned_at": str(today - timedelta(days=5))}]))
    assert again.observations == [observation.pk]
    assert Observation.objects.filter(resident=member).count() == 1


def test_a_stay_outside_any_key_region_opens_nothing(warden: Any) -> None:
    household = _household(4)
    member = Resident.objects.filter(household__code=household).first()
    assert member is not None
    result = visit_record(actor=warden, data=_visit(household, client="r-3", people=[{
        "resident": member.pk, "key_region_stay": {"region": "呼和浩特市"},
        "returned_at": str(timezone.localdate() - timedelta(days=2))}]))
    assert result.observations == []


def test_a_person_not_registered_is_added_once_and_a_bad_visit_keeps_nothing(warden: Any) -> None:
    household = _household(5)
    newcomer = _id("19900101", 901)
    before = Resident.objects.count()
    bad = _visit(household, client="n-1", people=[
        {"id_number": newcomer, "name": "新住户"},
        {"id_number": "150202199001019999", "name": "写错的"},
    ])
    with pytest.raises(VisitRejected) as rejected, translation.override("zh-hans"):
        visit_record(actor=warden, data=bad)
    assert rejected.value.errors[0]["loc"] == ["people", 1, "id_number"]
    assert "校验位" in rejected.value.errors[0]["msg"]  # checksum
    # nothing half-written: the good person of the rejected visit was not added
    assert Resident.objects.count() == before and not Visit.objects.filter(client_id="n-1").exists()
    good = _visit(household, client="n-2", people=[{"id_number": newcomer, "name": "新住户", "phone": "13912345678"}])
    first = visit_record(actor=warden, data=good)
    assert first.status == "created" and len(first.added) == 1
    second = visit_record(actor=warden, data=good)  # the same visit sent again
    assert second.status == "duplicate" and second.id == first.id
    # the same person at a later visit: matched by ID number, not added again
    third = visit_record(actor=warden, data=_visit(household, client="n-3", people=[{"id_number": newcomer}]))
    assert third.added == []
    assert Resident.objects.filter(id_number=newcomer).count() == 1
    added = Resident.objects.get(id_number=newcomer)
    assert added.household.code == household and added.residency == Resident.Residency.TEMPORARY


def test_name_and_phone_alone_ask_the_officer_to_confirm(warden: Any) -> None:
    household = _household(6)
    member = Resident.objects.filter(household__code=household).first()
    assert member is not None
    member.phone = "13912345678"  # (demo phones are random digits, not all valid numbers)
    member.save()
    # a page asks to confirm when two people share name and phone
    twin = Resident.objects.create(household=Area.objects.get(code=_household(7)), name=member.name,
                                   phone=member.phone, id_number=_id("19800101", 902), gender="M",
                                   birth_date=date(1980, 1, 1))
    said = {"name": member.name, "phone": member.phone}
    # in the member's own household the one member of that name and phone is certain
    result = visit_record(actor=warden, data=_visit(household, client="c-1", people=[said]), confirm=True)
    assert result.status == "created"
    # from a household where neither lives, both are candidates
    with pytest.raises(NeedsConfirmation) as asked:
        visit_record(actor=warden, data=_visit(_household(8), client="c-2", people=[said]), confirm=True)
    assert {r.pk for r in asked.value.candidates[0].residents} == {member.pk, twin.pk}
    assert not Visit.objects.filter(client_id="c-2").exists()
    # a device cannot confirm: several candidates are an error naming the field
    [answer] = visits_ingest(user=warden, records=[{**_visit(_household(8), client="c-3").model_dump(mode="json"),
                                                    "people": [said]}])
    assert answer.status == "rejected" and answer.errors[0]["loc"] == ["people", 0, "id_number"]


def test_visits_outside_the_jurisdiction_are_refused(warden: Any, gate: Any) -> None:
    [answer] = visits_ingest(user=warden, records=[_visit(f"{BAOLI_1}-1-0101", client="x-1").model_dump(mode="json")])
    assert answer.status == "rejected" and answer.errors[0]["loc"] == ["household"]
    with pytest.raises(PermissionDenied):
        visits_ingest(user=gate, records=[_visit(_household(1), client="x-2").model_dump(mode="json")])


def test_coverage_counts_what_was_found_against_a_hand_count(warden: Any, station_xnb: Any) -> None:
    building = Area.objects.get(code=BUILDING)
    round_ = round_open(actor=station_xnb, area=building.parent, name="全面摸排",
                        starts_on=timezone.localdate() - timedelta(days=1))
    with pytest.raises(PermissionDenied):
        round_open(actor=warden, area=building, name="x", starts_on=timezone.localdate())
    yesterday = timezone.now() - timedelta(days=1)
    member_of = {n: Resident.objects.filter(household__code=_household(n)).first() for n in range(24)}
    # hand count: households 0, 1 reached (1 finds a person with a care need), 2 nobody home
    # twice, 3 nobody home once then reached; the other 20 not visited
    visit_record(actor=warden, data=_visit(_household(0), client="v0", at=yesterday))
    visit_record(actor=warden, data=_visit(_household(1), client="v1", people=[
        {"resident": member_of[1].pk, "care": ["elderly_alone"]}]))  # type: ignore[union-attr]
    visit_record(actor=warden, data=_visit(_household(2), client="v2a", mode="nobody_home", at=yesterday))
    visit_record(actor=warden, data=_visit(_household(2), client="v2b", mode="nobody_home"))
    visit_record(actor=warden, data=_visit(_household(3), client="v3a", mode="nobody_home", at=yesterday))
    visit_record(actor=warden, data=_visit(_household(3), client="v3b", mode="phone"))

    total = coverage(station_xnb, round_, building.parent)
    row = next(r for r in total.children if r.area == building)
    assert (row.households, row.reached, row.nobody_home, row.not_visited) == (24, 3, 1, 20)
    assert row.care == 1 and row.returnees == 0
    assert row.percent == 12.5  # 3 of 24
    # the warden's own view of the building: per unit
    units = coverage(warden, round_, building)
    assert [(r.label, r.households, r.reached, r.nobody_home) for r in units.children] == [
        ("一单元", 12, 3, 1), ("二单元", 12, 0, 0)]
    # per warden: the demo warden holds building 33
    by_warden = coverage_by_warden(station_xnb, round_, building)
    assert [(r.label, r.reached) for r in by_warden] == [(warden.display_name, 3)]
    # per police station, from the district
    stations = coverage_by_station(station_xnb, round_, Area.objects.get(code="150202"))
    assert [(s.label, s.households, s.reached) for s in stations] == [("西脑包派出所", 864, 3)]
    # day by day: 1 reached yesterday, 2 today
    days = progress(station_xnb, round_, building)
    assert [(d.isoformat(), n, so_far) for d, n, so_far in days][-2:] == [
        ((timezone.localdate() - timedelta(days=1)).isoformat(), 1, 1), (timezone.localdate().isoformat(), 2, 3)]
    # nobody home twice: a follow-up for the warden
    unreached = FollowUp.objects.get(rule="household_unreached", subject_id=f"{round_.pk}:{_household(2)}")
    assert unreached.owner == warden
    assert not FollowUp.objects.filter(rule="household_unreached", subject_id=f"{round_.pk}:{_household(3)}").exists()
    # still to visit: the household tried before first, then stairwell order; reached ones gone
    to_visit = still_to_visit(warden, round_)
    codes = [t.household.code for t in to_visit if t.household.code.startswith(BUILDING + "-")]
    cared = [_household(n) for n in range(4, 24) if Resident.objects.filter(
        household__code=_household(n)).exclude(care_tags="").exists()]
    assert cared, "the demo building has people needing care"
    # people needing care first (stairwell order), then the household tried before, then the rest
    assert codes[:len(cared) + 1] == [*cared, _household(2)]
    assert _household(0) not in codes and len(codes) == 21
    assert [t.reasons for t in to_visit[:1]] == [["care"]]
    assert next_in_stairwell(warden, Area.objects.get(code=_household(3)), round_).code == _household(4)  # type: ignore[union-attr]
    assert RoundHousehold.objects.filter(round=round_).count() == 4
    # the units' sums, kept visit by visit, are the households' rows added up (including the
    # household tried once, then reached by phone)
    from louzhang.screening.selectors import _per_unit, _per_unit_by_household

    compound = building.parent.path
    assert _per_unit(station_xnb, round_, compound) == _per_unit_by_household(station_xnb, round_, compound)
    assert _per_unit(warden, round_, compound) == _per_unit_by_household(warden, round_, compound)


def test_a_key_region_may_set_its_own_period(warden: Any) -> None:
    from louzhang.checkpoints.models import KeyRegion

    KeyRegion.objects.filter(name="武汉市").update(observation_days=21)
    household = _household(9)
    member = Resident.objects.filter(household__code=household).first()
    assert member is not None
    back = timezone.localdate() - timedelta(days=16)  # past 14 days, within 21
    result = visit_record(actor=warden, data=_visit(household, client="kr-1", people=[{
        "resident": member.pk, "key_region_stay": {"region": "武汉市江岸区"}, "returned_at": str(back)}]))
    observation = Observation.objects.get(pk=result.observations[0])
    assert observation.days == 21 and observation.ends_on == back + timedelta(days=21)
