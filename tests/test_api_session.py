"""The API under the browser's log-in session (the offline app's pages): a GET with the session
works, a POST only with the CSRF token the pages carry — a resend is `duplicate`, stored once —;
no session, an ended session or an inactive user's session is 401; a bad token is not rescued by
a session; the rate limit counts a user once, whether by token or session; the OpenAPI document
describes both ways in."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from louzhang.accounts.models import User
from louzhang.gates.models import GateRecord, HouseholdPass
from tests.conftest import BAOLI, BAOLI_34_2_6W, api_for

pytestmark = pytest.mark.django_db
EAST = f"{BAOLI}-E"
PROBLEM = "application/problem+json"


def _browser(user: User) -> Client:
    """A logged-in browser: CSRF enforced as for a real one (Django's test client skips it)."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def _csrf(client: Client) -> str:
    """The csrftoken cookie a page sets (the gate page has a form)."""
    assert client.get(f"/gates/{EAST}/").status_code == 200
    return client.cookies["csrftoken"].value


def _record(n: int) -> dict[str, Any]:
    return {"client_id": f"pwa-gate-{n:04d}", "gate": EAST, "direction": "in",
            "at": timezone.localtime().replace(microsecond=0).isoformat(), "temperature": 36.5,
            "pass_code": HouseholdPass.objects.get(household__code=BAOLI_34_2_6W).code}


def _post(client: Client, path: str, body: Any, **headers: str) -> Any:
    return client.post(f"/api/v1{path}", body, content_type="application/json", headers=headers)


def test_a_session_reads_the_api_as_its_user(gate: User) -> None:
    browser = _browser(gate)
    offline = browser.get("/api/v1/offline")
    assert offline.status_code == 200
    assert offline.json()["user"]["username"] == "gate"
    gates = browser.get("/api/v1/gates", {"compound": BAOLI})
    assert gates.status_code == 200 and EAST in {g["code"] for g in gates.json()["items"]}


def test_a_session_post_without_the_csrf_token_is_refused_and_stores_nothing(gate: User) -> None:
    browser = _browser(gate)
    _csrf(browser)  # the cookie is there; the header is what the check wants
    refused = _post(browser, "/gate-checks", {"records": [_record(1)]})
    assert refused.status_code == 403
    assert refused["Content-Type"] == PROBLEM and "CSRF" in refused.json()["detail"]
    wrong = _post(browser, "/gate-checks", {"records": [_record(1)]}, X_CSRFToken="x" * 32)
    assert wrong.status_code == 403
    assert not GateRecord.objects.filter(client_id="pwa-gate-0001").exists()


def test_a_session_post_with_the_csrf_token_creates_and_a_resend_is_a_duplicate(gate: User) -> None:
    browser = _browser(gate)
    token = _csrf(browser)
    first = _post(browser, "/gate-checks", {"records": [_record(1), _record(2)]}, X_CSRFToken=token)
    assert first.status_code == 200
    assert [r["status"] for r in first.json()["results"]] == ["created", "created"]
    again = _post(browser, "/gate-checks", {"records": [_record(1), _record(2)]}, X_CSRFToken=token)
    assert [r["status"] for r in again.json()["results"]] == ["duplicate", "duplicate"]
    assert [r["id"] for r in again.json()["results"]] == [r["id"] for r in first.json()["results"]]
    stored = GateRecord.objects.filter(client_id__in=["pwa-gate-0001", "pwa-gate-0002"])
    assert stored.count() == 2 and {r.recorded_by_id for r in stored} == {gate.pk}


def test_no_session_and_no_token_is_401_whatever_the_method() -> None:
    browser = Client(enforce_csrf_checks=True)
    for response in (browser.get("/api/v1/offline"), _post(browser, "/gate-checks", _record(1))):
        assert response.status_code == 401
        assert response["Content-Type"] == PROBLEM


def test_a_logged_out_session_is_401(gate: User) -> None:
    browser = _browser(gate)
    token = _csrf(browser)
    ended = browser.cookies[settings.SESSION_COOKIE_NAME].value
    assert browser.post("/accounts/logout/", headers={"X-CSRFToken": token}).status_code in (200, 302)
    browser.cookies[settings.SESSION_COOKIE_NAME] = ended  # a tab that still holds the old cookie
    assert browser.get("/api/v1/offline").status_code == 401
    assert _post(browser, "/gate-checks", _record(1), X_CSRFToken=token).status_code == 401
    assert not GateRecord.objects.filter(client_id="pwa-gate-0001").exists()


def test_the_session_of_a_user_made_inactive_is_401(gate: User) -> None:
    browser = _browser(gate)
    assert browser.get("/api/v1/offline").status_code == 200
    User.objects.filter(pk=gate.pk).update(is_active=False)
    answer = browser.get("/api/v1/offline")
    assert answer.status_code == 401 and answer["Content-Type"] == PROBLEM


def test_a_bad_token_is_not_rescued_by_the_session(gate: User) -> None:
    browser = _browser(gate)
    answer = browser.get("/api/v1/offline", headers={"Authorization": "Bearer lz_not-a-token"})
    assert answer.status_code == 401


def test_the_rate_limit_counts_a_user_once_by_token_or_session(gate: User, warden: User, settings: Any) -> None:
    settings.LOUZHANG_API_RATE_USER = "3/m"
    browser = _browser(gate)
    device = api_for(gate)
    assert browser.get("/api/v1/offline").status_code == 200
    assert device.get("/offline").status_code == 200
    assert browser.get("/api/v1/offline").status_code == 200
    limited = browser.get("/api/v1/offline")
    assert limited.status_code == 429 and limited["Content-Type"] == PROBLEM and limited["Retry-After"]
    assert device.get("/offline").status_code == 429
    # another user's session is not counted with theirs
    assert _browser(warden).get("/api/v1/offline").status_code == 200


def test_the_document_describes_the_session_beside_the_token() -> None:
    document = Client().get("/api/v1/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["SessionAuth"] == {**schemes["SessionAuth"], "type": "apiKey", "in": "cookie",
                                      "name": settings.SESSION_COOKIE_NAME}
    assert "X-CSRFToken" in schemes["SessionAuth"]["description"]
    assert schemes["TokenAuth"]["scheme"] == "bearer"
    for path in ("/api/v1/offline", "/api/v1/gate-checks"):
        operation = next(iter(document["paths"][path].values()))
        assert operation["security"] == [{"TokenAuth": []}, {"SessionAuth": []}]
    assert "security" not in document["paths"]["/api/v1/health"]["get"]
