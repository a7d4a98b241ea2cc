"""Vehicle inspections from checkpoint devices, through the device-batch pipeline
(`core.ingest`): checked one by one, stored once per `client_id` set-wise (the inspections in
one INSERT, their occupants in another, the registered cars' last sighting in one UPDATE), the
plate's issuing region derived, key-region vehicles flagged, the rules fired over
`VehicleCheckEvent`s."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import BaseModel, ConfigDict, Field

from louzhang.access.jurisdiction import jurisdiction_for
from louzhang.access.roles import RECORDING_AT_CHECKPOINTS
from louzhang.areas.models import Area, Level
from louzhang.checkpoints.key_regions import (  # noqa: F401  (key_region_add & co. kept here too)
    KeyRegionError,
    city_path,
    key_region_add,
    key_region_end,
    key_regions_for_cities,
)
from louzhang.checkpoints.models import Checkpoint, KeyRegion, Occupant, VehicleInspection
from louzhang.core.ingest import (
    DeviceBatch,
    DeviceRecordIn,
    DeviceTime,
    Errors,
    Result,
    Rules,
    Text,
    Words,
    error,
    future_error,
)
from louzhang.core.sql import db_datetime, insert_returning, update_later
from louzhang.core.thresholds import fever_threshold
from louzhang.followups.rules import Fired, rules_fire_many, rules_prepare
from louzhang.identifiers import IdentifierError
from louzhang.identifiers.divisions import place_names_under
from louzhang.identifiers.id_numbers import parse_id_number
from louzhang.identifiers.phones import normalise_phone
from louzhang.identifiers.plates import Plate, parse_plate
from louzhang.registry.models import Resident, Vehicle

MAX_BATCH = 1000


class OccupantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Words = Field(default="", max_length=50)
    phone: Text = Field(default="", max_length=30)
    id_number: Text = Field(default="", max_length=30)
    temperature: Decimal = Field(ge=Decimal("34.0"), le=Decimal("43.0"), max_digits=3, decimal_places=1)


class DestinationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    compound: Text = Field(min_length=1, max_length=64)


class VehicleCheckIn(DeviceRecordIn):
    """One inspection as a device sends it (API.md, `POST /api/v1/vehicle-checks`), after its
    `client_id`."""

    checkpoint: Text = Field(min_length=1, max_length=32)
    #: ISO 8601 with an offset ("2020-01-28T08:15:00+08:00"); a time without one is refused
    at: DeviceTime
    plate: Text = Field(min_length=1, max_length=20)
    vehicle_type: Words = Field(default="", max_length=30)
    origin: Words = Field(default="", max_length=100)
    destination: DestinationIn | None = None
    occupants: list[OccupantIn] = Field(default_factory=list, max_length=60)
    disposition: Literal["pass", "refused", "referred"]



@dataclass
class InspectionResult(Result):
    """A record's answer (`core.ingest.Result`) and, for an inspection stored now, the plate's
    issuing region, whether it is from a key region, whether the registry knows the car, and
    the follow-ups its rules opened or counted on."""

    plate_region: dict[str, str] | None = None
    key_region: bool = False
    registered_vehicle: bool = False
    followups: list[int] = field(default_factory=list)
    #: for the checkpoint page, what the rules did (`followups.rules.Fired`); not in the API's answer
    fired: list[Fired] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        answer = super().as_dict()
        del answer["fired"]
        return answer


def key_region_for(plate: Plate, origin: str, at: datetime, regions: list[KeyRegion]) -> KeyRegion | None:
    """The most specific of `regions` the plate or the stated origin belongs to, on that day."""
    day = timezone.localtime(at).date()
    best: tuple[int, KeyRegion] | None = None
    for region in regions:
        if region.starts_on > day or (region.ends_on is not None and region.ends_on < day):
            continue
        score = 0
        for prefix in region.plate_prefixes:
            if plate.plate.startswith(prefix):
                score = max(score, len(prefix) * 10)
        for prefix in region.division_prefixes:  # 孝感市 is in 湖北省 (42)
            if any(place in origin for place in place_names_under(prefix)):
                score = max(score, len(prefix))
        if score and (best is None or score > best[0]):
            best = (score, region)
    return best[1] if best else None


def vehicle_checks_ingest(*, user: Any, records: list[Any]) -> list[InspectionResult]:
    """Check, store and act on a batch of vehicle inspections from the device `user`."""
    return VehicleChecks(user).ingest(records)


@dataclass
class _Inspection:
    """An inspection that passed its checks; `prepare` adds what the batch reads at once."""

    index: int
    data: VehicleCheckIn
    checkpoint: Checkpoint
    plate: Plate
    destination: Area | None
    #: each occupant as sent, with the phone and ID number normalised
    occupants: list[tuple[OccupantIn, str, str]]
    key_region: KeyRegion | None = None
    vehicle: RegisteredVehicle | None = None
    #: the row for the INSERT, in `_COLUMNS` order
    row: tuple[Any, ...] = ()

    @property
    def client_id(self) -> str:
        return self.data.client_id


_COLUMNS = ["checkpoint_id", "client_id", "recorded_by_id", "at", "plate", "plate_province", "plate_city",
            "vehicle_type", "origin", "destination_id", "disposition", "key_region_id", "vehicle_id",
            "created_at"]
_OCCUPANT_COLUMNS = ["inspection_id", "name", "phone", "id_number", "temperature"]
_TENTHS = Decimal("0.1")


@dataclass(frozen=True)
class RegisteredVehicle:
    """A car the registry knows, as an inspection tells of it: whose compound, since when."""

    pk: int
    compound_name: str
    registered_at: datetime


@dataclass(frozen=True)
class OccupantSeen:
    """An occupant of an inspected car as stored (temperature to the tenth of a degree)."""

    name: str
    id_number: str
    temperature: Decimal


class _Residents:
    """The households of the registered residents the batch's feverish occupants are, by ID
    number, read in one query the first time a rule asks (most batches have no fever and never
    ask)."""

    def __init__(self, id_numbers: set[str]) -> None:
        self._wanted = id_numbers
        self._read: set[str] = set()
        self._households: dict[str, Area] = {}

    def household(self, id_number: str) -> Area | None:
        if id_number not in self._read:
            wanted = (self._wanted | {id_number}) - self._read
            self._households.update((r.id_number, r.household) for r in Resident.objects
                                    .select_related("household").filter(id_number__in=wanted))
            self._read |= wanted
        return self._households.get(id_number)


@dataclass(frozen=True)
class VehicleCheckEvent:
    """A stored vehicle inspection as the rules see it: plain values and what the batch already
    looked up (the key region, the registered car, the residents among the occupants), so a
    batch of 1,000 asks the database once, not 1,000 times."""

    record_id: int
    plate: str
    at: datetime
    disposition: str
    checkpoint_name: str
    checkpoint_area: Area
    destination: Area | None
    #: the key region's name (武汉市), None for a car from elsewhere
    key_region: str | None
    #: where the car said it came from, as typed (湖北省孝感市)
    origin: str
    vehicle: RegisteredVehicle | None
    occupants: tuple[OccupantSeen, ...]
    residents: _Residents = field(repr=False, compare=False)

    def household_of(self, id_number: str) -> Area | None:
        """The household of the registered resident with this ID number, if there is one."""
        return self.residents.household(id_number) if id_number else None


class VehicleChecks(DeviceBatch[VehicleCheckIn, _Inspection, VehicleCheckEvent, InspectionResult]):
    """A batch of vehicle inspections (`core.ingest.DeviceBatch`), stored set-based: no round
    trip per record, whatever the size of the batch."""

    schema = VehicleCheckIn
    model = VehicleInspection
    result = InspectionResult
    rules = Rules("vehicle_check.created", rules_prepare, rules_fire_many)

    checkpoints: dict[str, Checkpoint]
    compounds: dict[str, Area]
    recordable: dict[str, bool]

    def look_up(self, records: list[VehicleCheckIn]) -> None:
        self.checkpoints = {c.code: c for c in Checkpoint.objects.select_related("area")
                            .filter(code__in={r.checkpoint for r in records})}
        self.compounds = {a.code: a for a in Area.objects.filter(
            level=Level.COMPOUND, code__in={r.destination.compound for r in records if r.destination})}
        allowed = jurisdiction_for(self.user, roles=RECORDING_AT_CHECKPOINTS)
        self.recordable = {code: allowed.covers(c.area.path) for code, c in self.checkpoints.items()}

    def check(self, index: int, record: VehicleCheckIn) -> _Inspection | Errors:
        errors: Errors = []
        checkpoint = self.checkpoints.get(record.checkpoint)
        if checkpoint is None or not self.recordable[record.checkpoint]:
            errors.append(error(["checkpoint"], _("unknown checkpoint %(code)s") % {"code": record.checkpoint}))
        plate = None
        try:
            plate = parse_plate(record.plate)
        except IdentifierError as exc:
            errors.append(error(["plate"], str(exc)))
        destination = None
        if record.destination is not None:
            destination = self.compounds.get(record.destination.compound)
            if destination is None:
                errors.append(error(["destination", "compound"],
                                    _("unknown compound %(code)s") % {"code": record.destination.compound}))
        occupants = []
        for n, occupant in enumerate(record.occupants):
            try:
                phone = normalise_phone(occupant.phone) if occupant.phone.strip() else ""
                id_number = parse_id_number(occupant.id_number).number if occupant.id_number.strip() else ""
            except IdentifierError as exc:
                errors.append(error(["occupants", n], str(exc)))
                continue
            occupants.append((occupant, phone, id_number))
        if self.too_late(record.at):
            errors.append(future_error())
        if errors:
            return errors
        assert checkpoint is not None and plate is not None
        return _Inspection(index, record, checkpoint, plate, destination, occupants)

    def prepare(self, valid: list[_Inspection]) -> list[tuple[_Inspection, VehicleCheckEvent]]:
        # what every record of the batch is compared with, read once
        # the operator's list and each checkpoint's own city's (`checkpoints.key_regions`)
        cities = {v.checkpoint.pk: city_path(v.checkpoint.area.path) for v in valid}
        regions_of: dict[str, list[KeyRegion]] = {path: [] for path in cities.values()}
        for region in key_regions_for_cities(cities.values()).select_related("city"):
            for path, regions in regions_of.items():
                if region.city is None or region.city.path == path:
                    regions.append(region)
        vehicles = {plate: RegisteredVehicle(pk, compound_name, registered_at)
                    for pk, plate, compound_name, registered_at in Vehicle.objects.filter(
                        plate__in={v.plate.plate for v in valid},
                    ).values_list("pk", "plate", "compound__name", "registered_at")}
        threshold = fever_threshold()
        residents = _Residents({id_number for v in valid for occupant, _phone, id_number in v.occupants
                                if id_number and occupant.temperature >= threshold})
        created_at = db_datetime(timezone.now())
        events = []
        # in plate order: two batches naming the same cars lock them in the same order
        for item in sorted(valid, key=lambda v: (v.plate.plate, v.index)):
            data, plate = item.data, item.plate
            item.key_region = key_region_for(plate, data.origin, data.at,
                                             regions_of[cities[item.checkpoint.pk]])
            item.vehicle = vehicles.get(plate.plate)
            item.row = (
                item.checkpoint.pk, data.client_id, self.user.pk, db_datetime(data.at), plate.plate,
                plate.province, plate.city, data.vehicle_type.strip(), data.origin.strip(),
                item.destination.pk if item.destination else None, data.disposition,
                item.key_region.pk if item.key_region else None,
                item.vehicle.pk if item.vehicle else None, created_at,
            )
            events.append((item, VehicleCheckEvent(
                record_id=0, plate=plate.plate, at=data.at, disposition=data.disposition,
                checkpoint_name=item.checkpoint.name, checkpoint_area=item.checkpoint.area,
                destination=item.destination,
                key_region=item.key_region.name if item.key_region else None,
                origin=data.origin.strip(), vehicle=item.vehicle,
                occupants=tuple(OccupantSeen(o.name.strip(), id_number, o.temperature.quantize(_TENTHS))
                                for o, _phone, id_number in item.occupants),
                residents=residents,
            )))
        return events

    def store(self, valid: list[_Inspection]) -> dict[str, int]:
        ids = dict(insert_returning(VehicleInspection, _COLUMNS, [v.row for v in valid], ["client_id", "id"]))
        stored = [v for v in valid if v.client_id in ids]
        insert_returning(Occupant, _OCCUPANT_COLUMNS, [
            (ids[v.client_id], o.name.strip(), phone, id_number, str(o.temperature.quantize(_TENTHS)))
            for v in stored for o, phone, id_number in v.occupants
        ], ["id"])
        # entering the city: a registered car was outside it until now; its latest sighting wins
        latest: dict[int, datetime] = {}
        for v in stored:
            if v.vehicle is not None and (v.vehicle.pk not in latest or latest[v.vehicle.pk] < v.data.at):
                latest[v.vehicle.pk] = v.data.at
        update_later(Vehicle, "left_city_at", latest)
        return ids

    def created(self, item: _Inspection, record_id: int, fired: Sequence[Any]) -> InspectionResult:
        result = super().created(item, record_id, fired)
        result.plate_region = {"province": item.plate.province, "city": item.plate.city}
        result.key_region = item.key_region is not None
        result.registered_vehicle = item.vehicle is not None
        result.followups = sorted({f.followup.pk for f in fired if f.followup is not None})
        result.fired = list(fired)
        return result
