"""Batches of records from devices: the form they are posted in, and the one pipeline every kind
of device record goes through (gate checks, vehicle checks; visits, check-ins … next).

`DeviceBatch.ingest` runs a batch through the same five steps whatever the records are:

1. **parse** each record against the domain's schema (`validate_each`);
2. **de-duplicate** by `client_id`: a record this device user stored before, or a repeat inside
   the batch, is answered `duplicate` with the stored (or the first) record's id;
3. **check** each remaining record on its own (`check`, the domain's): the valid ones go on,
   the others are answered `rejected` with their errors — one bad record never costs the
   batch its good ones;
4. **prepare** (the domain's `prepare`), before any lock: each record's event for the rules,
   and what the rules will read read ahead (`Rules.prepare`);
5. **store** (the domain's `store`) and **fire** the rules (`Rules.fire`) in one transaction,
   run again if the database picked it to break a deadlock (`atomic_with_retry`).

Steps 4 and 5 run inside `remembered()`, so who answers for an area is read once per batch.
The domain hands its rules down as two callables (`Rules`): the rule engine lives on a floor
above this one.
"""

from __future__ import annotations

import json
import re
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Annotated, Any, Generic, Literal, Protocol, TypeVar

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja.errors import HttpError
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
)
from pydantic_core import PydanticCustomError

from louzhang.core.memo import remembered
from louzhang.core.text import plain_text
from louzhang.core.transactions import atomic_with_retry

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

M = TypeVar("M", bound=BaseModel)

# --- what a record's fields may hold ----------------------------------------------------------
#
# Shared by every input schema of the API (device records, tips): a value no device or person
# means — a control character, a time before the emergency or past the calendar's end, an epoch
# integer, a name of nothing but invisible characters — is an error of that field, so the record
# is rejected with its reason (and the rest of the batch kept) instead of failing the database.

#: characters no one types: controls (NUL, ESC, DEL, C1 …) and lone surrogates; tab and line
#: ends are text
_REFUSED = {"Cc", "Cs"}
_KEPT = "\t\n\r"
#: the largest id a database column holds (PostgreSQL bigint)
MAX_ID = 2**63 - 1
#: the furthest a list may be paged into: far past any list, far short of what overflows SQL
MAX_OFFSET = 2**31 - 1


def control_character(value: str) -> str | None:
    """The first control character of `value`, as U+XXXX, or None."""
    for char in value:
        if char not in _KEPT and unicodedata.category(char) in _REFUSED:
            return f"U+{ord(char):04X}"
    return None


def _no_controls(value: str) -> str:
    found = control_character(value)
    if found:
        raise PydanticCustomError("control_character", "contains a control character ({char})", {"char": found})
    return value


def _clean(value: str) -> str:
    """Invisible and blank characters at both ends dropped: a name of zero-width spaces is blank."""
    return plain_text(_no_controls(value))


def _not_blank(value: str) -> str:
    value = _clean(value)
    if not value:
        raise PydanticCustomError("blank", "is blank (or only invisible characters)")
    return value


#: text as sent, without control characters (codes, client ids)
Text = Annotated[str, AfterValidator(_no_controls)]
#: text a person wrote: without control characters, invisible characters at the ends dropped
Words = Annotated[str, AfterValidator(_clean)]
#: `Words` that must say something (a visitor's name, a reason)
RequiredWords = Annotated[str, AfterValidator(_not_blank)]
#: a row's id: a positive integer a database column can hold
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


def emergency_start() -> datetime:
    """The first moment of the emergency (`LOUZHANG_EMERGENCY_START`, local midnight)."""
    return timezone.make_aware(datetime.combine(settings.LOUZHANG_EMERGENCY_START_DATE, time()))


def _iso_only(value: Any) -> Any:
    """A time or date as ISO 8601 text (or a parsed one); epoch numbers are not times."""
    if isinstance(value, bool | int | float) or (isinstance(value, str) and _NUMBER.fullmatch(value)):
        raise PydanticCustomError("iso_8601", "expected ISO 8601 text (2020-01-28T08:15:00+08:00), not a number")
    return value


_NUMBER = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*")


def _in_the_emergency(value: datetime) -> datetime:
    try:
        utc = value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise PydanticCustomError("time_range", "time is outside the calendar") from None
    start = emergency_start()
    if utc < start:
        raise PydanticCustomError(
            "before_emergency", "time is before the emergency began ({start}): check the device clock",
            {"start": settings.LOUZHANG_EMERGENCY_START_DATE.isoformat()})
    return value


def _plausible_day(value: date) -> date:
    earliest = settings.LOUZHANG_EMERGENCY_START_DATE - timedelta(days=366)
    latest = timezone.localdate() + timedelta(days=366)
    if not earliest <= value <= latest:
        raise PydanticCustomError("date_range", "date is not between {earliest} and {latest}",
                                  {"earliest": earliest.isoformat(), "latest": latest.isoformat()})
    return value


