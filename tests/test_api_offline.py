"""What an officer's phone keeps offline (`GET /api/v1/offline`): the gate guard their compound's
passes (a household under observation flagged), not another compound's; a warden their
households with the members as the household page shows them, another warden none of them; a
commander no passes; a checkpoint officer the key regions of their city only; bounded queries
whatever the number of passes; 304 on the same ETag; full views audited. And a visit naming a
member by `resident`, the id checked against the household."""

from __future__ import annotations

import html
import json
import re
from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from louzhang.access.roles import may_record_at_gate
from louzhang.accounts.models import User
from louzhang.api.offline import pass_hash
from louzhang.areas.models import Area, Level
from louzhang.audit.models import AuditEvent
from louzhang.checkpoints.models import KeyRegion
from louzhang.gates.models import Gate, HomeObservation, HouseholdPass
from louzhang.gates.services import household_mark_end
from louzhang.observation.models import Source
from louzhang.observation.services import observation_open
from louzhang.registry.models import Resident
from louzhang.screening.models import Finding, Visit
from tests.conftest import BAOLI, BAOLI_1, BAOLI_34_2_6W, BAOTOU, FUGUI, ORDOS, api_for, web_client

pytestmark = pytest.mark.django_db


def _pack(user: User, **headers: str) -> Any:
    device = api_for(user)
    return device.client.get("/api/v1/offline", headers={**device.headers, **headers})


def _observe(actor: User, household_code: str) -> Any:
    household = Area.objects.get(code=household_code)
    resident = Resident.objects.filter(household=household).order_by("pk").first()
    assert resident is not None
    observation, new = observation_open(
        actor=actor, household=household, resident=resident, reason="came back from 武汉市",
        last_exposure=timezone.localdate() - timedelta(days=2), source=Source.VISIT)
    assert new
    return observation


def _compound_path(code: str) -> str:
    return Area.objects.get(code=code).path


def _passes_of(body: dict[str, Any], compound: str = BAOLI) -> dict[str, dict[str, Any]]:
    """The pack's passes of a compound by their hash."""
    [kept] = [c for c in body["compounds"] if c["code"] == compound]
    return {p["hash"]: p for p in kept["passes"]}


def _kept(body: dict[str, Any], code: str, compound: str = BAOLI) -> dict[str, Any] | None:
    """The pack's pass of that code, recognised as the phone does (the keyed hash)."""
    return _passes_of(body, compound).get(pass_hash(body["pass_salt"], code))


def test_the_gate_guard_keeps_their_compounds_passes_with_the_household_under_observation_flagged(
        gate: User, warden: User) -> None:
    observation = _observe(warden, BAOLI_34_2_6W)
    answer = _pack(gate)
    assert answer.status_code == 200
    assert answer["Cache-Control"] == "private, no-store" and answer["ETag"]
    body = answer.json()
    assert body["user"]["username"] == "gate"
    assert body["households"] == [] and body["observations"] == [] and body["checkpoints"] == []
    assert body["key_regions"] == []
    assert {g["code"] for g in body["gates"]} == set(Gate.objects.filter(compound__code=BAOLI).values_list("code", flat=True))
    assert len(body["gates"]) == 2 and all(g["compound"] == "保利百合" and g["compound_code"] == BAOLI
                                           and "passes" not in g for g in body["gates"])
    # the passes once per compound, not per gate
    assert [c["code"] for c in body["compounds"]] == [BAOLI] and body["compounds"][0]["name"] == "保利百合"
    valid = set(HouseholdPass.objects.filter(household__path__startswith=_compound_path(BAOLI),
                                             revoked_at__isnull=True).values_list("code", flat=True))
    assert len(valid) > 100
    passes = _passes_of(body)
    assert set(passes) == {pass_hash(body["pass_salt"], code) for code in valid}
    # recognised as typed: spaces and lower case as the server takes them
    code = HouseholdPass.objects.get(household__code=BAOLI_34_2_6W).code
    assert pass_hash(body["pass_salt"], " " + code.lower()[:3] + " " + code.lower()[3:]) == pass_hash(
        body["pass_salt"], code)
    flagged = _kept(body, code)
    assert flagged == {"hash": pass_hash(body["pass_salt"], code), "under_observation": True,
                       "observation_until": observation.ends_on.isoformat()}
    # flagged: exactly the households whose gate mark is in force today
    today = timezone.localdate()
    marked = set(HomeObservation.objects.filter(ended_at__isnull=True, starts_on__lte=today, ends_on__gte=today)
                 .values_list("household_id", flat=True))
    flagged_codes = set(HouseholdPass.objects.filter(code__in=valid, household_id__in=marked).values_list("code", flat=True))
    assert {h for h, p in passes.items() if p["under_observation"]} == {
        pass_hash(body["pass_salt"], c) for c in flagged_codes}
    assert sum(p["under_observation"] for p in passes.values()) < len(passes) / 10
    # not another compound's
    fugui = set(HouseholdPass.objects.filter(household__path__startswith=_compound_path(FUGUI)).values_list("code", flat=True))
    assert fugui and not {pass_hash(body["pass_salt"], c) for c in fugui} & set(passes)


