"""Log-in as an officer meets it: Chinese page, lock-out after wrong passwords, CSRF."""

from __future__ import annotations

import pytest
from django.test import Client


@pytest.fixture
def warden_password(warden):
    warden.set_password("correct-horse-9")
    warden.save()
    return "correct-horse-9"


@pytest.mark.django_db
def test_login_page_is_chinese(client):
    page = client.get("/accounts/login/").content.decode()
    assert "登录" in page and "用户名" in page and "密码" in page


@pytest.mark.django_db
def test_login_then_logout(client, warden_password):
    response = client.post("/accounts/login/", {"username": "warden", "password": warden_password})
    assert response.status_code == 302 and response["Location"] == "/"
    assert "保利百合" in client.get("/").content.decode()
    client.post("/accounts/logout/")
    assert client.get("/").status_code == 302


@pytest.mark.django_db
def test_wrong_password_shows_an_error(client, warden_password):
    page = client.post("/accounts/login/", {"username": "warden", "password": "nope"}).content.decode()
    assert 'role="alert"' in page


@pytest.mark.django_db
def test_locked_out_after_five_failures_even_with_the_right_password(client, warden_password):
    for _ in range(5):
        client.post("/accounts/login/", {"username": "warden", "password": "guess"})
    response = client.post("/accounts/login/", {"username": "warden", "password": warden_password})
    assert response.status_code == 429
    assert "登录失败次数过多" in response.content.decode()
    assert Client().get("/").status_code == 302  # and no session was made
    # another officer at another address is not affected
    other = Client(REMOTE_ADDR="10.9.9.9")
    assert other.post("/accounts/login/", {"username": "warden", "password": warden_password}).status_code == 302


@pytest.mark.django_db
def test_login_requires_csrf_token(warden_password):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "warden", "password": warden_password})
    assert response.status_code == 403


@pytest.mark.django_db
def test_passwords_are_hashed_with_argon2(warden_password, warden):
    warden.refresh_from_db()
    assert warden.password.startswith("argon2$")


@pytest.mark.django_db
def test_session_cookie_is_http_only(client, warden_password):
    response = client.post("/accounts/login/", {"username": "warden", "password": warden_password})
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"


@pytest.mark.django_db
def test_behind_a_proxy_one_guesser_does_not_lock_out_the_warden(warden_password, settings):
    settings.LOUZHANG_PROXY_COUNT = 1
    proxy = "10.0.0.1"
    guesser = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="203.0.113.9")
    for _ in range(5):
        guesser.post("/accounts/login/", {"username": "warden", "password": "guess"})
    assert guesser.post("/accounts/login/", {"username": "warden", "password": warden_password}).status_code == 429
    officer = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="198.51.100.7")
    response = officer.post("/accounts/login/", {"username": "warden", "password": warden_password})
    assert response.status_code == 302