#: when something happened, as a device saw it: ISO 8601 with an offset, not before the
#: emergency began (`LOUZHANG_EMERGENCY_START`), nor one past the calendar's end in UTC. The future is the domain's to refuse
#: (`DeviceBatch.too_late`), with its own words.
DeviceTime = Annotated[AwareDatetime, BeforeValidator(_iso_only), AfterValidator(_in_the_emergency)]
#: a day a person names (a return, a stay, an exposure): ISO 8601, within a year of the
#: emergency's start and of today
Day = Annotated[date, BeforeValidator(_iso_only), AfterValidator(_plausible_day)]


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
    except RequestDataTooBig:
        raise HttpError(413, f"the body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes") from None
    except RecursionError:
        raise HttpError(400, "the body is nested too deeply") from None
    except ValueError:  # not JSON, or not UTF-8
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


def batch_body(schema: type[BaseModel], limit: int) -> dict[str, Any]:
    """The request body of a batch endpoint for its OpenAPI document (`openapi_extra`): one
    record, or `{"records": [...]}` with at most `limit`. The records are read by `records_of`,
    not by the framework, so that a record not valid is answered `rejected` on its own: the body
    takes anything in `records`, the record's schema says what is stored."""
    name = schema.__name__
    record = schema.model_json_schema(ref_template="#/components/schemas/{model}")
    components = {name: record, **record.pop("$defs", {})}
    ref = {"$ref": f"#/components/schemas/{name}"}
    body = {
        "description": f'one record, or {{"records": [...]}} with at most {limit}; each answered on its own '
                       "(a record that is not valid: `rejected`, with its errors)",
        "anyOf": [
            ref,
            {"type": "object", "required": ["records"], "properties": {"records": {
                "type": "array", "maxItems": limit,
                "items": {"anyOf": [ref, {"description": "anything else: answered `rejected`"}]}}}},
            {"type": "object", "not": {"required": ["records"]},
             "description": "an object that is not a valid record: answered as one, `rejected`"},
        ],
    }
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
            "x-components": components}


def results_response(results: list[dict[str, Any]]) -> HttpResponse:
    """`{"results": [...]}` as the endpoint's schema documents it, encoded directly: per-record
    results are plain values, and re-validating 1,000 of them against the schema on the way out
    cost as much as checking the records on the way in."""
    return HttpResponse(json.dumps({"results": results}, ensure_ascii=False),
                        content_type="application/json")


# --- the pipeline ----------------------------------------------------------------------------

Status = Literal["created", "duplicate", "rejected"]
Errors = list[dict[str, Any]]


def error(loc: list[Any], msg: str) -> dict[str, Any]:
    """One of a record's errors, as API.md gives them: `{"loc": [...], "msg": ...}`."""
    return {"loc": loc, "msg": msg}


class DeviceRecordIn(BaseModel):
    """What every device record carries: its `client_id`, unique per device (API.md: a record
    sent again is answered `duplicate` and stored once)."""

    model_config = ConfigDict(extra="forbid")
    client_id: Text = Field(min_length=1, max_length=64)


@dataclass
class Result:
    """The answer to one record of a batch (API.md): its position, `created`, `duplicate` (with
    the stored record's id) or `rejected` (with errors), and the rules it fired. A domain that
    answers more (a vehicle check: the plate's region …) adds its fields in a subclass."""

    index: int
    status: Status
    id: int | None = None
    errors: Errors = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Checked(Protocol):
    """A record that passed its checks, with what checking found (its gate, its plate …)."""

    @property
    def index(self) -> int: ...

    @property
    def client_id(self) -> str: ...


In = TypeVar("In", bound=DeviceRecordIn)
V = TypeVar("V", bound=Checked)
#: an event for the rules: a frozen dataclass with a `record_id` (0 until the record is stored)
E = TypeVar("E", bound="DataclassInstance")
R = TypeVar("R", bound=Result)


@dataclass(frozen=True)
class Rules(Generic[E]):
    """The rules on one kind of event, as the domain hands them down: `prepare` reads ahead what
    acting on the events will read and says which of them fire anything (positions);
    `fire` acts on the events inside the transaction and says, for each, what fired (objects
    with the `rule` name, and `followup` where one was opened or counted on)."""

    event: str
    prepare: Callable[[str, Sequence[E]], set[int]]
    fire: Callable[[str, Sequence[E]], Sequence[Sequence[Any]]]


