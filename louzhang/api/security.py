"""Who is calling the API — a device's bearer token or a browser's log-in session — and request
rate limits."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.throttling import SimpleRateThrottle
from ninja.utils import check_csrf

from louzhang.accounts.services import token_authenticate
from louzhang.core.middleware import client_ip


class TokenAuth(HttpBearer):
    openapi_description = "A token from `louzhang token create USERNAME` (devices, integrations)."

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = token_authenticate(token, ip=client_ip(request))
        if user is not None:
            request.user = user
        return user


#: methods that change nothing: a session reads with them without the CSRF check
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class SessionAuth(APIKeyCookie):
    """The browser's log-in session (the offline app's pages call the API with it): the active
    user logged in under the `sessionid` cookie. A request that changes something (POST …) must
    pass Django's CSRF check — header `X-CSRFToken` holding the `csrftoken` cookie's value —
    or it is refused with 403; a session that has ended (logged out, expired, its user made
    inactive) is no session: 401.

    A request with an `Authorization` header is the token's alone: a bad token is not rescued by
    a session cookie the same browser happens to carry.

    Unlike django-ninja's `SessionAuth`, the CSRF check runs only once a logged-in user is found,
    so a request without a session is answered 401 (not 403) whatever its method."""

    param_name = settings.SESSION_COOKIE_NAME
    openapi_description = (
        "The browser's log-in session (cookie `sessionid`, set by the log-in page). A request "
        "other than GET/HEAD/OPTIONS also needs the header `X-CSRFToken` with the value of the "
        "`csrftoken` cookie, or it is refused with 403.")

    def __init__(self) -> None:
        super().__init__(csrf=True)

    def _get_key(self, request: HttpRequest) -> str | None:
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        if not key or "authorization" in request.headers:
            return None
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_active:
            return None
        if request.method not in SAFE_METHODS and not getattr(request, "_ninja_csrf_exempt", False) \
                and check_csrf(request) is not None:
            raise HttpError(403, "CSRF check failed: send the csrftoken cookie's value in the X-CSRFToken header")
        # the user itself, not the middleware's lazy stand-in: services cache on the user object
        return getattr(user, "_wrapped", user)


class _SettingsRateThrottle(SimpleRateThrottle):
    """Rate read from settings at each request, so operators (and tests) can change it."""

    setting = ""

    def __init__(self) -> None:
        super().__init__(rate="1/s")

    def allow_request(self, request: HttpRequest) -> bool:
        self.num_requests, self.duration = self.parse_rate(getattr(settings, self.setting))
        return super().allow_request(request)


class UserThrottle(_SettingsRateThrottle):
    """Per authenticated user (LOUZHANG_API_RATE_USER), whether by token or session: one count
    per user."""

    scope = "user"
    setting = "LOUZHANG_API_RATE_USER"

    def get_cache_key(self, request: HttpRequest) -> str | None:
        auth = getattr(request, "auth", None)
        if auth is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": auth.pk}


class AnonThrottle(_SettingsRateThrottle):
    """Per client address for requests without a user (LOUZHANG_API_RATE_ANON)."""

    scope = "anon"
    setting = "LOUZHANG_API_RATE_ANON"

    def get_cache_key(self, request: HttpRequest) -> str | None:
        if getattr(request, "auth", None) is not None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request)}
