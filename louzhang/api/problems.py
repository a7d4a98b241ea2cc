"""Every API error as an RFC 9457 problem document (application/problem+json)."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    ObjectDoesNotExist,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError

from louzhang.core.middleware import database_unavailable_problem
from louzhang.core.storage import storage_full_answer

logger = logging.getLogger("louzhang.api")

PROBLEM_TYPE_BASE = "https://louzhang.invalid/problems/"
CONTENT_TYPE = "application/problem+json"
#: the longest piece of a request an error answer repeats
ECHO_LIMIT = 100


def bounded(text: str, limit: int = ECHO_LIMIT) -> str:
    """`text` to repeat in an error answer: at most `limit` characters (an input of 10,000 is
    not sent back whole)."""
    return text if len(text) <= limit else text[:limit] + "…"


def problem(
    status: int,
    detail: str,
    *,
    kind: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    phrase = HTTPStatus(status).phrase
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + (kind or phrase.lower().replace(" ", "-")),
        "title": phrase,
        "status": status,
        "detail": bounded(detail, 500),
    }
    if errors is not None:
        body["errors"] = errors
    response = JsonResponse(body, status=status, content_type=CONTENT_TYPE,
                            json_dumps_params={"ensure_ascii": False})
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _validation_errors(exc: ValidationError) -> list[dict[str, Any]]:
    errors = []
    for error in exc.errors:
        loc = [bounded(part, 40) if isinstance(part, str) else part
               for part in error.get("loc", []) if part is not None]
        errors.append({"loc": loc, "msg": bounded(str(error.get("msg", "invalid")), 200),
                       "type": error.get("type", "")})
    return errors


def install(api: NinjaAPI) -> None:
    """Replace django-ninja's default error bodies with problem details."""

    @api.exception_handler(ValidationError)
    def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        errors = _validation_errors(exc)
        where = ", ".join(".".join(str(p) for p in e["loc"]) for e in errors[:5])
        return problem(422, f"the request is not valid: {where}", kind="validation-error",
                       errors=errors)

    @api.exception_handler(AuthenticationError)
    def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return problem(401, "a valid bearer token (Authorization: Bearer <token>) or a log-in session "
                       "is required",
                       headers={"WWW-Authenticate": 'Bearer realm="louzhang"'})

    @api.exception_handler(Throttled)
    def _throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
        wait = max(int(exc.wait or 1), 1)
        return problem(429, f"too many requests; retry in {wait} s",
                       headers={"Retry-After": str(wait)})

    @api.exception_handler(HttpError)
    def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return problem(exc.status_code, str(exc))

    @api.exception_handler(RequestDataTooBig)
    def _too_large(request: HttpRequest, exc: Exception) -> HttpResponse:
        return problem(413, f"the body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes")

    @api.exception_handler(SuspiciousOperation)
    def _suspicious(request: HttpRequest, exc: Exception) -> HttpResponse:
        return problem(400, str(exc) or "the request cannot be read")

    @api.exception_handler(Http404)
    def _not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
        return problem(404, str(exc) or "not found")

    @api.exception_handler(ObjectDoesNotExist)
    def _no_object(request: HttpRequest, exc: Exception) -> HttpResponse:
        return problem(404, "not found")

    @api.exception_handler(PermissionDenied)
    def _forbidden(request: HttpRequest, exc: Exception) -> HttpResponse:
        return problem(403, str(exc) or "this action is not allowed for your role")

    @api.exception_handler(Exception)
    def _crash(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.exception("unhandled error in %s %s", request.method, request.path)
        return problem(500, "internal error; it has been logged")

    @api.exception_handler(DatabaseError)
    def _database(request: HttpRequest, exc: Exception) -> HttpResponse:
        """A full disk or a lost database is a 503 that says so (nothing of the request was
        stored; the device sends again after `Retry-After`), not a 500."""
        return (storage_full_answer(exc) or database_unavailable_problem(request, exc)
                or _crash(request, exc))


def not_found_view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """Unknown paths under /api/ answer in the API's own format."""
    return problem(404, f"no such endpoint: {bounded(request.path)}")