def test_the_gate_guards_pack_holds_no_pass_code_nor_household_and_is_audited_as_a_read_of_the_passes(
        gate: User, warden: User) -> None:
    _observe(warden, BAOLI_34_2_6W)
    events = AuditEvent.objects.filter(actor=gate, object_type="gates.householdpass", action=AuditEvent.Action.VIEW)
    before = events.count()
    first = _pack(gate)
    text = first.content.decode()
    valid = list(HouseholdPass.objects.filter(household__path__startswith=_compound_path(BAOLI),
                                              revoked_at__isnull=True))
    assert not [p.code for p in valid if p.code in text]
    # no household in words or by code, no member
    assert "号楼" not in text and "西户" not in text
    assert not re.search(BAOLI + r"-\d+-", text)  # a household's code (a gate's is 150202001001001-E)
    body = first.json()
    assert set(body["compounds"][0]["passes"][0]) == {"hash", "under_observation", "observation_until"}
    assert re.fullmatch(r"[0-9a-f]{32}", body["pass_salt"])
    assert all(re.fullmatch(r"[0-9a-f]{32}", h) for h in _passes_of(body))
    # one event for the compound's passes, naming every pass sent
    assert events.count() == before + 1
    event = events.latest("pk")
    assert event.area_path == _compound_path(BAOLI)
    assert set(event.detail["ids"]) == {str(p.pk) for p in valid}
    # a new salt in every answer, the same ETag while nothing changed (304: nothing sent, nothing audited)
    second = _pack(gate)
    assert second.json()["pass_salt"] != body["pass_salt"] and second["ETag"] == first["ETag"]
    assert not set(_passes_of(second.json())) & set(_passes_of(body))
    assert events.count() == before + 2
    assert _pack(gate, If_None_Match=first["ETag"]).status_code == 304
    assert events.count() == before + 2
    # nobody else's pack holds passes
    assert json.loads(_pack(warden).content)["compounds"] == []


def test_a_revoked_pass_is_left_out_and_an_ended_observation_warns_no_more(gate: User, warden: User) -> None:
    observation = _observe(warden, BAOLI_34_2_6W)
    revoked = HouseholdPass.objects.filter(household__code__startswith=BAOLI_1 + "-").order_by("pk").first()
    assert revoked is not None
    observed = HouseholdPass.objects.get(household__code=BAOLI_34_2_6W).code
    before = _pack(gate).json()
    assert _kept(before, revoked.code) is not None
    assert _kept(before, observed)["under_observation"] is True  # type: ignore[index]
    HouseholdPass.objects.filter(pk=revoked.pk).update(revoked_at=timezone.now())

    assert observation.gate_mark_id is not None
    household_mark_end(mark_id=observation.gate_mark_id)
    after = _pack(gate).json()
    assert _kept(after, revoked.code) is None and len(_passes_of(after)) > 100
    ended = _kept(after, observed)
    assert ended is not None and ended["under_observation"] is False and ended["observation_until"] is None


