"""Error pages in the product's look, on a phone, in Chinese (English when chosen), with the way
back home; the API keeps its problem documents."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import include, path

from tests.conftest import web_client


def _broken(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug")


def _forbidden(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied


urlpatterns = [
    path("broken/", _broken),
    path("forbidden/", _forbidden),
    path("", include("louzhang.urls")),
]


def _looks_like_the_product(html: str, status: int) -> None:
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "/static/louzhang/css/louzhang.css" in html and 'class="topbar"' in html
    assert f'data-status="{status}"' in html and 'href="/"' in html
    assert "Traceback" not in html and "Django" not in html


@pytest.mark.django_db
def test_a_missing_page_is_chinese_on_an_english_phone(warden: Any) -> None:
    response = web_client(warden).get("/no-such-page/", headers={"Accept-Language": "en"})
    assert response.status_code == 404
    html = response.content.decode()
    _looks_like_the_product(html, 404)
    assert 'lang="zh-hans"' in html and "返回首页" in html  # scripts/zh_pending_ui.txt


@pytest.mark.django_db
def test_an_area_outside_the_jurisdiction_is_the_same_page_as_a_missing_one(warden: Any) -> None:
    client = web_client(warden)
    client.cookies["django_language"] = "en"  # chosen with the language switch
    outside = client.get("/areas/150207001001001/")  # 富贵佳园, 九原区
    assert outside.status_code == 404
    html = outside.content.decode()
    _looks_like_the_product(html, 404)
    assert "Page not found" in html and "Back to the home page" in html
    assert "150207001001001" not in html  # nothing about what was asked for


def test_the_log_in_page_has_its_404_too() -> None:
    response = Client().get("/nothing-here/")
    assert response.status_code == 404
    _looks_like_the_product(response.content.decode(), 404)


def test_a_bad_host_is_answered_with_the_400_page() -> None:
    response = Client().get("/accounts/login/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    _looks_like_the_product(response.content.decode(), 400)


@pytest.mark.urls(__name__)
@pytest.mark.django_db
def test_a_bug_is_answered_with_the_500_page(warden: Any) -> None:
    client = web_client(warden)
    client.raise_request_exception = False
    response = client.get("/broken/")
    assert response.status_code == 500
    _looks_like_the_product(response.content.decode(), 500)
    assert "a bug" not in response.content.decode()


@pytest.mark.urls(__name__)
@pytest.mark.django_db
def test_a_refusal_is_answered_with_the_403_page(warden: Any) -> None:
    response = web_client(warden).get("/forbidden/")
    assert response.status_code == 403
    _looks_like_the_product(response.content.decode(), 403)


@pytest.mark.django_db
def test_an_expired_form_says_so_in_the_products_words() -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "warden", "password": "x"})
    assert response.status_code == 403
    html = response.content.decode()
    _looks_like_the_product(html, 403)
    assert "CSRF" not in html


def test_the_api_keeps_its_problem_documents() -> None:
    response = Client().get("/api/v1/no-such-endpoint")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/problem+json")
