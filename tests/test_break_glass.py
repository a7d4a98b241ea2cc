"""Break-the-glass (破窗查询): an officer whose exact ID number or plate finds nothing in their
jurisdiction states a reason and reads the record across the city — masked, read-only, for
`LOUZHANG_BREAK_GLASS_MINUTES` — and the commanders of the area looked into are told; nothing
else opens, and the look-up closes on time."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.utils import timezone

from louzhang.access.audit_log import audit_events_for
from louzhang.access.holders import (
    commander_tiers,
    compound_wardens,
    escalation_targets,
    holders_over,
    owner_for,
    wardens_over,
)
from louzhang.access.jurisdiction import jurisdiction_for
from louzhang.access.roles import roles_of
from louzhang.accounts.models import Grant, Role, User
from louzhang.areas.models import Area
from louzhang.audit.models import AuditEvent
from louzhang.breakglass.models import LookUp, Opened
from louzhang.breakglass.selectors import opened_views
from louzhang.breakglass.services import LookUpError, look_up_create, look_up_end
from louzhang.breakglass.templatetags.breakglass_tags import sees_look_ups
from louzhang.core.personal import Kind as Personal
from louzhang.core.personal import mask
from louzhang.gates.models import GateRecord, HouseholdPass
from louzhang.notifications.models import Notification
from louzhang.registry.models import Resident, Vehicle
from louzhang.screening.models import Visit
from tests.conftest import BAOLI, BAOLI_1, FUGUI, api_for, web_client

pytestmark = pytest.mark.django_db
REASON = "检查站发现发热旅客，自称住在东河区，需要核实住址和所属楼长。"


def _person() -> Resident:
    """A resident with a phone, of a 保利百合 (东河区) household of several members."""
    crowded = (Resident.objects.filter(household__code__startswith=f"{BAOLI}-34-").values("household")
               .annotate(n=Count("id")).filter(n__gt=1).order_by("household").values_list("household", flat=True))
    person = Resident.objects.filter(household__in=crowded[:1]).exclude(phone="").order_by("id").first()
    assert person is not None
    return person


def _masked(id_number: str) -> str:
    return id_number[:4] + "*" * 10 + id_number[-4:]


def _fresh(user: User) -> User:
    """The user as a new request sees them (no jurisdiction cached on the object)."""
    return User.objects.get(pk=user.pk)


def _told(user: User, look_up: LookUp) -> list[Notification]:
    return list(Notification.objects.filter(user=user, link=f"/look-ups/{look_up.pk}/"))


def test_a_jiuyuan_warden_reads_a_donghe_household_masked_until_it_expires(
        warden_jy: User, warden: User, branch_dh: User, commander: User, station_xnb: User,
        settings: Any) -> None:
    settings.LOUZHANG_BREAK_GLASS_MINUTES = 30
    person = _person()
    household = person.household
    others = list(Resident.objects.filter(household=household).exclude(pk=person.pk))
    assert others, "the demo household has more than one member"
    # the household's cars, the person's own and another member's: not what was looked up
    cars = [Vehicle.objects.create(plate=plate, owner=owner, compound=Area.objects.get(code=BAOLI))
            for plate, owner in (("蒙B9G001", person), ("蒙B9G002", others[0]))]
    client = web_client(warden_jy)
    assert client.get(f"/areas/{household.code}/").status_code == 404
    page = client.get("/search/", {"q": person.id_number}).content.decode()
    assert household.code not in page and "data-break-glass-offer" in page

    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        look_up = look_up_create(actor=_fresh(warden_jy), query=person.id_number.lower(), reason=REASON)
        assert look_up.until == start + timedelta(minutes=30)
        assert list(look_up.opened.values_list("household__code", flat=True)) == [household.code]

        page = client.get(f"/look-ups/{look_up.pk}/").content.decode()
        # what the officer typed, in full; everything else masked as for gate staff
        assert f'data-field="id_number">{person.id_number}<' in page
        assert person.name not in page and person.phone not in page
        assert person.phone[:3] + "****" + person.phone[-4:] in page
        # only the resident looked up: not the rest of the household, nor anyone's cars
        assert page.count("data-person") == 1
        assert f'data-field="name">{mask(Personal.NAME, person.name)}<' in page
        for other in others:
            assert other.id_number not in page and _masked(other.id_number) not in page
            assert other.name not in page
        for car in cars:
            assert car.plate not in page
        # the officer is told whom to call: the household's warden
        responsible = owner_for(household).user
        assert responsible is not None and f'data-field="responsible">{responsible.display_name}<' in page

        # nothing else opened: the household's own page, the API, its compound stay 404
        assert client.get(f"/areas/{household.code}/").status_code == 404
        assert api_for(warden_jy).get(f"/areas/{household.code}").status_code == 404
        assert client.get(f"/areas/{BAOLI}/").status_code == 404

        # the commanders over the household are told who, why, what, until when
        for boss in (branch_dh, commander, station_xnb):
            [line] = _told(boss, look_up)
            assert warden_jy.display_name in line.title and REASON in line.body
            assert _masked(person.id_number) in line.body and person.id_number not in line.body
            assert timezone.localtime(look_up.until).strftime("%H:%M") in line.body
        assert not _told(warden, look_up) and not _told(warden_jy, look_up)
        # … and it is in the audit log, under the household, where they read it
        event = AuditEvent.objects.get(object_type="breakglass.lookup", object_id=str(look_up.pk))
        assert event.actor_id == warden_jy.pk and event.area_path == household.path
        assert event.detail["reason"] == REASON and event.detail["query"] == _masked(person.id_number)
        assert person.id_number not in str(event.detail) + event.summary
        assert audit_events_for(_fresh(branch_dh)).filter(pk=event.pk).exists()
        assert not audit_events_for(_fresh(warden_jy)).filter(pk=event.pk).exists()

        clock.shift(timedelta(minutes=29, seconds=59))
        assert client.get(f"/look-ups/{look_up.pk}/").status_code == 200
        clock.shift(timedelta(seconds=1))  # `until` itself is past
        assert client.get(f"/look-ups/{look_up.pk}/").status_code == 404
        clock.shift(timedelta(minutes=1))
        assert client.get(f"/look-ups/{look_up.pk}/").status_code == 404
        assert client.get(f"/areas/{household.code}/").status_code == 404
        assert api_for(warden_jy).get(f"/areas/{household.code}").status_code == 404
        # the commanders keep the record
        listed = web_client(branch_dh).get("/look-ups/").content.decode()
        assert f'data-look-up="{look_up.pk}"' in listed and REASON in listed
        assert web_client(branch_dh).get(f"/look-ups/{look_up.pk}/").status_code == 200


def test_without_a_reason_in_a_sentence_nothing_is_looked_up(warden_jy: User) -> None:
    person = _person()
    for reason in ("", "   ", "查一下", "aaaaaaaaaaaa", "1 1 1 1 1 1 1 1"):
        with pytest.raises(LookUpError) as refused:
            look_up_create(actor=_fresh(warden_jy), query=person.id_number, reason=reason)
        assert refused.value.field == "reason"
    client = web_client(warden_jy)
    no_reason = client.post("/look-ups/new/", {"query": person.id_number, "reason": "", "reported": "on"})
    assert no_reason.status_code == 422 and person.id_number in no_reason.content.decode()
    unconfirmed = client.post("/look-ups/new/", {"query": person.id_number, "reason": REASON})
    assert unconfirmed.status_code == 422
    assert not LookUp.objects.exists() and not Notification.objects.filter(link__startswith="/look-ups/").exists()
    assert not AuditEvent.objects.filter(object_type="breakglass.lookup").exists()


def test_only_an_exact_id_number_or_plate_outside_the_jurisdiction_by_an_officer(
        warden: User, warden_jy: User, gate: User, unit_rep: User, health: User) -> None:
    person = _person()
    with pytest.raises(LookUpError):  # in the warden's own jurisdiction: search as usual
        look_up_create(actor=_fresh(warden), query=person.id_number, reason=REASON)
    with pytest.raises(LookUpError):  # a name is not looked up across the city
        look_up_create(actor=_fresh(warden_jy), query=person.name, reason=REASON)
    for user in (gate, unit_rep, health):
        with pytest.raises(PermissionDenied):
            look_up_create(actor=_fresh(user), query=person.id_number, reason=REASON)
        assert web_client(user).get("/look-ups/new/", {"q": person.id_number}).status_code == 404
        page = web_client(user).get("/search/", {"q": person.id_number}).content.decode()
        assert "data-break-glass-offer" not in page
    assert not LookUp.objects.exists()


def test_the_look_up_gives_no_write(warden_jy: User) -> None:
    person = _person()
    household = person.household
    look_up_create(actor=_fresh(warden_jy), query=person.id_number, reason=REASON)
    api = api_for(warden_jy)
    visits = Visit.objects.count()
    [visit] = api.post("/visits", {"client_id": "glass-1", "household": household.code,
                                   "at": timezone.localtime().replace(microsecond=0).isoformat(),
                                   "mode": "in_person", "people": []}).json()["results"]
    assert visit["status"] == "rejected" and Visit.objects.count() == visits
    pass_code = HouseholdPass.objects.get(household=household).code
    [check] = api.post("/gate-checks", {"client_id": "glass-2", "gate": f"{BAOLI}-E", "direction": "in",
                                        "at": timezone.localtime().replace(microsecond=0).isoformat(),
                                        "temperature": 36.5, "pass_code": pass_code}).json()["results"]
    assert check["status"] == "rejected" and not GateRecord.objects.filter(client_id="glass-2").exists()
    client = web_client(warden_jy)
    assert client.get(f"/areas/{household.code}/residents.xlsx").status_code == 404
    assert client.post(f"/areas/{BAOLI}/residents.xlsx").status_code == 404
    assert client.post(f"/areas/{household.code}/vehicles/", {"plate": "蒙B12345"}).status_code == 404
    assert api.get("/residents", q=person.id_number).json() == {"items": [], "count": 0}


def test_another_area_not_looked_up_stays_invisible(warden_jy: User) -> None:
    person = _person()
    neighbour = Resident.objects.filter(household__code__startswith=f"{BAOLI_1}-").order_by("id").first()
    assert neighbour is not None and neighbour.household_id != person.household_id
    car = Vehicle.objects.filter(compound__code=BAOLI).order_by("id").first()
    look_up = look_up_create(actor=_fresh(warden_jy), query=person.id_number, reason=REASON)
    client = web_client(warden_jy)
    page = client.get(f"/look-ups/{look_up.pk}/").content.decode()
    assert neighbour.household.code not in page and _masked(neighbour.id_number) not in page
    assert client.get(f"/areas/{neighbour.household.code}/").status_code == 404
    found = client.get("/search/", {"q": neighbour.id_number}).content.decode()
    assert neighbour.household.code not in found and _masked(neighbour.id_number) not in found
    if car is not None:
        assert client.get(f"/vehicles/{car.plate}/").status_code == 404
    # another officer's look-up is not theirs to read, nor a warden's of the area
    assert web_client(User.objects.get(username="warden")).get(f"/look-ups/{look_up.pk}/").status_code == 404


def test_the_officer_appears_in_no_holder_list(warden_jy: User) -> None:
    person = _person()
    household = person.household
    compound = Area.objects.get(code=BAOLI)
    before = (jurisdiction_for(_fresh(warden_jy)), roles_of(_fresh(warden_jy)), Grant.objects.count())
    look_up_create(actor=_fresh(warden_jy), query=person.id_number, reason=REASON)
    me = _fresh(warden_jy)
    assert (jurisdiction_for(me), roles_of(me), Grant.objects.count()) == before
    everyone = [r.value for r in Role]
    assert warden_jy.pk not in {h.user.pk for h in holders_over(household, everyone)}
    assert warden_jy not in wardens_over(household)
    assert warden_jy not in [u for tier in commander_tiers(household) for u in tier]
    assert warden_jy.pk not in {h.user.pk for h in compound_wardens(compound)}
    owner = owner_for(household)
    for level in (1, 2, 3):
        assert warden_jy not in escalation_targets(household, owner, level)
    # the station's on-post count and roster pages do not count them either: no grant there
    assert not Grant.objects.filter(user=warden_jy, area__path__startswith=compound.path).exists()


def test_a_plate_across_the_city_opens_the_car_and_ends_early(warden_jy: User, branch_dh: User) -> None:
    car = Vehicle.objects.filter(compound__code=BAOLI).select_related("owner").order_by("id").first()
    assert car is not None, "the demo city registers cars in 保利百合"
    client = web_client(warden_jy)
    offer = client.get("/search/", {"q": car.plate}).content.decode()
    assert "data-break-glass-offer" in offer
    look_up = look_up_create(actor=_fresh(warden_jy), query=car.plate, reason=REASON)
    page = client.get(f"/look-ups/{look_up.pk}/").content.decode()
    assert f'data-plate="{car.plate}"' in page
    if car.owner is not None:
        assert car.owner.name not in page and car.owner.id_number not in page
    [line] = _told(branch_dh, look_up)
    assert car.plate in line.title + line.body
    assert client.get(f"/vehicles/{car.plate}/").status_code == 404  # its own page stays closed
    assert look_up_end(actor=_fresh(warden_jy), look_up=look_up) is True
    assert look_up_end(actor=_fresh(warden_jy), look_up=look_up) is False
    assert client.get(f"/look-ups/{look_up.pk}/").status_code == 404


def test_a_look_up_through_the_pages(warden_jy: User, branch_dh: User) -> None:
    """Search, find nothing, state the reason, read, see it listed, end it, closed."""
    person = _person()
    client = web_client(warden_jy)
    search = client.get("/search/", {"q": person.id_number}).content.decode()
    assert 'action="/look-ups/new/"' in search and f'name="query" value="{person.id_number}"' in search
    posted = client.post("/look-ups/new/", {"query": person.id_number, "reason": REASON, "reported": "on"})
    assert posted.status_code == 302
    look_up = LookUp.objects.get(user=warden_jy)
    assert posted["Location"] == f"/look-ups/{look_up.pk}/"
    page = client.get(posted["Location"]).content.decode()
    assert f'data-field="id_number">{person.id_number}<' in page and REASON in page
    assert sees_look_ups(_fresh(warden_jy)) and sees_look_ups(_fresh(branch_dh))
    mine = client.get("/look-ups/").content.decode()
    assert f'data-look-up="{look_up.pk}"' in mine and "data-reported" not in mine
    inbox = web_client(branch_dh).get("/inbox/").content.decode()
    assert f"/look-ups/{look_up.pk}/" in inbox
    ended = client.post(f"/look-ups/{look_up.pk}/end")
    assert ended.status_code == 302
    assert client.get(f"/look-ups/{look_up.pk}/").status_code == 404
    assert f'data-look-up="{look_up.pk}"' not in client.get("/look-ups/").content.decode()
    assert not sees_look_ups(_fresh(warden_jy))  # the nav link goes with the last open look-up
    assert AuditEvent.objects.filter(object_type="breakglass.lookup", action=AuditEvent.Action.CHANGE).exists()
    # commanders of other places hear nothing of it
    assert not Notification.objects.filter(link=f"/look-ups/{look_up.pk}/",
                                           user__username="station_kde").exists()
    assert FUGUI not in person.household.path


def _two_cars(person: Resident) -> tuple[Vehicle, Vehicle]:
    compound = Area.objects.get(code=BAOLI)
    return (Vehicle.objects.create(plate="蒙B9G011", vehicle_type="小型轿车", owner=person, compound=compound),
            Vehicle.objects.create(plate="蒙B9G012", owner=person, compound=compound))


def test_a_plate_opens_only_that_car_and_its_owner_masked(warden_jy: User) -> None:
    person = _person()
    others = list(Resident.objects.filter(household=person.household).exclude(pk=person.pk))
    car, second = _two_cars(person)
    look_up = look_up_create(actor=_fresh(warden_jy), query="蒙b·9g011", reason=REASON)
    page = web_client(warden_jy).get(f"/look-ups/{look_up.pk}/").content.decode()
    assert f'data-plate="{car.plate}"' in page and second.plate not in page
    # the owner, masked: not the owner's household
    assert page.count("data-person") == 1
    assert f'data-field="id_number">{_masked(person.id_number)}<' in page
    assert f'data-field="name">{mask(Personal.NAME, person.name)}<' in page
    assert person.id_number not in page and person.name not in page and person.phone not in page
    for other in others:
        assert _masked(other.id_number) not in page and other.name not in page
    responsible = owner_for(Area.objects.get(code=BAOLI)).user
    assert responsible is not None and f'data-field="responsible">{responsible.display_name}<' in page


def test_a_car_a_look_up_opened_can_be_deleted_and_the_record_keeps_its_plate(
        warden_jy: User, branch_dh: User) -> None:
    car, _second = _two_cars(_person())
    look_up = look_up_create(actor=_fresh(warden_jy), query=car.plate, reason=REASON)
    car.delete()
    [opened] = Opened.objects.filter(look_up=look_up)
    assert opened.vehicle_id is None and opened.plate == car.plate
    assert opened.area_path == Area.objects.get(code=BAOLI).path
    page = web_client(warden_jy).get(f"/look-ups/{look_up.pk}/").content.decode()
    assert f'data-plate-gone="{car.plate}"' in page and "data-person" not in page
    told = web_client(branch_dh).get(f"/look-ups/{look_up.pk}/").content.decode()
    assert car.plate in told and f"/vehicles/{car.plate}/" not in told


def test_an_officer_makes_at_most_the_daily_number_of_look_ups(
        warden_jy: User, warden: User, settings: Any) -> None:
    settings.LOUZHANG_BREAK_GLASS_PER_DAY = 2
    person = _person()
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        look_up_create(actor=_fresh(warden_jy), query=person.id_number, reason=REASON)
        clock.shift(timedelta(hours=1))
        look_up_create(actor=_fresh(warden_jy), query="蒙B9Z999", reason=REASON)  # found nothing: counts too
        clock.shift(timedelta(hours=1))
        told = Notification.objects.count()
        with pytest.raises(LookUpError) as refused:
            look_up_create(actor=_fresh(warden_jy), query=person.id_number, reason=REASON)
        assert refused.value.field is None
        next_at = timezone.localtime(start + timedelta(hours=24)).strftime("%Y-%m-%d %H:%M")
        assert next_at in refused.value.message
        client = web_client(warden_jy)
        page = client.post("/look-ups/new/", {"query": person.id_number, "reason": REASON, "reported": "on"})
        assert page.status_code == 422
        assert "已达上限" in page.content.decode() and next_at in page.content.decode()  # in Chinese, the default
        assert LookUp.objects.filter(user=warden_jy).count() == 2 and Notification.objects.count() == told
        # another officer is not held back by this one's look-ups
        look_up_create(actor=_fresh(warden), query="蒙B9Z998", reason=REASON)
        # a sliding window: the first look-up leaves it 24 hours after it was made
        clock.shift(timedelta(hours=22))
        look_up_create(actor=_fresh(warden_jy), query=person.id_number, reason=REASON)
        assert LookUp.objects.filter(user=warden_jy).count() == 3


def test_the_look_up_page_reads_a_bounded_number_of_queries(
        warden_jy: User, django_assert_max_num_queries: Any) -> None:
    person = _person()
    look_up = look_up_create(actor=_fresh(warden_jy), query=person.id_number, reason=REASON)
    # the look-up, what it opened, the address, the resident, the holders (grants, users): an
    # ID number and a plate are unique, so a look-up opens one record at most
    with django_assert_max_num_queries(6):
        [view] = opened_views(LookUp.objects.get(pk=look_up.pk))
    assert view.person is not None and view.person.obj.pk == person.pk
    assert view.address.startswith("保利百合") and view.responsible
