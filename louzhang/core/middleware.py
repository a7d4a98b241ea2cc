"""Request context that deeper layers (the audit log) read without threading `request` through;
the language of the page."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers


@dataclass(frozen=True)
class RequestContext:
    ip: str | None
    user_agent: str


_current: ContextVar[RequestContext | None] = ContextVar("louzhang_request", default=None)


def client_ip(request: HttpRequest) -> str | None:
    """The client address; X-Forwarded-For is trusted only through LOUZHANG_PROXY_COUNT proxies."""
    proxies = settings.LOUZHANG_PROXY_COUNT
    if proxies:
        header: str = request.META.get("HTTP_X_FORWARDED_FOR", "")
        forwarded = [p.strip() for p in header.split(",")]
        forwarded = [p for p in forwarded if p]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    remote: str | None = request.META.get("REMOTE_ADDR")
    return remote or None


def current_request_context() -> RequestContext | None:
    return _current.get()


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _current.set(
            RequestContext(ip=client_ip(request), user_agent=request.headers.get("User-Agent", "")[:200])
        )
        try:
            return self.get_response(request)
        finally:
            _current.reset(token)


class LanguageMiddleware:
    """The language of a page: Chinese unless the user chose another with the language switch
    (a cookie, set by Django's `set_language`). A phone's own language (Accept-Language) does
    not count: a Chinese officer with an English-set phone still gets Chinese. The HTTP API is
    the exception: a device or program asks for its messages' language with Accept-Language."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        api = request.path_info.startswith("/api/")
        language = _chosen_language(request) or (
            translation.get_language_from_request(request) if api else settings.LANGUAGE_CODE)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        patch_vary_headers(response, ("Cookie", "Accept-Language") if api else ("Cookie",))
        response.headers.setdefault("Content-Language", translation.get_language())
        return response


def _chosen_language(request: HttpRequest) -> str | None:
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    if not chosen:
        return None
    try:
        return translation.get_supported_language_variant(chosen)
    except LookupError:
        return None
