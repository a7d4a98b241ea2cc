"""The HTTP API as a device or integration uses it: tokens, problem details, jurisdiction."""

from __future__ import annotations

import pytest
from django.test import override_settings

from louzhang.accounts.models import ApiToken, User
from louzhang.accounts.services import token_create, token_revoke
from louzhang.areas.models import Area
from tests.conftest import (
    BAOLI,
    BAOLI_1,
    BAOLI_34,
    BAOLI_34_2_6W,
    BAOTOU,
    DALAT,
    DONGHE,
    FUGUI,
    FUGUI_1,
    JIUYUAN,
    ORDOS,
    ApiClient,
    api_for,
)

PROBLEM = "application/problem+json"


def codes(response):
    assert response.status_code == 200, response.content
    return [item["code"] for item in response.json()["items"]]


def assert_problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"] and body["type"]
    return body


@pytest.mark.django_db
def test_health_needs_no_token():
    response = ApiClient(None).get("/health")
    assert response.status_code == 200 and response.json()["status"] == "ok"


@pytest.mark.django_db
def test_openapi_document_lists_the_endpoints():
    response = ApiClient(None).get("/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/areas" in paths and "/api/v1/health" in paths
    docs = ApiClient(None).get("/docs")
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower()  # interactive docs served locally


@pytest.mark.django_db
def test_no_token_bad_token_and_revoked_token_are_401(warden):
    assert_problem(ApiClient(None).get("/areas"), 401)
    assert_problem(ApiClient("lz_not-a-token").get("/areas"), 401)
    token, plain = token_create(user=warden)
    assert ApiClient(plain).get("/areas").status_code == 200
    token_revoke(token=token)
    body = assert_problem(ApiClient(plain).get("/areas"), 401)
    assert "token" in body["detail"]


@pytest.mark.django_db
def test_inactive_user_token_is_401(warden):
    client = api_for(warden)
    warden.is_active = False
    warden.save(update_fields=["is_active"])
    assert_problem(client.get("/areas"), 401)


@pytest.mark.django_db
def test_token_is_stored_hashed_and_last_use_recorded(warden):
    token, plain = token_create(user=warden)
    assert plain not in {token.token_hash, token.prefix} and len(token.token_hash) == 64
    assert token.last_used_at is None
    ApiClient(plain).get("/areas")
    token.refresh_from_db()
    assert token.last_used_at is not None and token.last_used_ip == "127.0.0.1"


@pytest.mark.django_db
def test_validation_error_is_422_with_locations(warden):
    body = assert_problem(api_for(warden).get("/areas", limit="many"), 422)
    assert body["errors"][0]["loc"] == ["query", "limit"]
    assert body["errors"][0]["msg"]


@pytest.mark.django_db
def test_unknown_endpoint_is_a_problem_404(warden):
    assert_problem(api_for(warden).get("/no-such-thing"), 404)


@pytest.mark.django_db
def test_rate_limit_is_429_with_retry_after(warden):
    client = api_for(warden)
    with override_settings(LOUZHANG_API_RATE_USER="3/m"):
        statuses = [client.get("/areas").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        response = client.get("/areas")
        assert_problem(response, 429)
        assert int(response["Retry-After"]) >= 1


@pytest.mark.django_db
def test_warden_starts_at_own_buildings_and_walks_down(warden):
    client = api_for(warden)
    roots = codes(client.get("/areas"))
    assert roots[0] == f"{BAOLI}-7" and BAOLI_34 in roots and len(roots) == 7
    units = codes(client.get("/areas", parent=BAOLI_34))
    assert units == [f"{BAOLI_34}-1", f"{BAOLI_34}-2"]
    assert BAOLI_34_2_6W in codes(client.get("/areas", parent=f"{BAOLI_34}-2"))


@pytest.mark.django_db
def test_warden_sees_ancestors_only_as_the_way_down(warden):
    client = api_for(warden)
    # the compound is navigable, but only the warden's buildings are listed under it
    under_compound = codes(client.get("/areas", parent=BAOLI))
    assert BAOLI_1 not in under_compound and BAOLI_34 in under_compound
    assert codes(client.get("/areas", parent=BAOTOU)) == [DONGHE]
    # a building of the same compound that is not theirs is a 404
    assert_problem(client.get("/areas", parent=BAOLI_1), 404)
    assert_problem(client.get(f"/areas/{BAOLI_1}"), 404)


@pytest.mark.parametrize(
    ("username", "foreign"),
    [
        ("warden", [JIUYUAN, FUGUI, FUGUI_1, DALAT, ORDOS]),
        ("warden_jy", [DONGHE, BAOLI, BAOLI_34, BAOLI_34_2_6W, DALAT]),
        ("gate", [JIUYUAN, FUGUI, FUGUI_1, "150203"]),
        ("unit_rep", [JIUYUAN, FUGUI, BAOLI_1, f"{BAOLI_34}-1"]),
        ("health", [JIUYUAN, FUGUI, FUGUI_1, ORDOS]),
        ("checkpoint", [BAOTOU, DONGHE, BAOLI, JIUYUAN, "150602"]),
        ("commander", [ORDOS, DALAT, "150700"]),
        ("station_kde", ["150782001001", BAOTOU, "150782001"]),
    ],
)
@pytest.mark.django_db
def test_no_role_crosses_into_another_district(username, foreign, django_user_model):
    client = api_for(django_user_model.objects.get(username=username))
    for code in foreign:
        assert_problem(client.get("/areas", parent=code), 404)
        assert_problem(client.get(f"/areas/{code}"), 404)
    # and nothing foreign appears in any listing reachable from the user's roots
    seen, frontier = set(), codes(client.get("/areas"))
    while frontier and len(seen) < 400:
        code = frontier.pop()
        seen.add(code)
        frontier.extend(c for c in codes(client.get("/areas", parent=code, limit=1000)) if c not in seen)
    assert not seen & set(foreign)


@pytest.mark.django_db
def test_missing_and_forbidden_are_indistinguishable(warden):
    client = api_for(warden)
    missing = client.get("/areas", parent="999999")
    forbidden = client.get("/areas", parent=FUGUI)
    assert missing.status_code == forbidden.status_code == 404
    assert missing.json() == forbidden.json()


@pytest.mark.django_db
def test_city_commander_sees_the_whole_city(commander):
    client = api_for(commander)
    assert codes(client.get("/areas")) == [BAOTOU]
    districts = codes(client.get("/areas", parent=BAOTOU))
    assert DONGHE in districts and JIUYUAN in districts and len(districts) == 9
    assert codes(client.get("/areas", parent=BAOLI, limit=100))[:2] == [f"{BAOLI}-1", f"{BAOLI}-2"]


@pytest.mark.django_db
def test_superuser_sees_every_city(django_user_model):
    admin = django_user_model.objects.create_superuser("root", password="x" * 12)
    assert codes(api_for(admin).get("/areas")) == ["150200", "150600", "150700"]


@pytest.mark.django_db
def test_pagination_limits(commander):
    client = api_for(commander)
    page = client.get("/areas", parent=BAOLI, limit=5, offset=30)
    assert page.json()["count"] == 36
    assert [i["code"] for i in page.json()["items"]] == [f"{BAOLI}-{n}" for n in range(31, 36)]
    assert Area.objects.filter(parent__code=BAOLI).count() == 36


@pytest.mark.django_db
def test_token_of_deleted_user_is_gone(warden):
    # a user with history (follow-ups owned or closed) is deactivated, never deleted; a new
    # account entered by mistake can be
    newcomer = User.objects.create(username="entered_by_mistake")
    token, plain = token_create(user=newcomer)
    newcomer.delete()
    assert not ApiToken.objects.filter(pk=token.pk).exists()
    assert_problem(ApiClient(plain).get("/areas"), 401)


@pytest.mark.django_db
def test_wrong_method_is_a_problem_405(warden):
    client = api_for(warden)
    response = client.client.delete("/api/v1/areas", headers=client.headers)
    body = assert_problem(response, 405)
    assert "DELETE" in body["detail"] and "GET" in response["Allow"]
    assert_problem(ApiClient(None).post("/health", {}), 405)
