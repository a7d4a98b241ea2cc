"""Bearer tokens and request rate limits for the API."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja.security import HttpBearer
from ninja.throttling import SimpleRateThrottle

from louzhang.accounts.services import token_authenticate
from louzhang.core.middleware import client_ip


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = token_authenticate(token, ip=client_ip(request))
        if user is not None:
            request.user = user
        return user


class _SettingsRateThrottle(SimpleRateThrottle):
    """Rate read from settings at each request, so operators (and tests) can change it."""

    setting = ""

    def __init__(self) -> None:
        super().__init__(rate="1/s")

    def allow_request(self, request: HttpRequest) -> bool:
        self.num_requests, self.duration = self.parse_rate(getattr(settings, self.setting))
        return super().allow_request(request)


class UserThrottle(_SettingsRateThrottle):
    """Per authenticated user (LOUZHANG_API_RATE_USER)."""

    scope = "user"
    setting = "LOUZHANG_API_RATE_USER"

    def get_cache_key(self, request: HttpRequest) -> str | None:
        auth = getattr(request, "auth", None)
        if auth is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": auth.pk}


class AnonThrottle(_SettingsRateThrottle):
    """Per client address for requests without a token (LOUZHANG_API_RATE_ANON)."""

    scope = "anon"
    setting = "LOUZHANG_API_RATE_ANON"

    def get_cache_key(self, request: HttpRequest) -> str | None:
        if getattr(request, "auth", None) is not None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request)}
