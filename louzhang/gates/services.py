"""Taking in gate records from devices: each record checked on its own, the valid ones stored
once (by the device's `client_id`) with the rules fired in the same transaction, every record
answered with its own status, errors and alerts."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Literal

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator

from louzhang.accounts.models import Role
from louzhang.areas.jurisdiction import jurisdiction_for
from louzhang.areas.models import Area
from louzhang.core.sql import insert
from louzhang.core.transactions import atomic_with_retry
from louzhang.followups.rules import rules_fire
from louzhang.gates.models import Gate, GateRecord, HomeObservation, HouseholdPass
from louzhang.identifiers import IdentifierError
from louzhang.identifiers.id_numbers import parse_id_number
from louzhang.identifiers.phones import normalise_phone

MAX_BATCH = 1000
#: roles whose tokens may post gate records for the compounds they hold
RECORDING_ROLES = (Role.GATE, Role.WARDEN, Role.COMMANDER)
CARD_CODE_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud at a gate


class Visitor(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=50)
    phone: str = ""
    id_number: str = ""
    reason: str = Field(default="", max_length=100)
    visiting: str = Field(default="", max_length=100)


class GateCheckIn(BaseModel):
    """One record as a device sends it (API.md, `POST /api/v1/gate-checks`)."""

    model_config = ConfigDict(extra="forbid")
    client_id: str = Field(min_length=1, max_length=64)
    gate: str = Field(min_length=1, max_length=64)
    direction: Literal["in", "out"]
    #: ISO 8601 with an offset ("2020-01-28T08:15:00+08:00"); a time without one is refused
    at: AwareDatetime
    temperature: Decimal = Field(ge=Decimal("34.0"), le=Decimal("43.0"), max_digits=3, decimal_places=1)
    method: Literal["forehead", "armpit", "wrist"] = "forehead"
    pass_code: str | None = Field(default=None, max_length=16)
    visitor: Visitor | None = None

    @field_validator("pass_code")
    @classmethod
    def pass_code_as_printed(cls, value: str | None) -> str | None:
        """Codes are printed in capitals; a phone keyboard may type them small, with spaces."""
        return value.replace(" ", "").upper() if value else value



@dataclass
class Result:
    index: int
    status: Literal["created", "duplicate", "rejected"]
    id: int | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "status": self.status, "id": self.id, "errors": self.errors,
                "alerts": self.alerts}


def _error(loc: list[Any], msg: str) -> dict[str, Any]:
    return {"loc": loc, "msg": msg}


@dataclass
class _Valid:
    index: int
    data: GateCheckIn
    gate: Gate
    household: Area | None
    visitor_phone: str
    visitor_id_number: str


def gate_checks_ingest(*, user: Any, records: list[Any]) -> list[Result]:
    """Check, store and act on a batch of gate records from the device `user`."""
    results: dict[int, Result] = {}
    parsed: list[tuple[int, GateCheckIn]] = []
    for index, raw in enumerate(records):
        try:
            parsed.append((index, GateCheckIn.model_validate(raw)))
        except ValidationError as exc:
            results[index] = Result(index, "rejected", errors=[
                _error(list(e["loc"]), e["msg"]) for e in exc.errors(include_url=False)])
    gates = {g.code: g for g in Gate.objects.select_related("compound")
             .filter(code__in={p.gate for _i, p in parsed})}
    passes = {p.code: p for p in HouseholdPass.objects.select_related("household")
              .filter(code__in={p.pass_code for _i, p in parsed if p.pass_code}, revoked_at__isnull=True)}
    allowed = jurisdiction_for(user, roles=RECORDING_ROLES)
    known = dict(GateRecord.objects.filter(
        recorded_by=user, client_id__in={p.client_id for _i, p in parsed}).values_list("client_id", "id"))
    valid: list[_Valid] = []
    seen: dict[str, int] = {}  # client_id -> index of its first valid record in this batch
    repeats: dict[int, int] = {}  # index of a repeat -> index of that first record
    for index, data in parsed:
        if data.client_id in known or data.client_id in seen:
            results[index] = Result(index, "duplicate", id=known.get(data.client_id))
            if data.client_id in seen:
                repeats[index] = seen[data.client_id]
            continue
        errors = []
        gate = gates.get(data.gate)
        if gate is None or not allowed.covers(gate.compound.path):
            # another compound's gate is "unknown" to this device, exactly like a missing one
            errors.append(_error(["gate"], _("unknown gate %(code)s") % {"code": data.gate}))
        household = None
        if (data.pass_code is None) == (data.visitor is None):
            errors.append(_error(["pass_code"], _("give either pass_code or visitor")))
        elif data.pass_code is not None:
            found = passes.get(data.pass_code)
            if found is None:
                errors.append(_error(["pass_code"], _("unknown or revoked pass %(code)s") % {"code": data.pass_code}))
            elif gate is not None and not found.household.path.startswith(gate.compound.path):
                errors.append(_error(["pass_code"], _("pass of another compound: register as a visitor")))
            else:
                household = found.household
        phone = id_number = ""
        if data.visitor is not None:
            try:
                phone = normalise_phone(data.visitor.phone) if data.visitor.phone.strip() else ""
            except IdentifierError as exc:
                errors.append(_error(["visitor", "phone"], str(exc)))
            try:
                id_number = parse_id_number(data.visitor.id_number).number if data.visitor.id_number.strip() else ""
            except IdentifierError as exc:
                errors.append(_error(["visitor", "id_number"], str(exc)))
        if data.at > timezone.now() + timedelta(minutes=10):
            errors.append(_error(["at"], _("time is in the future: check the device clock")))
        if errors:
            results[index] = Result(index, "rejected", errors=errors)
            continue
        assert gate is not None
        seen[data.client_id] = index
        valid.append(_Valid(index, data, gate, household, phone, id_number))
    if valid:
        results.update(atomic_with_retry(lambda: _store(user, valid)))
        for repeat, first in repeats.items():
            results[repeat].id = results[first].id
    return [results[i] for i in range(len(records))]


_COLUMNS = ["gate_id", "client_id", "recorded_by_id", "direction", "at", "temperature", "method",
            "household_id", "visitor_name", "visitor_phone", "visitor_id_number", "visitor_reason",
            "visiting", "created_at"]


def _store(user: Any, valid: list[_Valid]) -> dict[int, Result]:
    stored = [_record(user, item) for item in valid]
    # one plain INSERT statement for the batch (the ORM's bulk_create spends more time composing
    # SQL than the database spends storing), then the new ids in one query
    ops = connection.ops
    created = ops.adapt_datetimefield_value(timezone.now())
    insert(GateRecord, _COLUMNS, [
        (r.gate_id, r.client_id, r.recorded_by_id, r.direction, ops.adapt_datetimefield_value(r.at),
         ops.adapt_decimalfield_value(r.temperature, 3, 1), r.method, r.household_id, r.visitor_name,
         r.visitor_phone, r.visitor_id_number, r.visitor_reason, r.visiting, created)
        for r in stored
    ])
    ids = dict(GateRecord.objects.filter(recorded_by=user, client_id__in=[r.client_id for r in stored])
               .values_list("client_id", "id"))
    for record in stored:
        record.pk = ids[record.client_id]
    observed = _observed_households(stored)
    results = {}
    # rules in the order of their subjects, whatever the order the device sent: two batches
    # touching the same households then take their locks in the same order (no deadlock)
    pairs = sorted(zip(valid, stored, strict=True),
                   key=lambda p: (p[1].household_id or 0, p[1].visitor_id_number, p[0].index))
    for item, record in pairs:
        event = GateCheckEvent(record, under_observation=record.household_id in observed)
        fired = rules_fire("gate_check.created", event)
        results[item.index] = Result(item.index, "created", id=record.pk,
                                     alerts=sorted({f.rule for f in fired}))
    return results


@dataclass(frozen=True)
class GateCheckEvent:
    """What the rules get for a stored gate record: the record and what the batch already
    looked up about it (so a batch of 1,000 asks the database once, not 1,000 times)."""

    record: GateRecord
    #: the person's household is under home observation on the record's day
    under_observation: bool


def _record(user: Any, item: _Valid) -> GateRecord:
    data = item.data
    visitor = data.visitor
    return GateRecord(
        gate=item.gate, client_id=data.client_id, recorded_by=user, direction=data.direction,
        at=data.at, temperature=data.temperature, method=data.method, household=item.household,
        visitor_name=visitor.name.strip() if visitor else "", visitor_phone=item.visitor_phone,
        visitor_id_number=item.visitor_id_number,
        visitor_reason=visitor.reason.strip() if visitor else "",
        visiting=visitor.visiting.strip() if visitor else "",
    )


def _observed_households(records: list[GateRecord]) -> set[int]:
    """Households of these records under home observation on the records' days."""
    outgoing = [r for r in records if r.household_id is not None]
    if not outgoing:
        return set()
    days = [timezone.localtime(r.at).date() for r in outgoing]
    candidates = HomeObservation.objects.filter(
        household_id__in={r.household_id for r in outgoing}, starts_on__lte=max(days),
        ends_on__gte=min(days), ended_at__isnull=True,
    ).values_list("household_id", "starts_on", "ends_on")
    spans: dict[int, list[tuple[date, date]]] = {}
    for household_id, starts_on, ends_on in candidates:
        spans.setdefault(household_id, []).append((starts_on, ends_on))
    return {r.household_id for r, day in zip(outgoing, days, strict=True)
            if r.household_id is not None
            and any(s <= day <= e for s, e in spans.get(r.household_id, []))}


def observation_start(*, household: Area, starts_on: date, days: int = 14, reason: str = "") -> HomeObservation:
    return HomeObservation.objects.create(household=household, starts_on=starts_on,
                                          ends_on=starts_on + timedelta(days=days - 1), reason=reason)


def passes_issue(*, households: list[Area]) -> int:
    """A pass for every household that has none (idempotent); returns how many were issued."""
    have = set(HouseholdPass.objects.filter(household__in=households, revoked_at__isnull=True)
               .values_list("household_id", flat=True))
    new = []
    for household in households:
        if household.pk not in have:
            new.append(HouseholdPass(household=household, code="".join(
                secrets.choice(CARD_CODE_CHARS) for _ in range(8))))
    HouseholdPass.objects.bulk_create(new, batch_size=1000)
    return len(new)
