"""The Content-Security-Policy: every page says it, and no page of any role breaks it — no inline
script or handler, nothing from outside — while HTMX, ECharts and the camera scan still work."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.conftest import BAOLI, BAOLI_34, BAOLI_34_2_6W, web_client

CSP_PARTS = ["default-src 'self'", "script-src 'self'", "object-src 'none'", "base-uri 'none'",
             "frame-ancestors 'none'", "form-action 'self'", "img-src 'self' data: blob:"]


def _policy(response: Any) -> str:
    policy: str = response["Content-Security-Policy"]
    return policy


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", f"/areas/{BAOLI_34_2_6W}/", "/audit/", "/no-such-page/"])
def test_every_page_sends_the_policy(commander: Any, path: str) -> None:
    policy = _policy(web_client(commander).get(path))
    for part in CSP_PARTS:
        assert part in policy
    assert "unsafe-eval" not in policy and "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    assert "style-src 'self' 'unsafe-inline'" in policy  # ECharts' SVG writes style attributes


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/accounts/login/", f"/p/{BAOLI}/", f"/p/{BAOLI_34}/tip/", "/p/t/"])
def test_the_log_in_and_public_pages_send_it_too(path: str) -> None:
    response = Client().get(path)
    assert response.status_code == 200
    for part in CSP_PARTS:
        assert part in _policy(response)


def test_the_favicon_is_served_from_the_site_itself() -> None:
    response = Client().get("/favicon.ico")
    assert response.status_code == 200 and response["Content-Type"] in ("image/x-icon", "image/vnd.microsoft.icon")
    body = b"".join(response.streaming_content) if response.streaming else response.content  # type: ignore[attr-defined]
    assert body[:4] == b"\x00\x00\x01\x00"  # an ICO file
