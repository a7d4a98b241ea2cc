"""Taking in gate records from devices through the device-batch pipeline (`core.ingest`): each
record checked on its own, the valid ones stored once (by the device's `client_id`) with the
rules fired in the same transaction, every record answered with its own status, errors and
alerts."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import BaseModel, ConfigDict, Field, field_validator

from louzhang.access.jurisdiction import jurisdiction_for
from louzhang.access.roles import RECORDING_AT_GATES, may_print_passes
from louzhang.areas.models import Area, Level
from louzhang.audit.services import audit_record
from louzhang.core.ingest import (
    DeviceBatch,
    DeviceRecordIn,
    DeviceTime,
    Errors,
    RequiredWords,
    Result,
    Rules,
    Text,
    Words,
    error,
    future_error,
)
from louzhang.core.paths import AreaPath
from louzhang.core.sql import db_datetime, insert_returning
from louzhang.followups.rules import Fired, rules_fire_many, rules_prepare
from louzhang.gates.models import Gate, GateRecord, HomeObservation, HouseholdPass
from louzhang.gates.selectors import PassCard, building_passes
from louzhang.identifiers import IdentifierError
from louzhang.identifiers.id_numbers import parse_id_number
from louzhang.identifiers.phones import normalise_phone

MAX_BATCH = 1000
CARD_CODE_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud at a gate


class Visitor(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: RequiredWords = Field(max_length=50)
    phone: Text = Field(default="", max_length=30)
    id_number: Text = Field(default="", max_length=30)
    reason: Words = Field(default="", max_length=100)
    visiting: Words = Field(default="", max_length=100)


class GateCheckIn(DeviceRecordIn):
    """One record as a device sends it (API.md, `POST /api/v1/gate-checks`), after its
    `client_id`."""

    gate: Text = Field(min_length=1, max_length=64)
    direction: Literal["in", "out"]
    #: ISO 8601 with an offset ("2020-01-28T08:15:00+08:00"); a time without one is refused
    at: DeviceTime
    temperature: Decimal = Field(ge=Decimal("34.0"), le=Decimal("43.0"), max_digits=3, decimal_places=1)
    method: Literal["forehead", "armpit", "wrist"] = "forehead"
    pass_code: Text | None = Field(default=None, max_length=16)
    visitor: Visitor | None = None

    @field_validator("pass_code")
    @classmethod
    def pass_code_as_printed(cls, value: str | None) -> str | None:
        """Codes are printed in capitals; a phone keyboard may type them small, with spaces."""
        return value.replace(" ", "").upper() if value else value



@dataclass
class _Valid:
    """A gate record that passed its checks, with its row for the INSERT (`_COLUMNS` order)."""

    index: int
    data: GateCheckIn
    gate: Gate
    household_id: int | None
    visitor_phone: str
    visitor_id_number: str
    row: tuple[Any, ...]

    @property
    def client_id(self) -> str:
        return self.data.client_id


def gate_checks_ingest(*, user: Any, records: list[Any]) -> list[GateCheckResult]:
    """Check, store and act on a batch of gate records from the device `user`."""
    return GateChecks(user).ingest(records)


_COLUMNS = ["gate_id", "client_id", "recorded_by_id", "direction", "at", "temperature", "method",
            "household_id", "visitor_name", "visitor_phone", "visitor_id_number", "visitor_reason",
            "visiting", "created_at"]

class _Households:
    """The households of a batch's records, read in one query the first time a rule asks about
    one (most batches fire nothing and never ask)."""

    #: in the model's field order, as `Model.from_db` takes them
    _FIELDS = tuple(f.attname for f in Area._meta.concrete_fields
                    if f.attname in {"id", "code", "name", "path", "level", "parent_id"})

    def __init__(self, ids: set[int]) -> None:
        self._ids = ids
        self._rows: dict[int, tuple[Any, ...]] | None = None
        self._areas: dict[int, Area] = {}

    def _row(self, pk: int) -> tuple[Any, ...]:
        if self._rows is None:
            self._rows = {row[0]: row for row in Area.objects.filter(pk__in=self._ids).values_list(
                *self._FIELDS, "parent__name", "parent__parent__name")}
        return self._rows[pk]

    def area(self, pk: int) -> Area:
        if pk not in self._areas:
            self._areas[pk] = Area.from_db("default", self._FIELDS, self._row(pk)[:len(self._FIELDS)])
        return self._areas[pk]

    def place(self, pk: int) -> str:
        """34号楼二单元6楼西户: building, unit, household."""
        row = self._row(pk)
        name = row[self._FIELDS.index("name")]
        return f"{row[-1] or ''}{row[-2] or ''}{name}"


@dataclass(frozen=True)
class GateCheckEvent:
    """A stored gate record as the rules see it, with what the batch already looked up about
    it (so a batch of 1,000 asks the database once, not 1,000 times)."""

    record_id: int
    gate: Gate
    direction: str
    at: datetime
    temperature: Decimal
    household_id: int | None
    visitor_name: str
    visitor_id_number: str
    #: the person's household is under home observation on the record's day
    under_observation: bool
    households: _Households = field(repr=False, compare=False)

    @property
    def household(self) -> Area | None:
        return None if self.household_id is None else self.households.area(self.household_id)

    @property
    def place(self) -> str:
        """Where the person lives, in words (34号楼二单元6楼西户); "" for a visitor."""
        return "" if self.household_id is None else self.households.place(self.household_id)


def _observed_households(valid: list[_Valid]) -> set[int]:
    """Indexes of the records whose household is under home observation on the record's day."""
    compounds = {v.gate.compound.path for v in valid if v.household_id is not None}
    if not compounds:
        return set()
    # the observations of the batch's compounds (a handful), not a lookup of every household
    in_compounds = Q()
    for path in compounds:
        in_compounds |= Q(household__path__subtree=path)
    spans: dict[int, list[tuple[date, date]]] = {}
    for household_id, starts_on, ends_on in HomeObservation.objects.filter(
        in_compounds, ended_at__isnull=True,
        ends_on__gte=min(v.data.at for v in valid).date() - timedelta(days=1),
    ).values_list("household_id", "starts_on", "ends_on"):
        spans.setdefault(household_id, []).append((starts_on, ends_on))
    observed = set()
    for item in valid:
        if item.household_id in spans:
            day = timezone.localtime(item.data.at).date()
            if any(s <= day <= e for s, e in spans[item.household_id]):
                observed.add(item.index)
    return observed


