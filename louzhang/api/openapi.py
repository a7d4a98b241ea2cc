"""The OpenAPI document, true to the code: every error an operation can answer documented as a
problem document, the request bodies the device endpoints read themselves documented
(`core.ingest.batch_body`), and no two schemas under one name."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from ninja import NinjaAPI
from ninja.openapi.schema import OpenAPISchema
from ninja.operation import Operation

from louzhang.api.problems import CONTENT_TYPE

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details; `errors` for a request that is not valid.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {"type": "array", "items": {
            "type": "object", "required": ["loc", "msg"],
            "properties": {
                "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
                "msg": {"type": "string"},
                "type": {"type": "string"},
            },
        }},
    },
}

#: what each error means, wherever it is answered
_WHY = {
    400: "The request cannot be read: the body is not JSON or nested too deeply, or the Host is not served.",
    401: ("No token or session, or one that is not valid (a revoked or expired token, a session "
          "that ended, its user inactive)."),
    403: "The user's role may not do this, or (with the log-in session) the CSRF check failed.",
    404: "Not found, or outside the user's jurisdiction (the two are not told apart).",
    413: "The body is larger than the server reads, or holds too many records.",
    422: "A parameter or the body is not valid (`errors` says where); control characters are refused everywhere.",
    429: "Too many requests: retry after `Retry-After` seconds.",
}


def _problem(status: int) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": _WHY[status], "content": {
        CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
    if status == 429:
        answer["headers"] = {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}}
    if status == 401:
        answer["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
    return answer


class DuplicateSchemaName(Exception):
    """Two different schemas under one name: the document would describe one answer by the other's."""


class _Document(OpenAPISchema):
    def add_schema_definitions(self, definitions: dict[str, Any]) -> None:
        for name, definition in definitions.items():
            known = self.schemas.get(name)
            if known is not None and known != definition:
                raise DuplicateSchemaName(f"two schemas are named {name!r}: give one of them another name")
        super().add_schema_definitions(definitions)

    def operation_details(self, operation: Operation) -> dict[str, Any]:
        details: dict[str, Any] = super().operation_details(operation)
        extra = details.pop("x-components", None)
        if extra:
            self.add_schema_definitions(extra)
        statuses = [400, 422, 429]
        path_params = any(p.get("in") == "path" for p in details.get("parameters", []))
        if details.get("security"):
            statuses += [401, 403, 404]
        elif path_params:
            statuses += [404]
        if "requestBody" in details:
            statuses += [413]
        responses = details.setdefault("responses", {})
        for status in sorted(statuses):
            responses.setdefault(status, _problem(status))
        # answered by the web server before the request reaches the API: no body is promised
        responses.setdefault(414, {"description": (
            f"The request line (path and query) is longer than {settings.REQUEST_LINE_LIMIT:,} bytes: "
            "refused by the web server before the API reads it.")})
        return details

    def get_components(self) -> dict[str, Any]:
        components: dict[str, Any] = super().get_components()
        components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        return components


class DocumentedAPI(NinjaAPI):
    """`NinjaAPI` whose OpenAPI document says what every operation can answer."""

    def get_openapi_schema(self, *, path_prefix: str | None = None,
                           path_params: dict[str, Any] | None = None) -> OpenAPISchema:
        if path_prefix is None:
            path_prefix = self.get_root_path(path_params or {})
        return _Document(self, path_prefix)
