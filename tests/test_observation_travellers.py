"""The travellers of a key-region car a checkpoint let through: the warden of the compound they
were bound for puts them under home observation where they stay."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from louzhang.areas.models import Area
from louzhang.checkpoints.models import Occupant
from louzhang.gates.models import HomeObservation
from louzhang.observation.models import Source, Status
from louzhang.observation.services import ObservationError, traveller_observe
from louzhang.registry.models import Resident
from louzhang.registry.people import PersonError
from tests.conftest import BAOLI, api_for

pytestmark = pytest.mark.django_db

HOUSEHOLD = f"{BAOLI}-35-1-0101"  # the demo warden's building 35


def _inspect(officer: Any, n: int, occupants: list[dict[str, Any]], days_ago: int = 2) -> list[Occupant]:
    at = (timezone.now() - timedelta(days=days_ago)).isoformat()
    [result] = api_for(officer).post("/vehicle-checks", {
        "client_id": f"trav-{n}", "checkpoint": "DLT-CP1", "at": at, "plate": "鄂A7T3Q9",
        "origin": "武汉市", "destination": {"compound": BAOLI}, "occupants": occupants,
        "disposition": "pass"}).json()["results"]
    assert result["status"] == "created", result
    return list(Occupant.objects.filter(inspection_id=result["id"]).order_by("id"))


def test_a_traveller_is_added_and_observed_from_the_day_they_came(checkpoint_officer: Any, warden: Any) -> None:
    [driver] = _inspect(checkpoint_officer, 1, [
        {"name": "张三", "phone": "13812345678", "id_number": "11010519491231002X", "temperature": 36.6}])
    household = Area.objects.get(code=HOUSEHOLD)
    observation, created = traveller_observe(actor=warden, occupant=driver, household=household)
    assert created and observation.status == Status.ACTIVE and observation.source == Source.CHECKPOINT
    came = timezone.localdate() - timedelta(days=2)
    assert observation.last_exposure == came and observation.ends_on == came + timedelta(days=14)
    assert "鄂A7T3Q9" in observation.reason and observation.exposure_region == "武汉市"
    # registered in the household they stay in, once
    resident = Resident.objects.get(id_number="11010519491231002X")
    assert resident.household == household and observation.resident == resident
    assert HomeObservation.objects.filter(household=household, ended_at__isnull=True).exists()
    again, created_again = traveller_observe(actor=warden, occupant=driver, household=household)
    assert again == observation and not created_again


def test_a_traveller_without_an_id_number_cannot_be_added(checkpoint_officer: Any, warden: Any,
                                                          warden_jy: Any) -> None:
    [passenger] = _inspect(checkpoint_officer, 2, [{"name": "李四", "temperature": 36.5}])
    household = Area.objects.get(code=HOUSEHOLD)
    with pytest.raises(PersonError) as refused:
        traveller_observe(actor=warden, occupant=passenger, household=household)
    assert refused.value.field == "id_number"
    # another district's warden may not put anybody under observation here
    [other] = _inspect(checkpoint_officer, 3, [
        {"name": "王五", "id_number": "11010519491231002X", "temperature": 36.5}])
    with pytest.raises(PermissionDenied):
        traveller_observe(actor=warden_jy, occupant=other, household=household)


def test_a_car_long_ago_needs_no_observation(checkpoint_officer: Any, warden: Any) -> None:
    [driver] = _inspect(checkpoint_officer, 4, [
        {"name": "赵六", "id_number": "11010519491231002X", "temperature": 36.5}], days_ago=20)
    with pytest.raises(ObservationError):
        traveller_observe(actor=warden, occupant=driver, household=Area.objects.get(code=HOUSEHOLD))


def test_a_renewed_link_replaces_the_old_one(warden: Any, checkpoint_officer: Any) -> None:
    from django.test import Client

    from louzhang.observation.services import observation_link_renew
    from tests.conftest import web_client

    [driver] = _inspect(checkpoint_officer, 5, [
        {"name": "张三", "id_number": "11010519491231002X", "temperature": 36.6}])
    observation, _ = traveller_observe(actor=warden, occupant=driver, household=Area.objects.get(code=HOUSEHOLD))
    old = observation.token
    assert Client().get(f"/o/{old}/").status_code == 200
    page = web_client(warden).post(f"/observations/{observation.pk}/renew-link")
    assert page.status_code == 302
    observation.refresh_from_db()
    assert observation.token != old
    assert Client().get(f"/o/{old}/").status_code == 404
    assert Client().get(f"/o/{observation.token}/").status_code == 200
    assert observation.events.filter(kind="link_renewed").count() == 1
    with pytest.raises(PermissionDenied):
        from louzhang.accounts.models import User

        observation_link_renew(actor=User.objects.get(username="warden_jy"), observation=observation)


def test_the_compounds_warden_observes_the_travellers_from_the_follow_up(
        checkpoint_officer: Any, warden: Any, warden_jy: Any) -> None:
    from louzhang.followups.models import FollowUp
    from tests.conftest import web_client

    occupants = _inspect(checkpoint_officer, 6, [
        {"name": "张三", "id_number": "11010519491231002X", "temperature": 36.6},
        {"name": "李四", "temperature": 36.5}])
    inspection_id = occupants[0].inspection_id
    followup = FollowUp.objects.filter(kind="key_region_vehicle", state__in=["open", "acknowledged"]).latest("id")
    client = web_client(warden)
    assert f"/observations/travellers/{inspection_id}/" in client.get(f"/followups/{followup.pk}/").content.decode()
    page = client.get(f"/observations/travellers/{inspection_id}/").content.decode()
    assert "张*" in page and "11010519491231002X" not in page  # masked: not anybody's resident yet
    # an address the compound does not have: said, typed value kept, nothing stored
    bad = client.post(f"/observations/travellers/{inspection_id}/",
                      {"occupant": occupants[0].pk, "address": "99号楼一单元1楼西户"})
    assert bad.status_code == 422 and "99号楼一单元1楼西户" in bad.content.decode()
    done = client.post(f"/observations/travellers/{inspection_id}/",
                       {"occupant": occupants[0].pk, "address": "35号楼一单元1楼西户"})
    assert done.status_code == 302
    assert Resident.objects.get(id_number="11010519491231002X").observations.filter(status="active").exists()
    # the passenger without an ID number: the page says what is needed
    no_id = client.post(f"/observations/travellers/{inspection_id}/",
                        {"occupant": occupants[1].pk, "address": "35号楼一单元1楼西户"})
    assert no_id.status_code == 422
    # a warden of another district does not see the car at all
    assert web_client(warden_jy).get(f"/observations/travellers/{inspection_id}/").status_code == 404