@dataclass
class GateCheckResult(Result):
    """A record's answer (`core.ingest.Result`) and, for the gate page, what its rules did
    (`followups.rules.Fired`: the follow-ups opened or counted on, who the alerts told); the
    API answers without it."""

    fired: list[Fired] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        answer = super().as_dict()
        del answer["fired"]
        return answer


class GateChecks(DeviceBatch[GateCheckIn, _Valid, GateCheckEvent, GateCheckResult]):
    """A batch of gate records (`core.ingest.DeviceBatch`): checked against the gates and
    passes the batch names, stored in one INSERT, the fever and home-observation rules fired
    over `GateCheckEvent`s."""

    schema = GateCheckIn
    model = GateRecord
    result = GateCheckResult
    rules = Rules("gate_check.created", rules_prepare, rules_fire_many)

    gates: dict[str, Gate]
    recordable: dict[str, bool]
    compound_paths: dict[str, AreaPath]
    passes: dict[str, tuple[int, str]]
    created_at: Any

    def look_up(self, records: list[GateCheckIn]) -> None:
        self.gates = {g.code: g for g in Gate.objects.select_related("compound")
                      .filter(code__in={r.gate for r in records})}
        allowed = jurisdiction_for(self.user, roles=RECORDING_AT_GATES)
        self.recordable = {code: allowed.covers(gate.compound.path) for code, gate in self.gates.items()}
        self.compound_paths = {code: AreaPath(gate.compound.path) for code, gate in self.gates.items()}
        # code -> (household id, household path): plain values, no model objects for a hot path
        self.passes = {code: (household_id, path) for code, household_id, path in HouseholdPass.objects.filter(
            code__in={r.pass_code for r in records if r.pass_code}, revoked_at__isnull=True,
        ).values_list("code", "household_id", "household__path")}
        self.created_at = db_datetime(timezone.now())

    def check(self, index: int, record: GateCheckIn) -> _Valid | Errors:
        errors = []
        gate = self.gates.get(record.gate)
        if gate is None or not self.recordable[record.gate]:
            # another compound's gate is "unknown" to this device, exactly like a missing one
            errors.append(error(["gate"], _("unknown gate %(code)s") % {"code": record.gate}))
        household_id = None
        if (record.pass_code is None) == (record.visitor is None):
            errors.append(error(["pass_code"], _("give either pass_code or visitor")))
        elif record.pass_code is not None:
            found = self.passes.get(record.pass_code)
            if found is None:
                errors.append(error(["pass_code"], _("unknown or revoked pass %(code)s") % {"code": record.pass_code}))
            elif gate is not None and not self.compound_paths[record.gate].contains(found[1]):
                errors.append(error(["pass_code"], _("pass of another compound: register as a visitor")))
            else:
                household_id = found[0]
        phone = id_number = ""
        visitor = record.visitor
        if visitor is not None:
            try:
                phone = normalise_phone(visitor.phone) if visitor.phone.strip() else ""
            except IdentifierError as exc:
                errors.append(error(["visitor", "phone"], str(exc)))
            try:
                id_number = parse_id_number(visitor.id_number).number if visitor.id_number.strip() else ""
            except IdentifierError as exc:
                errors.append(error(["visitor", "id_number"], str(exc)))
        if self.too_late(record.at):
            errors.append(future_error())
        if errors:
            return errors
        assert gate is not None
        row = (gate.pk, record.client_id, self.user.pk, record.direction, db_datetime(record.at),
               str(record.temperature), record.method, household_id,
               visitor.name.strip() if visitor else "", phone, id_number,
               visitor.reason.strip() if visitor else "", visitor.visiting.strip() if visitor else "",
               self.created_at)
        return _Valid(index, record, gate, household_id, phone, id_number, row)

    def prepare(self, valid: list[_Valid]) -> list[tuple[_Valid, GateCheckEvent]]:
        observed = _observed_households(valid)
        households = _Households({v.household_id for v in valid if v.household_id is not None})
        # rules in the order of their subjects, whatever the order the device sent: two batches
        # touching the same households then take their locks in the same order (no deadlock)
        ordered = sorted(valid, key=lambda v: (v.household_id or 0, v.visitor_id_number, v.index))
        return [(item, GateCheckEvent(
            record_id=0, gate=item.gate, direction=item.data.direction, at=item.data.at,
            temperature=item.data.temperature, household_id=item.household_id,
            visitor_name=item.data.visitor.name.strip() if item.data.visitor else "",
            visitor_id_number=item.visitor_id_number, under_observation=item.index in observed,
            households=households,
        )) for item in ordered]

    def store(self, valid: list[_Valid]) -> dict[str, int]:
        # one plain INSERT for the batch, returning the new ids (the ORM's bulk_create
        # spends more time building model objects and SQL than the database spends storing)
        return dict(insert_returning(GateRecord, _COLUMNS, [v.row for v in valid], ["client_id", "id"]))

    def created(self, item: _Valid, record_id: int, fired: Sequence[Fired]) -> GateCheckResult:
        result = super().created(item, record_id, fired)
        result.fired = list(fired)
        return result


