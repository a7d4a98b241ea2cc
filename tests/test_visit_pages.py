"""The warden's visit pages (走访): a visit recorded on the phone form — nothing to report one tap
per person, a returnee from Wuhan put under home observation, people found living there added
once and matched to the registry (by ID number, else by name and phone with a confirm step) —,
the "still to visit" list, and the commander's rounds with their coverage."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from louzhang.accounts.models import User
from louzhang.areas.models import Area, Level
from louzhang.demo.city import make_id_number
from louzhang.followups.models import FollowUp
from louzhang.observation.models import Observation, Status
from louzhang.registry.models import Resident
from louzhang.screening.models import Finding, Round, Visit
from tests.conftest import BAOLI, BAOLI_1, BAOLI_34, BAOLI_34_2_6W, web_client

pytestmark = pytest.mark.django_db

NEWCOMER = make_id_number("420106", date(1992, 5, 6), 41)  # 武汉 武昌区, not in the demo city


def _client(user: User, language: str = "en") -> Client:
    """The pages in English (the msgids), unless a test reads them in Chinese."""
    client = web_client(user)
    client.cookies["django_language"] = language  # as the language switch chooses
    return client


def _members(code: str) -> list[Resident]:
    return list(Resident.objects.filter(household__code=code).order_by("-is_head", "birth_date"))


def _ours() -> Any:
    """The visits the test made (the demo city has the warden's visits of 34号楼一单元)."""
    return Visit.objects.filter(client_id__startswith="web-")


def _household_with_members(building: str = f"{BAOLI_34}-2", at_least: int = 2, skip: int = 0) -> str:
    """A household of 34号楼二单元 (not visited in the demo) with this many registered members."""
    codes = (Area.objects.filter(level=Level.HOUSEHOLD, code__startswith=f"{building}-")
             .order_by("code").values_list("code", flat=True))
    found = [c for c in codes if Resident.objects.filter(household__code=c).count() >= at_least]
    return found[skip]


def _form(code: str, *, mode: str = "in_person", client_id: str = "web-test-1", **fields: Any) -> dict[str, Any]:
    """What the visit page posts: every member "nothing to report" unless `fields` say more."""
    data: dict[str, Any] = {
        "client_id": client_id, "mode": mode, "extra": "1",
        "at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"), "note": "",
    }
    for member in _members(code):
        data[f"r{member.pk}-resident"] = str(member.pk)
        data[f"r{member.pk}-state"] = "nothing"
    data.update(fields)
    return data


