"""Every error under /api/ is a problem document, including those Django or django-ninja
produce before a view runs (405 Method Not Allowed, 413 …)."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus

from django.http import HttpRequest, HttpResponse

from louzhang.api.problems import CONTENT_TYPE, problem


class ApiProblemMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code >= 400
            and request.path.startswith("/api/")
            and not response.get("Content-Type", "").startswith(CONTENT_TYPE)
        ):
            status = response.status_code
            if status == HTTPStatus.METHOD_NOT_ALLOWED:
                allowed = response.get("Allow", "")
                detail = f"{request.method} is not allowed here" + (f"; use {allowed}" if allowed else "")
            else:
                detail = HTTPStatus(status).description or HTTPStatus(status).phrase
            headers = {k: response[k] for k in ("Allow", "Retry-After", "WWW-Authenticate") if k in response}
            return problem(status, detail, headers=headers)
        return response