class DeviceBatch(ABC, Generic[In, V, E, R]):
    """One batch of records from the device user `user`, run through the pipeline (see the
    module's docstring). A domain says what its records are (`schema`, `model` — a table with
    `recorded_by` and `client_id`, unique together —, `result`, `rules`) and fills in the hooks
    `look_up`, `check`, `prepare` and `store` (and `created` when its results say more)."""

    schema: type[In]
    model: type[Model]
    result: type[R]
    rules: Rules[E]

    def __init__(self, user: Any) -> None:
        self.user = user
        #: a record later than this is refused: the device's clock is wrong
        self.latest = timezone.now() + timedelta(minutes=10)

    def ingest(self, records: list[Any]) -> list[R]:
        """Every record of the batch answered, in the order sent."""
        parsed, invalid = validate_each(self.schema, records)
        results: dict[int, R] = {index: self.result(index, "rejected", errors=errors)
                                 for index, errors in invalid.items()}
        stored = self._stored({record.client_id for _index, record in parsed})
        self.look_up([record for _index, record in parsed])
        valid: list[V] = []
        first: dict[str, int] = {}  # client_id -> index of its first valid record in the batch
        repeats: dict[int, int] = {}  # index of a repeat -> index of that first record
        for index, record in parsed:
            if record.client_id in stored:
                results[index] = self.result(index, "duplicate", id=stored[record.client_id])
            elif record.client_id in first:
                results[index] = self.result(index, "duplicate")
                repeats[index] = first[record.client_id]
            else:
                checked = self.check(index, record)
                if isinstance(checked, list):
                    results[index] = self.result(index, "rejected", errors=checked)
                else:
                    first[record.client_id] = index
                    valid.append(checked)
        if valid:
            with remembered():
                events = self.prepare(valid)
                # what acting on the rules will read (who answers, where, which channels) is read
                # now, before the transaction: SQLite has one writer, and it holds the lock for less
                firing = self.rules.prepare(self.rules.event, [event for _item, event in events])
                # in client_id order: two resends of one device's batch insert the same keys in
                # the same order, and neither waits for a key the other holds while holding one
                # it waits for
                in_order = sorted(valid, key=lambda item: item.client_id)
                ids, theirs, fired = atomic_with_retry(lambda: self._store(in_order, events, firing))
            # the answers are written after the commit: the transaction holds the lock for less
            for item in valid:
                if item.client_id not in ids:
                    # a resend of the same records racing this batch stored it first: it is theirs
                    results[item.index] = self.result(item.index, "duplicate", id=theirs.get(item.client_id))
            for position, (item, _event) in enumerate(events):
                if item.client_id in ids:
                    results[item.index] = self.created(item, ids[item.client_id], fired.get(position, ()))
        for repeat, first_index in repeats.items():
            results[repeat].id = results[first_index].id
        return [results[index] for index in range(len(records))]

    def _stored(self, client_ids: Sequence[str] | set[str]) -> dict[str, int]:
        """The ids of the records with these client_ids this device user has stored, by client_id."""
        if not client_ids:
            return {}
        return dict(self.model._default_manager.filter(
            recorded_by=self.user, client_id__in=client_ids).values_list("client_id", "id"))

    def _store(self, valid: list[V], events: list[tuple[V, E]], firing: set[int]
               ) -> tuple[dict[str, int], dict[str, int], dict[int, Sequence[Any]]]:
        """Inside the transaction: the records written (ids by client_id), those a racing resend
        wrote first (their ids), and what the rules did for each event that fired (by position)."""
        ids = self.store(valid)
        theirs = self._stored([item.client_id for item in valid if item.client_id not in ids]) \
            if len(ids) < len(valid) else {}
        # rules are plain functions of their event: only those that fired in `prepare` fire now
        positions = [p for p in sorted(firing) if events[p][0].client_id in ids]
        fired = dict(zip(positions, self.rules.fire(self.rules.event, [
            replace(events[p][1], record_id=ids[events[p][0].client_id]) for p in positions
        ]), strict=True))
        return ids, theirs, fired

    # --- the domain's hooks ---

    @abstractmethod
    def look_up(self, records: list[In]) -> None:
        """Read, once for the batch, what checking compares the records with (their gates,
        checkpoints, passes, the user's jurisdiction)."""

    @abstractmethod
    def check(self, index: int, record: In) -> V | Errors:
        """The record at `index`, checked: what it names, found; or its errors."""

    @abstractmethod
    def prepare(self, valid: list[V]) -> list[tuple[V, E]]:
        """Before the transaction, without locks: each valid record with its event (`record_id`
        0), in the order the rules are to see them — the order of their subjects, so that two
        batches over the same subjects take their locks in the same order (no deadlock)."""

    @abstractmethod
    def store(self, valid: list[V]) -> dict[str, int]:
        """Inside the transaction: write the records (and what belongs to them) and return the
        ids of those written, by client_id. A record a concurrent resend wrote first is left out
        (`ON CONFLICT DO NOTHING`): the pipeline answers it `duplicate`. May run more than once
        (`atomic_with_retry`): write only to the database."""

    def created(self, item: V, record_id: int, fired: Sequence[Any]) -> R:
        """The answer to a record stored now, with what its rules did."""
        return self.result(item.index, "created", id=record_id,
                           alerts=sorted({f.rule for f in fired}) if fired else [])

    # --- for the hooks ---

    def too_late(self, at: datetime) -> bool:
        """`at` is later than a device's clock can be off by (see `future_error`)."""
        return at > self.latest


def future_error() -> dict[str, Any]:
    """The error of a record timed in the future (`DeviceBatch.too_late`)."""
    return error(["at"], _("time is in the future: check the device clock"))
