"""Batches of records from devices: the form they are posted in, each record checked on its own."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from django.http import HttpRequest, HttpResponse
from ninja.errors import HttpError
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


def validate_each(schema: type[M], records: list[Any]) -> tuple[list[tuple[int, M]], dict[int, list[dict[str, Any]]]]:
    """Each record against `schema`: the valid ones with their positions, and for each invalid
    one its errors as `{"loc": [...], "msg": ...}` (API.md's per-record errors)."""
    valid: list[tuple[int, M]] = []
    errors: dict[int, list[dict[str, Any]]] = {}
    for index, raw in enumerate(records):
        try:
            valid.append((index, schema.model_validate(raw)))
        except ValidationError as exc:
            errors[index] = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors(include_url=False)]
    return valid, errors


def records_of(request: HttpRequest, limit: int) -> list[Any]:
    """The records of a device request; a body that is not one record or a list of at most
    `limit` records is refused whole (400/413/422)."""
    try:
        body = json.loads(request.body or b"null")
    except ValueError:
        raise HttpError(400, "the body is not JSON") from None
    if isinstance(body, dict) and "records" in body:
        records = body["records"]
        if not isinstance(records, list):
            raise HttpError(422, "records: expected a list")
    elif isinstance(body, dict):
        records = [body]
    else:
        raise HttpError(422, 'expected one record or {"records": [...]}')
    if len(records) > limit:
        raise HttpError(413, f"at most {limit} records per request, not {len(records)}")
    return records


def results_response(results: list[dict[str, Any]]) -> HttpResponse:
    """`{"results": [...]}` as the endpoint's schema documents it, encoded directly: per-record
    results are plain values, and re-validating 1,000 of them against the schema on the way out
    cost as much as checking the records on the way in."""
    return HttpResponse(json.dumps({"results": results}, ensure_ascii=False),
                        content_type="application/json")
