"""What the device ingest services share: each record of a batch checked on its own."""

from __future__ import annotations

from typing import Any, TypeVar

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
