"""Every error under /api/ is a problem document, including those Django or django-ninja
produce before a view runs (405 Method Not Allowed, 413, a bad `Host` …); and no control
character comes into the API through a path or a query (the bodies' fields refuse them through
`core.ingest.Text`)."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from django.core.exceptions import DisallowedHost, SuspiciousOperation
from django.http import HttpRequest, HttpResponse

from louzhang.api.problems import CONTENT_TYPE, bounded, problem
from louzhang.core.ingest import control_character

#: headers of Django's own error answer not kept on the problem document that replaces it
_REPLACED = {"content-type", "content-length", "content-disposition"}


def _controls(request: HttpRequest) -> list[dict[str, Any]]:
    """Where the path or the query holds a control character (NUL, ESC …), as validation errors."""
    errors = []
    found = control_character(request.path)
    if found:
        errors.append({"loc": ["path"], "msg": f"contains a control character ({found})", "type": "control_character"})
    for name, values in request.GET.lists():
        for value in [name, *values]:
            found = control_character(value)
            if found:
                errors.append({"loc": ["query", bounded(name, 40)],
                               "msg": f"contains a control character ({found})", "type": "control_character"})
                break
    return errors


class ApiProblemMiddleware:
    """First of the middleware, so that it sees the answers of all the others (a bad `Host`
    is refused by Django's CommonMiddleware before any view)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith("/api/"):
            return self.get_response(request)
        try:
            errors = _controls(request)
        except SuspiciousOperation as exc:  # too many query fields …
            return problem(400, bounded(str(exc)))
        if errors:
            where = ", ".join(".".join(str(p) for p in e["loc"]) for e in errors[:5])
            return problem(422, f"the request is not valid: {where}", kind="validation-error", errors=errors)
        response = self.get_response(request)
        if response.status_code >= 400 and not response.get("Content-Type", "").startswith(CONTENT_TYPE):
            return self._as_problem(request, response)
        return response

    def _as_problem(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        status = response.status_code
        if status == HTTPStatus.METHOD_NOT_ALLOWED:
            allowed = response.get("Allow", "")
            detail = f"{request.method} is not allowed here" + (f"; use {allowed}" if allowed else "")
        elif status == HTTPStatus.BAD_REQUEST and _bad_host(request):
            detail = "the Host header names a host this server does not answer to (ALLOWED_HOSTS)"
        else:
            detail = HTTPStatus(status).description or HTTPStatus(status).phrase
        # the other middleware's headers (Allow, Retry-After, security headers …) stay
        headers = {k: v for k, v in response.items() if k.lower() not in _REPLACED}
        return problem(status, detail, headers=headers)


def _bad_host(request: HttpRequest) -> bool:
    try:
        request.get_host()
    except DisallowedHost:
        return True
    return False