def test_the_pack_is_read_in_a_bounded_number_of_queries(gate: User, warden: User, health: User,
                                                         django_assert_max_num_queries: Any) -> None:
    _observe(warden, BAOLI_34_2_6W)
    for user in (gate, warden, health):
        client = api_for(user)
        with django_assert_max_num_queries(12):
            assert client.get("/offline").status_code == 200
    # more passes cost no more queries (hundreds already: the bound is not per pass)
    extra = [HouseholdPass(household=h, code=f"X{h.pk:07d}") for h in Area.objects.filter(
        path__startswith=_compound_path(BAOLI), level=Level.HOUSEHOLD)[:300]]
    HouseholdPass.objects.bulk_create(extra)
    client = api_for(gate)
    with django_assert_max_num_queries(12):
        body = client.get("/offline").json()
    assert {pass_hash(body["pass_salt"], p.code) for p in extra} <= set(_passes_of(body))


def test_a_warden_keeps_their_households_with_the_members_as_the_household_page_shows_them(
        warden: User, warden_jy: User) -> None:
    body = _pack(warden).json()
    assert body["gates"] == [] and body["compounds"] == [] and body["checkpoints"] == []
    assert body["key_regions"] == []
    households = {h["code"]: h for h in body["households"]}
    # the households of buildings 7 and 31–36 of 保利百合, and only those
    expected = set(Area.objects.filter(level=Level.HOUSEHOLD, parent__parent__code__in=[
        f"{BAOLI}-{n}" for n in (7, 31, 32, 33, 34, 35, 36)]).values_list("code", flat=True))
    assert expected and set(households) == expected
    kept = households[BAOLI_34_2_6W]
    assert kept["label"] == "34号楼二单元6楼西户" and kept["compound"] == "保利百合"
    members = Resident.objects.filter(household__code=BAOLI_34_2_6W)
    assert {m["resident"] for m in kept["members"]} == set(members.values_list("pk", flat=True))
    page = html.unescape(web_client(warden).get(f"/areas/{BAOLI_34_2_6W}/").content.decode())
    for member in kept["members"]:
        for name in ("name", "id_number", "phone"):
            if member[name]:
                assert member[name] in page, (name, member[name])
    # the warden sees them in full, as on the page; the gate staff of the compound would not
    resident = members.first()
    assert resident is not None
    assert {"name": resident.name, "id_number": resident.id_number} == {
        k: v for m in kept["members"] if m["resident"] == resident.pk for k, v in m.items() if k in ("name", "id_number")}
    # another warden gets none of these
    theirs = {h["code"] for h in _pack(warden_jy).json()["households"]}
    assert theirs and not theirs & set(households)
    assert all(code.startswith(FUGUI) for code in theirs)


def test_the_members_shown_in_full_are_audited_and_a_304_is_not(warden: User) -> None:
    before = AuditEvent.objects.filter(actor=warden, object_type="registry.resident").count()
    first = _pack(warden)
    events = AuditEvent.objects.filter(actor=warden, object_type="registry.resident", action=AuditEvent.Action.VIEW)
    assert events.count() == before + 1  # one compound: one event
    event = events.latest("pk")
    shown = {str(m["resident"]) for h in first.json()["households"] for m in h["members"]}
    assert set(event.detail["ids"]) == shown and event.area_path == _compound_path(BAOLI)
    again = _pack(warden, If_None_Match=first["ETag"])
    assert again.status_code == 304 and again.content == b""
    assert events.count() == before + 1


