"""Password guesses against one account from ever new addresses are slowed (rising delays per
account, shared through the cache), never turned into a lock the officer cannot get past: after
the wait the right password logs in, and a phone that logged in before does not wait at all."""

from __future__ import annotations

from datetime import timedelta
from itertools import count
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from louzhang.accounts.models import User
from louzhang.accounts.throttle import account_wait, delay_after

PASSWORD = "correct-horse-9"
_address = count(1)


@pytest.fixture
def officer(warden: User) -> User:
    warden.set_password(PASSWORD)
    warden.save()
    return warden


def _fresh_address() -> dict[str, str]:
    n = next(_address)
    return {"REMOTE_ADDR": f"198.51.{n // 250}.{n % 250 + 1}"}


def _try(password: str, **meta: str) -> Any:
    return Client(**meta).post("/accounts/login/", {"username": "warden", "password": password},
                               headers={"Accept-Language": "en"})


def _guess_from_new_addresses(times: int, clock: Any = None) -> list[int]:
    """`times` wrong passwords, each from a new address; with `clock`, each after the wait the
    one before imposed (a patient attacker), so that every one of them is really tried."""
    statuses = []
    for i in range(times):
        if clock is not None:
            clock.shift(timedelta(seconds=account_wait("warden")))
        statuses.append(_try(f"guess-{i}", **_fresh_address()).status_code)
    return statuses


def test_the_delay_doubles_and_is_capped(settings: Any) -> None:
    settings.LOUZHANG_LOGIN_ACCOUNT_FREE_FAILURES = 5
    settings.LOUZHANG_LOGIN_ACCOUNT_MAX_DELAY_SECONDS = 60
    assert [delay_after(n) for n in range(1, 12)] == [0, 0, 0, 0, 2, 4, 8, 16, 32, 60, 60]


def test_rotating_addresses_are_slowed_and_told_how_long(officer: User) -> None:
    with time_machine.travel(timezone.now(), tick=False):
        # five wrong passwords, each from an address never seen before: axes counts one each
        assert _guess_from_new_addresses(5) == [200] * 5
        assert account_wait("warden") == 2
        # the sixth, from yet another address, is refused before its password is checked
        response = _try("guess-6", **_fresh_address())
        assert response.status_code == 429 and response["Retry-After"] == "2"
        assert "请 2 秒后再试" in response.content.decode()
        # even the right password waits; nothing counted, no session made
        right = _try(PASSWORD, **_fresh_address())
        assert right.status_code == 429 and "sessionid" not in right.cookies
        assert account_wait("warden") == 2


def test_the_wait_grows_with_every_failure_and_stops_at_the_cap(officer: User, settings: Any) -> None:
    settings.LOUZHANG_LOGIN_ACCOUNT_MAX_DELAY_SECONDS = 20
    waits = []
    with time_machine.travel(timezone.now(), tick=False) as clock:
        _guess_from_new_addresses(4)
        for _ in range(5):
            assert _try("guess", **_fresh_address()).status_code == 200  # a real (wrong) try
            waits.append(account_wait("warden"))
            clock.shift(timedelta(seconds=waits[-1]))
    assert waits == [2, 4, 8, 16, 20]


def test_behind_a_proxy_the_forwarded_addresses_rotate_and_are_slowed_all_the_same(
    officer: User, settings: Any,
) -> None:
    settings.LOUZHANG_PROXY_COUNT = 1
    with time_machine.travel(timezone.now(), tick=False):
        for n in range(5):
            proxy = {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": f"203.0.113.{n + 1}"}
            assert _try("guess", **proxy).status_code == 200
        slowed = _try("guess", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.99")
        assert slowed.status_code == 429


def test_the_officer_logs_in_from_another_address_after_the_wait(officer: User) -> None:
    with time_machine.travel(timezone.now(), tick=False) as clock:
        assert _guess_from_new_addresses(8, clock) == [200] * 8
        wait = account_wait("warden")
        assert wait == 16
        assert _try(PASSWORD, REMOTE_ADDR="192.0.2.77").status_code == 429
        clock.shift(timedelta(seconds=wait))
        response = _try(PASSWORD, REMOTE_ADDR="192.0.2.77")
        assert response.status_code == 302 and response["Location"] == "/"
    # and the count starts again from nothing
    assert account_wait("warden") == 0
    assert _guess_from_new_addresses(4) == [200] * 4 and account_wait("warden") == 0


def test_a_phone_that_logged_in_before_does_not_wait(officer: User) -> None:
    phone = Client(REMOTE_ADDR="192.0.2.10")
    assert phone.post("/accounts/login/", {"username": "warden", "password": PASSWORD}).status_code == 302
    phone.post("/accounts/logout/")
    with time_machine.travel(timezone.now(), tick=False) as clock:
        _guess_from_new_addresses(9, clock)
        assert account_wait("warden") == 32
        # the attacker's new browser waits; the warden's own phone goes straight in
        assert _try(PASSWORD, REMOTE_ADDR="192.0.2.10").status_code == 429
        assert phone.post("/accounts/login/", {"username": "warden", "password": PASSWORD}).status_code == 302


def test_a_forged_device_cookie_does_not_skip_the_wait(officer: User) -> None:
    with time_machine.travel(timezone.now(), tick=False):
        _guess_from_new_addresses(5)
        forged = Client(REMOTE_ADDR="192.0.2.11")
        forged.cookies["lz_device"] = "W10:forged:signature"
        assert forged.post("/accounts/login/", {"username": "warden", "password": PASSWORD}).status_code == 429


def test_another_account_is_not_slowed(officer: User, warden_jy: User) -> None:
    warden_jy.set_password(PASSWORD)
    warden_jy.save()
    _guess_from_new_addresses(7)
    assert account_wait("warden") > 0 and account_wait("warden_jy") == 0
    response = Client(REMOTE_ADDR="192.0.2.12").post(
        "/accounts/login/", {"username": "warden_jy", "password": PASSWORD})
    assert response.status_code == 302


def test_the_admin_log_in_is_slowed_too(officer: User) -> None:
    officer.is_staff = True
    officer.save()
    with time_machine.travel(timezone.now(), tick=False):
        _guess_from_new_addresses(6)
        response = Client(REMOTE_ADDR="192.0.2.13").post(
            "/admin/login/", {"username": "warden", "password": PASSWORD, "next": "/admin/"})
        assert response.status_code == 200 and "_auth_user_id" not in Client().session
        assert "sessionid" not in response.cookies