def observation_start(*, household: Area, starts_on: date, days: int = 14, reason: str = "") -> HomeObservation:
    return household_mark(household=household, starts_on=starts_on,
                          ends_on=starts_on + timedelta(days=days - 1), reason=reason)


def household_mark(*, household: Area, starts_on: date, ends_on: date, reason: str = "") -> HomeObservation:
    """Mark a household for the gate rule: from `starts_on` to `ends_on` (inclusive) a member
    going out through a gate is a home-observation breach."""
    return HomeObservation.objects.create(household=household, starts_on=starts_on,
                                          ends_on=ends_on, reason=reason[:200])


def household_mark_move(*, mark_id: int, ends_on: date) -> None:
    """The observation behind the mark was extended (or shortened)."""
    HomeObservation.objects.filter(pk=mark_id).update(ends_on=ends_on)


def household_mark_end(*, mark_id: int) -> None:
    """The observation behind the mark ended: the household's members may go out again."""
    HomeObservation.objects.filter(pk=mark_id, ended_at__isnull=True).update(ended_at=timezone.now())


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


def pass_sheet_print(*, actor: Any, building: Area) -> list[PassCard]:
    """The pass cards (出入证) of every household of a building, to print; printing is audited.

    Only a warden or commander of the building may (`PermissionDenied` otherwise): a pass
    opens the compound's gate.
    """
    if not may_print_passes(actor, building.path):
        raise PermissionDenied("pass cards are printed by a warden or commander of the building")
    if building.level != Level.BUILDING:
        raise ValueError(f"pass cards are printed per building, not for {building.code}")
    cards = building_passes(building)
    audit_record(actor=actor, action="export", object_type="gates.householdpass",
                 area_path=building.path, summary=f"{len(cards)} pass cards printed")
    return list(cards)