def test_the_same_etag_is_answered_304_until_something_changes(gate: User, warden: User) -> None:
    first = _pack(gate)
    etag = first["ETag"]
    same = _pack(gate, If_None_Match=etag)
    assert same.status_code == 304 and same["ETag"] == etag and same["Cache-Control"] == "private, no-store"
    assert _pack(gate, If_None_Match='"something-else"').status_code == 200
    _observe(warden, BAOLI_34_2_6W)  # the guard must learn of it
    changed = _pack(gate, If_None_Match=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    # another user never shares the tag
    assert _pack(warden)["ETag"] != etag


def test_a_commander_keeps_no_passes_nor_households_of_a_city(commander: User) -> None:
    body = _pack(commander).json()
    assert body["gates"] == [] and body["compounds"] == [] and body["households"] == []
    assert body["observations"] == []


@pytest.mark.parametrize("username", ["gate", "warden", "warden_jy", "commander", "health", "checkpoint",
                                      "unit_rep", "station_xnb", "branch_dh"])
def test_nobody_keeps_a_pass_of_a_gate_they_cannot_record_at(username: str) -> None:
    user = User.objects.get(username=username)
    body = _pack(user).json()
    for kept in body["gates"]:
        gate = Gate.objects.select_related("compound").get(code=kept["code"])
        assert may_record_at_gate(user, gate.compound.path) and kept["compound_code"] == gate.compound.code
    compounds = {g["compound_code"] for g in body["gates"]}
    assert {c["code"] for c in body["compounds"]} == compounds
    for compound in compounds:
        theirs = {pass_hash(body["pass_salt"], code) for code in HouseholdPass.objects.filter(
            household__path__startswith=_compound_path(compound)).values_list("code", flat=True)}
        assert set(_passes_of(body, compound)) <= theirs


def test_a_checkpoint_officer_keeps_the_key_regions_of_their_city_only(checkpoint_officer: User, gate: User) -> None:
    today = timezone.localdate()
    ordos = KeyRegion.objects.create(name="鄂尔多斯的重点地区", division_prefixes=["4201"], plate_prefixes=["鄂A"],
                                     starts_on=today - timedelta(days=3), city=Area.objects.get(code=ORDOS))
    KeyRegion.objects.create(name="包头的重点地区", division_prefixes=["4202"], plate_prefixes=["鄂B"],
                             starts_on=today - timedelta(days=3), city=Area.objects.get(code=BAOTOU))
    KeyRegion.objects.create(name="已结束", division_prefixes=["4203"], starts_on=date(2020, 1, 1),
                             ends_on=today - timedelta(days=1), city=Area.objects.get(code=ORDOS))
    operator_wide = KeyRegion.objects.create(name="全国的重点地区", division_prefixes=["42"],
                                             starts_on=today - timedelta(days=3))
    body = _pack(checkpoint_officer).json()
    assert body["checkpoints"] and all(c["code"].startswith("DLT") for c in body["checkpoints"])
    names = {r["name"] for r in body["key_regions"]}
    assert {ordos.name, operator_wide.name} <= names
    assert "包头的重点地区" not in names and "已结束" not in names
    expected = set(KeyRegion.objects.filter(city__isnull=True).values_list("name", flat=True)) | {ordos.name}
    in_force = {r.name for r in KeyRegion.objects.all() if r.starts_on <= today and (r.ends_on is None or r.ends_on >= today)}
    assert names == expected & in_force
    kept = next(r for r in body["key_regions"] if r["name"] == ordos.name)
    assert kept == {**kept, "province": "湖北省", "city": "武汉市", "plate_prefixes": ["鄂A"]}
    assert "武汉" in kept["places"]
    hubei = next(r for r in body["key_regions"] if r["name"] == operator_wide.name)
    assert hubei["province"] == "湖北省" and hubei["city"] == "" and "孝感" in hubei["places"]
    assert _pack(gate).json()["key_regions"] == []


def test_a_health_liaison_keeps_the_active_observations_of_their_area(health: User, warden: User,
                                                                      warden_jy: User) -> None:
    observation = _observe(warden, BAOLI_34_2_6W)
    kept = {o["id"]: o for o in _pack(health).json()["observations"]}
    assert kept[observation.pk] == {"id": observation.pk, "household": "34号楼二单元6楼西户",
                                    "person": observation.resident.name, "ends": observation.ends_on.isoformat(),
                                    "checked_in_today": False}
    assert observation.pk in {o["id"] for o in _pack(warden).json()["observations"]}
    assert observation.pk not in {o["id"] for o in _pack(warden_jy).json()["observations"]}


# --- a visit naming a member by `resident` ---------------------------------------------------

def _visit(n: int, household: str, people: list[dict[str, Any]]) -> dict[str, Any]:
    return {"client_id": f"pwa-visit-{n}", "household": household, "mode": "in_person",
            "at": timezone.localtime().replace(microsecond=0).isoformat(), "people": people}


def test_a_visit_names_members_by_their_resident_id_and_a_wrong_one_is_rejected_alone(warden: User) -> None:
    households = {h["code"]: h for h in _pack(warden).json()["households"]}
    mine = households[BAOLI_34_2_6W]["members"][0]["resident"]
    neighbour_code = next(code for code, h in households.items() if code != BAOLI_34_2_6W and h["members"])
    neighbour = households[neighbour_code]["members"][0]["resident"]
    elsewhere = Resident.objects.filter(household__path__startswith=_compound_path(FUGUI)).first()
    assert elsewhere is not None
    answer = api_for(warden).post("/visits", {"records": [
        _visit(1, BAOLI_34_2_6W, [{"resident": mine, "symptoms": ["cough"]}]),
        _visit(2, BAOLI_34_2_6W, [{"resident": neighbour}]),  # of another household
        _visit(3, BAOLI_34_2_6W, [{"resident": elsewhere.pk}]),  # of another warden's area
        _visit(4, neighbour_code, [{"resident": neighbour}]),
    ]}).json()["results"]
    assert [r["status"] for r in answer] == ["created", "rejected", "rejected", "created"]
    for rejected in answer[1:3]:
        assert rejected["errors"][0]["loc"] == ["people", 0, "resident"]
    finding = Finding.objects.get(visit_id=answer[0]["id"])
    assert finding.resident_id == mine and finding.symptoms == "cough"
    assert not Visit.objects.filter(client_id__in=["pwa-visit-2", "pwa-visit-3"]).exists()
    assert Finding.objects.get(visit_id=answer[3]["id"]).resident_id == neighbour


def test_a_visit_through_the_session_names_a_member_and_a_resend_is_a_duplicate(warden: User) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(warden, backend="django.contrib.auth.backends.ModelBackend")
    assert browser.get(f"/areas/{BAOLI_34_2_6W}/").status_code == 200
    token = browser.cookies["csrftoken"].value
    member = next(h for h in browser.get("/api/v1/offline").json()["households"]
                  if h["code"] == BAOLI_34_2_6W)["members"][0]["resident"]
    record = _visit(9, BAOLI_34_2_6W, [{"resident": member}])
    statuses = []
    for _attempt in range(2):
        answer = browser.post("/api/v1/visits", {"records": [record]}, content_type="application/json",
                              headers={"X-CSRFToken": token})
        assert answer.status_code == 200
        statuses.append(answer.json()["results"][0]["status"])
    assert statuses == ["created", "duplicate"]
    assert Visit.objects.filter(client_id="pwa-visit-9", visited_by=warden).count() == 1


def test_no_pack_without_a_user() -> None:
    answer = Client().get("/api/v1/offline")
    assert answer.status_code == 401 and answer["Content-Type"] == "application/problem+json"
    assert not re.search(r"\d{17}[\dX]", answer.content.decode())