def _messages(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def _post(client: Client, code: str, data: dict[str, Any]) -> Any:
    return client.post(f"/visits/new/{code}/", data, follow=True)


def test_the_form_lists_the_members_each_nothing_to_report_and_suggests_key_regions(warden: User) -> None:
    code = _household_with_members()
    response = _client(warden).get(f"/visits/new/{code}/")
    assert response.status_code == 200
    html = response.content.decode()
    for member in _members(code):
        assert member.name in html  # the warden sees their own residents' names in full
        assert re.search(rf'name="r{member.pk}-state" value="nothing"[^>]*checked', html)
    assert '<option value="武汉市">' in html and '<option value="湖北省孝感市">' in html
    client_id = re.search(r'name="client_id" value="(web-[0-9a-f]{32})"', html)
    assert client_id is not None
    assert 'src="/static/screening/visit.js"' in html


def test_a_returnee_from_wuhan_is_put_under_home_observation_and_the_page_says_so(warden: User) -> None:
    code = _household_with_members(at_least=3)
    members = _members(code)
    son = members[-1]
    back = timezone.localdate() - timedelta(days=3)
    data = _form(code, **{
        f"r{son.pk}-state": "report", f"r{son.pk}-key_region": "武汉市",
        f"r{son.pk}-stay_from": (back - timedelta(days=10)).isoformat(),
        f"r{son.pk}-stay_to": back.isoformat(), f"r{son.pk}-returned_on": back.isoformat(),
        f"r{son.pk}-travel": "K1276", f"r{son.pk}-advice": "居家14天，每日两次测温",
    })
    response = _post(_client(warden, "zh-hans"), code, data)
    visit = Visit.objects.get(client_id="web-test-1")
    assert response.redirect_chain == [(f"/visits/{visit.pk}/", 302)]
    said = _messages(response)
    assert said[0] == f"已记录走访：{len(members)}人，已开始居家观察1人"
    observation = Observation.objects.get(resident=son, status=Status.ACTIVE)
    assert observation.exposure_region == "武汉市" and observation.last_exposure == back
    finding = Finding.objects.get(visit=visit, resident=son)
    assert finding.observation == observation and finding.travel == "K1276"
    html = response.content.decode()
    assert 'data-client-id="web-test-1"' in html and f'data-household="{code}"' in html  # clears the draft
    assert 'data-observation="active"' in html
    # the next household of the stairwell is one tap away
    assert 'data-next' in html and "下一户" in html


def test_nothing_to_report_for_every_member(warden: User) -> None:
    code = _household_with_members()
    members = _members(code)
    response = _post(_client(warden), code, _form(code))
    assert _messages(response) == [f"Visit recorded: {len(members)} people"]
    findings = Finding.objects.filter(visit__client_id="web-test-1")
    assert {f.resident_id for f in findings} == {m.pk for m in members}
    assert all(f.nothing for f in findings)
    assert not Observation.objects.filter(resident__in=members).exists()


def test_what_a_member_block_holds_is_ignored_while_it_says_nothing_to_report(warden: User) -> None:
    """A warden who opened "report something", typed, and tapped back "nothing to report"."""
    code = _household_with_members()
    member = _members(code)[0]
    _post(_client(warden), code, _form(code, **{f"r{member.pk}-key_region": "武汉市",
                                                     f"r{member.pk}-symptoms": ["cough"]}))
    finding = Finding.objects.get(visit__client_id="web-test-1", resident=member)
    assert finding.nothing and not Observation.objects.filter(resident=member).exists()


def test_nobody_home_stores_the_attempt_and_nobody(warden: User) -> None:
    code = _household_with_members()
    member = _members(code)[0]
    response = _post(_client(warden), code, _form(code, mode="nobody_home", **{
        f"r{member.pk}-state": "report", f"r{member.pk}-note": "typed before the door stayed shut"}))
    assert _messages(response) == ["Visit recorded: nobody home"]
    visit = Visit.objects.get(client_id="web-test-1")
    assert visit.mode == "nobody_home" and not visit.findings.exists()


def test_a_person_found_living_here_is_added_once_even_when_sent_twice(warden: User) -> None:
    code = _household_with_members()
    members = _members(code)
    client = _client(warden)
    data = _form(code, **{"n0-id_number": NEWCOMER, "n0-name": "柯新来", "n0-phone": "13912345678",
                          "n0-state": "nothing"})
    first = _post(client, code, data)
    assert _messages(first) == [f"Visit recorded: {len(members) + 1} people, 1 added to the registry"]
    again = _post(client, code, data)  # a double tap, or the form sent again after a dropped signal
    assert _messages(again) == ["This visit was recorded before: nothing was stored twice."]
    assert again.redirect_chain == first.redirect_chain
    assert Visit.objects.filter(client_id="web-test-1").count() == 1
    added = Resident.objects.get(id_number=NEWCOMER)
    assert added.household.code == code and added.name == "柯新来"
    assert Finding.objects.get(resident=added).added
    # given again as a person found there (the page now lists him as a member; the block of
    # another phone did not): matched by the ID number, not registered twice
    again = {k: v for k, v in _form(code, client_id="web-test-2").items() if not k.startswith(f"r{added.pk}-")}
    _post(client, code, {**again, "n0-id_number": NEWCOMER.lower(), "n0-name": "柯新来"})
    assert Resident.objects.filter(id_number=NEWCOMER).count() == 1
    assert not Finding.objects.get(visit__client_id="web-test-2", resident=added).added


def test_a_bad_id_number_comes_back_on_that_persons_field_with_everything_typed(warden: User) -> None:
    code = _household_with_members()
    member = _members(code)[0]
    bad = NEWCOMER[:17] + ("1" if NEWCOMER[17] != "1" else "2")
    data = _form(code, **{
        f"r{member.pk}-state": "report", f"r{member.pk}-key_region": "湖北省孝感市",
        f"r{member.pk}-symptoms": ["cough", "fatigue"],
        "n0-id_number": bad, "n0-name": "柯新来", "n0-phone": "13912345678",
    })
    response = _post(_client(warden), code, data)
    assert response.status_code == 200 and response.redirect_chain == []
    html = response.content.decode()
    assert "Not recorded: correct what is marked." in html
    error = re.search(r'<ul class="errorlist" id="n0-id_number_error">(.*?)</ul>', html, re.S)
    assert error is not None and "check" in error.group(1).lower()
    assert f'value="{bad}"' in html and 'value="柯新来"' in html and 'value="13912345678"' in html
    assert 'value="湖北省孝感市"' in html
    assert re.search(rf'name="r{member.pk}-symptoms" value="fatigue"[^>]*checked', html)
    assert re.search(rf'name="r{member.pk}-state" value="report"[^>]*checked', html)
    assert 'name="client_id" value="web-test-1"' in html  # the same visit, when corrected
    assert not _ours().exists() and not Resident.objects.filter(name="柯新来").exists()


def test_the_services_refusal_lands_on_the_person_it_is_about(warden: User) -> None:
    """Somebody not registered, given by name only: the registry needs the ID number."""
    code = _household_with_members()
    response = _post(_client(warden), code, _form(code, **{"n0-name": "无证人"}))
    html = response.content.decode()
    error = re.search(r'<ul class="errorlist" id="n0-id_number_error">(.*?)</ul>', html, re.S)
    assert error is not None and "ID number is needed" in error.group(1)
    assert 'value="无证人"' in html
    assert not _ours().exists()


def test_a_person_matched_by_name_and_phone_is_confirmed_before_anything_is_stored(warden: User) -> None:
    """A resident registered in building 1 (not this warden's) found living in 34号楼: the
    page shows the registered people with that name and phone, masked, and asks."""
    code = _household_with_members()
    elsewhere = (Resident.objects.filter(household__code__startswith=f"{BAOLI_1}-").exclude(phone="")
                 .order_by("id").first())
    assert elsewhere is not None
    client = _client(warden)
    data = _form(code, **{"n0-name": elsewhere.name, "n0-phone": elsewhere.phone})
    response = _post(client, code, data)
    html = response.content.decode()
    assert "say who the people marked below are" in html
    assert f'name="n0-who" value="{elsewhere.pk}"' in html and 'name="n0-who" value="none"' in html
    assert elsewhere.phone not in html.split('data-candidates')[1].split("</fieldset>")[0]  # masked
    assert not _ours().exists()
    # "none of these" needs the ID number
    response = _post(client, code, {**data, "n0-who": "none"})
    assert re.search(r'id="n0-id_number_error">.*?give the ID number', response.content.decode(), re.S)
    assert not _ours().exists()
    # "this is X": the finding is about the registered person, nobody is added
    before = Resident.objects.count()
    response = _post(client, code, {**data, "n0-who": str(elsewhere.pk)})
    assert response.redirect_chain and Resident.objects.count() == before
    assert Finding.objects.get(visit__client_id="web-test-1", resident=elsewhere).added is False


def test_another_jurisdictions_household_is_not_found(warden: User, warden_jy: User) -> None:
    code = _household_with_members()
    outsider = _client(warden_jy)
    assert outsider.get(f"/visits/new/{code}/").status_code == 404
    assert outsider.post(f"/visits/new/{code}/", _form(code)).status_code == 404
    assert _client(warden).get(f"/visits/new/{BAOLI_1}-1-0101/").status_code == 404  # not his building
    _post(_client(warden), code, _form(code))
    visit = _ours().get()
    assert outsider.get(f"/visits/{visit.pk}/").status_code == 404
    assert _client(warden).get("/visits/new/NO-SUCH-HOUSEHOLD/").status_code == 404
    assert not Visit.objects.filter(visited_by=warden_jy).exists()


def test_gate_staff_find_no_screening_pages(gate: User) -> None:
    client = _client(gate)
    code = _household_with_members()
    for path in ("/visits/", f"/visits/new/{code}/", "/rounds/"):
        assert client.get(path).status_code == 404, path
    assert client.post(f"/visits/new/{code}/", _form(code)).status_code == 404
    assert client.post("/rounds/", {"name": "x"}).status_code == 404
    assert not _ours().exists()


def _open_round(commander: User, area: str = BAOLI, name: str = "1月25日起全面摸排") -> Round:
    client = _client(commander)
    response = client.post("/rounds/", {"name": name, "area": Area.objects.get(code=area).pk,
                                        "starts_on": timezone.localdate().isoformat()})
    round_ = Round.objects.get(name=name)
    assert response.status_code == 302 and response["Location"] == f"/rounds/{round_.pk}/"
    return round_


def test_a_commander_opens_a_round_and_reads_its_coverage(commander: User, warden: User) -> None:
    round_ = _open_round(commander)
    assert round_.area.code == BAOLI and round_.opened_by == commander
    client = _client(warden)
    reached = [f"{BAOLI_34}-2-0601", f"{BAOLI_34}-2-0602"]
    for n, code in enumerate(reached):
        _post(client, code, _form(code, client_id=f"web-r-{n}"))
    _post(client, f"{BAOLI_34}-1-0101", _form(f"{BAOLI_34}-1-0101", mode="nobody_home", client_id="web-r-9"))
    page = _client(commander).get(f"/rounds/{round_.pk}/?area={BAOLI_34}")
    assert page.status_code == 200
    html = page.content.decode()

    def total(name: str) -> str:
        found = re.search(rf'data-total="{name}">([\d.]+)%?<', html)
        assert found is not None, name
        return found.group(1)

    # 34号楼: 2 units × 6 floors × 2 households = 24 households, 2 reached, 1 nobody home
    assert [total(n) for n in ("households", "reached", "nobody_home", "not_visited", "percent")] == \
        ["24", "2", "1", "21", "8.3"]
    unit2 = re.search(rf'<tr data-area="{BAOLI_34}-2">(.*?)</tr>', html, re.S)
    unit1 = re.search(rf'<tr data-area="{BAOLI_34}-1">(.*?)</tr>', html, re.S)
    assert unit1 is not None and unit2 is not None

    def cells(row: str) -> dict[str, str]:
        return dict(re.findall(r'data-cell="(\w+)">([\d.]+)%?<', row))

    assert cells(unit2.group(1)) == {"households": "12", "reached": "2", "percent": "16.6", "nobody_home": "0",
                                     "not_visited": "10", "returnees": "0", "symptomatic": "0",
                                     "contacts": "0", "care": "0"}
    assert cells(unit1.group(1))["nobody_home"] == "1" and cells(unit1.group(1))["reached"] == "0"
    warden_row = re.search(r'<tr data-warden="郝志东">(.*?)</tr>', html, re.S)
    assert warden_row is not None and cells(warden_row.group(1))["reached"] == "2"
    today = timezone.localdate().isoformat()
    assert re.search(rf'<tr data-day="{today}">.*?<td class="num">2</td>', html, re.S)
    # the compound's page counts the same visits under building 34, and drills down to it
    compound = _client(commander).get(f"/rounds/{round_.pk}/").content.decode()
    assert f'<a href="?area={BAOLI_34}">34号楼</a>' in compound
    # the warden reads the same round over his own buildings only
    mine = _client(warden).get(f"/rounds/{round_.pk}/").content.decode()
    assert re.search(r'data-total="households">168<', mine)  # 7 buildings × 24


def test_a_round_is_opened_and_closed_by_commanders_only(commander: User, warden: User) -> None:
    assert _client(warden).post("/rounds/", {"name": "x", "area": Area.objects.get(code=BAOLI).pk,
                                                "starts_on": timezone.localdate().isoformat()}).status_code == 404
    form = _client(commander).get("/rounds/").content.decode()
    assert "Open a round" in form and ">包头市<" in form.replace("\u3000", "")
    refused = _client(commander).post("/rounds/", {"name": "", "area": Area.objects.get(code=BAOLI_34).pk,
                                                      "starts_on": "2020-01-25"})
    assert refused.status_code == 200 and "Give the round a name." in refused.content.decode()
    round_ = _open_round(commander)
    assert _client(warden).post(f"/rounds/{round_.pk}/close").status_code == 404
    closed = _client(commander).post(f"/rounds/{round_.pk}/close", follow=True)
    assert _messages(closed) == [f"Round closed: {round_.name}."]
    round_.refresh_from_db()
    assert round_.closed_at is not None


def test_nobody_home_twice_in_a_round_becomes_a_follow_up_for_the_warden(warden: User) -> None:
    """The demo city's round over 保利百合 (全面摸排（1月25日起）) is open."""
    code = f"{BAOLI_34}-2-0101"
    client = _client(warden)
    first = _post(client, code, _form(code, mode="nobody_home", client_id="web-n-1"))
    assert _messages(first) == ["Visit recorded: nobody home"]
    assert not FollowUp.objects.filter(kind="household_unreached", area__code=code).exists()
    second = _post(client, code, _form(code, mode="nobody_home", client_id="web-n-2"))
    followup = FollowUp.objects.get(kind="household_unreached", area__code=code)
    assert followup.owner == warden
    assert _messages(second)[1] == "household not reached: building warden 郝志东 was told and answers for it."


def test_still_to_visit_puts_households_needing_care_first(warden: User) -> None:
    """The demo round: 34号楼一单元's first floors were visited, 4楼西户 twice nobody home."""
    client = _client(warden)
    last = Resident.objects.filter(household__code__startswith=f"{BAOLI}-36-").order_by("-household__code").first()
    assert last is not None
    Resident.objects.filter(pk=last.pk).update(care_tags="pregnant")
    html = client.get("/visits/").content.decode()
    rows = re.findall(r'<li data-household="([^"]+)" data-reasons="([^"]*)">', html)
    order = [code for code, _ in rows]
    assert len(rows) == 168 - 6  # 7 buildings × 24 households, 6 reached in the demo
    assert f"{BAOLI_34}-1-0302" not in order  # the returnee's household, reached
    care = [code for code, reasons in rows if "care" in reasons]
    assert last.household.code in care and order[:len(care)] == care  # needing care first
    tried = [code for code, reasons in rows if reasons == "nobody_home"]
    assert tried == [f"{BAOLI_34}-1-0401"] and order.index(tried[0]) == len(care)  # then tried before

    def stairwell(code: str) -> list[int]:
        return [int(part) for part in code.split("-")[1:]]

    for group in (care, order[len(care) + 1:]):  # each group in stairwell order
        assert group == sorted(group, key=stairwell)
    assert "needs care" in html and "nobody home before" in html
    # a household reached leaves the list
    _post(client, last.household.code, _form(last.household.code, client_id="web-s-1"))
    after = client.get("/visits/").content.decode()
    assert f'data-household="{last.household.code}"' not in after


def test_without_an_open_round_the_list_shows_the_wardens_latest_visits(warden: User) -> None:
    Round.objects.update(closed_at=timezone.now())
    code = _household_with_members()
    client = _client(warden)
    _post(client, code, _form(code))
    html = client.get("/visits/").content.decode()
    assert "No screening round is open" in html
    assert f'href="/visits/{_ours().get().pk}/"' in html


def test_the_household_page_links_to_the_visit_form_for_those_who_visit(warden: User, gate: User) -> None:
    code = _household_with_members()
    assert f'href="/visits/new/{code}/"' in _client(warden).get(f"/areas/{code}/").content.decode()
    assert "/visits/new/" not in _client(gate).get(f"/areas/{BAOLI_34_2_6W}/").content.decode()
    assert 'href="/visits/"' in _client(warden).get("/").content.decode()
    assert 'href="/visits/"' not in _client(gate).get("/").content.decode()


def test_the_wardens_pages_read_in_a_fixed_number_of_queries(warden: User, django_assert_max_num_queries: Any) -> None:
    """The form and the list a warden opens at every door, whatever the household's size."""
    client = _client(warden)
    code = _household_with_members(at_least=4)
    client.get(f"/visits/new/{code}/")  # the session and the user's grants, read once
    with django_assert_max_num_queries(14):
        assert client.get(f"/visits/new/{code}/").status_code == 200
    with django_assert_max_num_queries(7):
        assert client.get("/visits/").status_code == 200
