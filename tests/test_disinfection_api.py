"""`POST /api/v1/disinfections` (API.md, "People on post and disinfection"): one round or a batch,
each answered on its own; valid rounds kept when others are rejected; a `client_id` sent again
stored once; a unit outside the token user's jurisdiction unknown, exactly like a missing one."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from louzhang.accounts.models import User
from louzhang.areas.models import Area
from louzhang.disinfection.models import Disinfection, UnitRepresentative
from louzhang.disinfection.services import (
    disinfections_sweep,
    plans_set,
    representative_end,
    representative_register,
)
from louzhang.followups.models import FollowUp, State
from louzhang.registry.models import Resident
from tests.conftest import BAOLI, FUGUI, ApiClient, api_for

SHANGHAI = ZoneInfo("Asia/Shanghai")
FUGUI_3_1 = f"{FUGUI}-3-1"
BAOLI_34_2 = f"{BAOLI}-34-2"
PLAN = ["stairwell", "lift", "handles"]


def _round(client_id: str, unit: str = FUGUI_3_1, **changes: Any) -> dict[str, Any]:
    record = {"client_id": client_id, "unit": unit, "at": "2020-02-03T08:15:00+08:00",
              "areas": PLAN, "agent": "84消毒液"}
    return {**record, **changes}


def test_a_batch_keeps_the_good_round_and_says_what_is_wrong_with_the_others(warden_jy: User) -> None:
    api = api_for(warden_jy)
    response = api.post("/disinfections", {"records": [
        _round("jy-1"),
        _round("jy-2", areas=["stairwell", "roof"]),
        _round("jy-3", unit=BAOLI_34_2),  # 保利百合: not his
        _round("jy-4", at="2020-02-03T08:15:00"),  # no offset
        _round("jy-5", at=(timezone.now() + timedelta(hours=1)).isoformat()),
        _round("jy-6", unit="no-such-unit"),
        {"unit": FUGUI_3_1, "at": "2020-02-03T08:15:00+08:00", "areas": PLAN},  # no client_id
    ]})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["created"] + ["rejected"] * 6
    assert [r["index"] for r in results] == list(range(7))
    locs = [[e["loc"] for e in r["errors"]] for r in results]
    assert locs[1] == [["areas", 1]] and "roof" in results[1]["errors"][0]["msg"]
    assert locs[2] == [["unit"]] and locs[5] == [["unit"]]
    assert results[2]["errors"][0]["msg"] == results[5]["errors"][0]["msg"].replace("no-such-unit", BAOLI_34_2)
    assert locs[3] == [["at"]] and locs[4] == [["at"]] and locs[6] == [["client_id"]]
    [stored] = Disinfection.objects.filter(recorded_by=warden_jy)
    assert stored.pk == results[0]["id"] and stored.unit.code == FUGUI_3_1
    assert stored.areas == PLAN and stored.agent == "84消毒液"
    assert stored.at == datetime(2020, 2, 3, 8, 15, tzinfo=SHANGHAI)
    assert not Disinfection.objects.filter(unit__code=BAOLI_34_2, recorded_by=warden_jy).exists()


def test_a_round_sent_again_is_a_duplicate_stored_once(warden_jy: User) -> None:
    api = api_for(warden_jy)
    [first] = api.post("/disinfections", _round("jy-10")).json()["results"]  # one record, no list
    assert first["status"] == "created"
    again = api.post("/disinfections", {"records": [_round("jy-10"), _round("jy-11"), _round("jy-11")]}).json()["results"]
    assert [r["status"] for r in again] == ["duplicate", "created", "duplicate"]
    assert again[0]["id"] == first["id"] and again[2]["id"] == again[1]["id"]
    assert Disinfection.objects.filter(recorded_by=warden_jy).count() == 2


def test_a_representative_posts_for_their_own_unit_only_while_they_are_one(unit_rep: User, warden: User) -> None:
    rep = UnitRepresentative.objects.filter(user=unit_rep, ended_at__isnull=True).first()
    if rep is None:
        resident = (Resident.objects.filter(household__parent__code=BAOLI_34_2, birth_date__year__lt=2000)
                    .exclude(household__code__endswith="-0601").first())
        assert resident is not None
        rep = representative_register(actor=warden, unit=Area.objects.get(code=BAOLI_34_2),
                                      resident=resident, consent=True, user=unit_rep)
    api = api_for(unit_rep)
    results = api.post("/disinfections", {"records": [
        _round("r-1", unit=BAOLI_34_2), _round("r-2", unit=f"{BAOLI}-34-1")]}).json()["results"]
    assert [r["status"] for r in results] == ["created", "rejected"]
    assert Disinfection.objects.get(pk=results[0]["id"]).representative == rep
    representative_end(actor=warden, representative=rep)
    [after] = api.post("/disinfections", _round("r-3", unit=BAOLI_34_2)).json()["results"]
    assert after["status"] == "rejected" and after["errors"][0]["loc"] == ["unit"]


def test_gate_staff_and_the_anonymous_cannot_post_rounds(gate: User) -> None:
    [result] = api_for(gate).post("/disinfections", _round("g-1", unit=BAOLI_34_2)).json()["results"]
    assert result["status"] == "rejected" and result["errors"][0]["loc"] == ["unit"]
    assert ApiClient(None).post("/disinfections", _round("x-1")).status_code == 401
    assert ApiClient("wrong").post("/disinfections", _round("x-2")).status_code == 401
    assert not Disinfection.objects.filter(client_id__in=["g-1", "x-1", "x-2"]).exists()


def test_a_bad_body_is_refused_whole(warden_jy: User) -> None:
    api = api_for(warden_jy)
    assert api.post("/disinfections", [1, 2]).status_code == 422
    assert api.post("/disinfections", {"records": [_round(f"b{n}") for n in range(201)]}).status_code == 413
    assert not Disinfection.objects.filter(recorded_by=warden_jy).exists()


def test_a_round_from_a_device_closes_the_wardens_follow_up(warden_jy: User) -> None:
    unit = Area.objects.get(code=FUGUI_3_1)
    with time_machine.travel(datetime(2020, 2, 3, 8, tzinfo=SHANGHAI), tick=False):
        plans_set(actor=warden_jy, area=unit, areas=PLAN, times_per_day=1)
    with time_machine.travel(datetime(2020, 2, 3, 12, 5, tzinfo=SHANGHAI), tick=False):
        assert disinfections_sweep()["wardens"] == 1  # no representative: the warden at once
    [followup] = FollowUp.objects.filter(rule="disinfection_overdue", subject_id=FUGUI_3_1)
    with time_machine.travel(datetime(2020, 2, 3, 12, 40, tzinfo=SHANGHAI), tick=False):
        [result] = api_for(warden_jy).post("/disinfections", _round("late", at="2020-02-03T12:35:00+08:00")).json()["results"]
    assert result["status"] == "created"
    followup.refresh_from_db()
    assert followup.state == State.DONE


def test_a_batch_costs_one_insert_per_round_and_nothing_more(warden_jy: User, django_assert_max_num_queries: Any) -> None:
    api = api_for(warden_jy)
    api.post("/disinfections", _round("warm"))
    with CaptureQueriesContext(connection) as one:
        api.post("/disinfections", _round("one"))
    units = [f"{FUGUI}-{b}-{u}" for b in range(1, 7) for u in (1, 2)]
    # each further round: its INSERT in a savepoint (a racing resend may have stored it)
    with django_assert_max_num_queries(len(one.captured_queries) + 3 * 11):
        results = api.post("/disinfections", {"records": [
            _round(f"many-{n}", unit=units[n]) for n in range(12)]}).json()["results"]
    assert [r["status"] for r in results] == ["created"] * 12
