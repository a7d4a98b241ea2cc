"""Request context that deeper layers (the audit log) read without threading `request` through;
the language of the page; a clear 503 while the database cannot be reached."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _

from louzhang.core import storage
from louzhang.core.storage import storage_exhausted, storage_full_answer


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
    """The request's context for deeper layers; and, while the database cannot be reached (a
    PostgreSQL server restarting, a network cut), a 503 that says so instead of a 500: see
    `database_unavailable_response`."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _current.set(
            RequestContext(ip=client_ip(request), user_agent=request.headers.get("User-Agent", "")[:200])
        )
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        if response.status_code == 500 and connection.errors_occurred and database_lost():
            # the API's own handler answered 500 for an error of a lost connection
            logger.warning("%s %s: database unavailable, answered 503", request.method, request.path)
            return database_unavailable_response(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if storage_exhausted(exception):
            if request.path_info.startswith("/api/"):
                return storage_full_answer(exception)
            logger.error("%s %s: the database is full (storage exhausted), answered 503",
                         request.method, request.path)
            return _unavailable_page(
                _("The database is full"),
                _("Louzhang has no room left to store records. What you were sending was not saved: "
                  "send it again later. Tell the operator of the system at once."),
                storage.RETRY_AFTER)
        if database_lost(exception):
            logger.warning("%s %s: database unavailable (%s), answered 503", request.method, request.path,
                           str(exception).strip().splitlines()[0][:200] if str(exception).strip() else "")
            return database_unavailable_response(request)
        return None


# --- the database unavailable -------------------------------------------------------------

logger = logging.getLogger("louzhang.database")

#: seconds a client is asked to wait before trying again while the database is unavailable
RETRY_AFTER = 5
#: the problem type of the API's answer (the same base as `api.problems`, which this floor
#: cannot import)
DATABASE_UNAVAILABLE_TYPE = "https://louzhang.invalid/problems/database-unavailable"

_PAGE = """{% extends "_error.html" %}
{% block title %}{{ heading }}{% endblock %}
{% block status %}503{% endblock %}
{% block heading %}{{ heading }}{% endblock %}
{% block explanation %}{{ explanation }}{% endblock %}"""


def database_lost(exc: BaseException | None = None) -> bool:
    """Whether `exc` (or, without one, the last error on this thread's connection) comes from
    a database that cannot be reached now: a connection error on a server database whose
    connection is gone or no longer answers. SQLite is a file beside the server, never "lost"
    (its full disk is answered by `core.storage`)."""
    if exc is not None and not isinstance(exc, OperationalError | InterfaceError):
        return False
    if connection.vendor == "sqlite":
        return False
    if connection.connection is None:
        return True  # it could not connect
    try:
        return not connection.is_usable()
    except Exception:  # noqa: BLE001 - any failure to ask is an answer
        return True


def database_unavailable_response(request: HttpRequest) -> HttpResponse:
    """503 with `Retry-After`: under /api/ a problem document (`application/problem+json`),
    elsewhere the product's error page. Rendered without the request's context: the context
    processors would ask the database."""
    headers = {"Retry-After": str(RETRY_AFTER)}
    if request.path_info.startswith("/api/"):
        body = {"type": DATABASE_UNAVAILABLE_TYPE, "title": "Service Unavailable", "status": 503,
                "detail": f"database unavailable; retry in {RETRY_AFTER} s"}
        response = HttpResponse(json.dumps(body), status=503, content_type="application/problem+json",
                                headers=headers)
        # said once, in a line, by the caller: not again with a traceback by `django.request`
        response._has_been_logged = True  # type: ignore[attr-defined]
        return response
    return _unavailable_page(
        _("The database cannot be reached"),
        _("Louzhang cannot reach its database at the moment. Try again in a few seconds; "
          "if you were sending a form, it was not saved: send it again. If this goes on, "
          "tell the operator of the system."),
        RETRY_AFTER)


def _unavailable_page(heading: str, explanation: str, retry_after: int) -> HttpResponse:
    """The product's error page with a 503, rendered without the request's context: the
    context processors would ask the database."""
    page = engines["django"].from_string(_PAGE).render({"heading": heading, "explanation": explanation})
    response = HttpResponse(page, status=503, headers={"Retry-After": str(retry_after)})
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


def database_unavailable_problem(request: HttpRequest, exc: Exception) -> HttpResponse | None:
    """For the API's exception handlers (`api.problems.install`): the 503 problem document
    when `exc` is a lost database, else None (the caller answers as it would have)."""
    if not database_lost(exc):
        return None
    logger.warning("%s %s: database unavailable, answered 503", request.method, request.path)
    return database_unavailable_response(request)


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
