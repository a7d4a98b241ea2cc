"""Vehicle inspections from checkpoint devices: checked one by one, stored once per `client_id`,
the plate's issuing region derived, key-region vehicles flagged, the rules fired."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from louzhang.access.jurisdiction import jurisdiction_for
from louzhang.access.roles import RECORDING_AT_CHECKPOINTS, may_keep_key_regions
from louzhang.areas.models import Area, Level
from louzhang.checkpoints.models import Checkpoint, KeyRegion, Occupant, VehicleInspection
from louzhang.core.ingest import validate_each
from louzhang.core.memo import remembered
from louzhang.core.transactions import atomic_with_retry
from louzhang.followups.rules import rules_fire
from louzhang.identifiers import IdentifierError
from louzhang.identifiers.divisions import place_names_under
from louzhang.identifiers.id_numbers import parse_id_number
from louzhang.identifiers.phones import normalise_phone
from louzhang.identifiers.plates import Plate, parse_plate
from louzhang.registry.models import Vehicle

MAX_BATCH = 1000


class OccupantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(default="", max_length=50)
    phone: str = ""
    id_number: str = ""
    temperature: Decimal = Field(ge=Decimal("34.0"), le=Decimal("43.0"), max_digits=3, decimal_places=1)


class DestinationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    compound: str = Field(min_length=1, max_length=64)


class VehicleCheckIn(BaseModel):
    """One inspection as a device sends it (API.md, `POST /api/v1/vehicle-checks`)."""

    model_config = ConfigDict(extra="forbid")
    client_id: str = Field(min_length=1, max_length=64)
    checkpoint: str = Field(min_length=1, max_length=32)
    #: ISO 8601 with an offset ("2020-01-28T08:15:00+08:00"); a time without one is refused
    at: AwareDatetime
    plate: str = Field(min_length=1, max_length=20)
    vehicle_type: str = Field(default="", max_length=30)
    origin: str = Field(default="", max_length=100)
    destination: DestinationIn | None = None
    occupants: list[OccupantIn] = Field(default_factory=list, max_length=60)
    disposition: Literal["pass", "refused", "referred"]



@dataclass
class InspectionResult:
    index: int
    status: Literal["created", "duplicate", "rejected"]
    id: int | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    plate_region: dict[str, str] | None = None
    key_region: bool = False
    registered_vehicle: bool = False
    followups: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


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
    parsed, invalid = validate_each(VehicleCheckIn, records)
    results = {index: InspectionResult(index, "rejected", errors=errors) for index, errors in invalid.items()}
    checkpoints = {c.code: c for c in Checkpoint.objects.select_related("area")
                   .filter(code__in={p.checkpoint for _i, p in parsed})}
    compounds = {a.code: a for a in Area.objects.filter(
        level=Level.COMPOUND, code__in={p.destination.compound for _i, p in parsed if p.destination})}
    allowed = jurisdiction_for(user, roles=RECORDING_AT_CHECKPOINTS)
    known = dict(VehicleInspection.objects.filter(
        recorded_by=user, client_id__in={p.client_id for _i, p in parsed}).values_list("client_id", "id"))
    seen: set[str] = set()
    valid = []
    for index, data in parsed:
        if data.client_id in known or data.client_id in seen:
            results[index] = InspectionResult(index, "duplicate", id=known.get(data.client_id))
            continue
        errors: list[dict[str, Any]] = []
        checkpoint = checkpoints.get(data.checkpoint)
        if checkpoint is None or not allowed.covers(checkpoint.area.path):
            errors.append({"loc": ["checkpoint"], "msg": _("unknown checkpoint %(code)s") % {"code": data.checkpoint}})
        plate = None
        try:
            plate = parse_plate(data.plate)
        except IdentifierError as exc:
            errors.append({"loc": ["plate"], "msg": str(exc)})
        destination = None
        if data.destination is not None:
            destination = compounds.get(data.destination.compound)
            if destination is None:
                errors.append({"loc": ["destination", "compound"],
                               "msg": _("unknown compound %(code)s") % {"code": data.destination.compound}})
        occupants = []
        for n, occupant in enumerate(data.occupants):
            try:
                phone = normalise_phone(occupant.phone) if occupant.phone.strip() else ""
                id_number = parse_id_number(occupant.id_number).number if occupant.id_number.strip() else ""
            except IdentifierError as exc:
                errors.append({"loc": ["occupants", n], "msg": str(exc)})
                continue
            occupants.append((occupant, phone, id_number))
        if data.at > timezone.now() + timedelta(minutes=10):
            errors.append({"loc": ["at"], "msg": _("time is in the future: check the device clock")})
        if errors:
            results[index] = InspectionResult(index, "rejected", errors=errors)
            continue
        assert checkpoint is not None and plate is not None
        seen.add(data.client_id)
        valid.append((index, data, checkpoint, plate, destination, occupants))
    if valid:
        # in plate order: two batches naming the same cars lock them in the same order
        ordered = sorted(valid, key=lambda v: (v[3].plate, v[0]))
        # what every record of the batch is compared with, read once
        regions = list(KeyRegion.objects.all())
        vehicles = {v.plate: v for v in Vehicle.objects.filter(plate__in={v[3].plate for v in valid})}

        def store_all() -> dict[int, InspectionResult]:
            return {index: _store(user, index, data, checkpoint, plate, destination, occupants,
                                  regions, vehicles.get(plate.plate))
                    for index, data, checkpoint, plate, destination, occupants in ordered}

        with remembered():  # who answers for the destinations, read once for the batch
            results.update(atomic_with_retry(store_all))
    return [results[i] for i in range(len(records))]


def _store(user: Any, index: int, data: VehicleCheckIn, checkpoint: Checkpoint, plate: Plate,
           destination: Area | None, occupants: list[tuple[OccupantIn, str, str]],
           regions: list[KeyRegion], vehicle: Vehicle | None) -> InspectionResult:
    region = key_region_for(plate, data.origin, data.at, regions)
    inspection = VehicleInspection.objects.create(
        checkpoint=checkpoint, client_id=data.client_id, recorded_by=user, at=data.at,
        plate=plate.plate, plate_province=plate.province, plate_city=plate.city,
        vehicle_type=data.vehicle_type.strip(), origin=data.origin.strip(), destination=destination,
        disposition=data.disposition, key_region=region, vehicle=vehicle,
    )
    Occupant.objects.bulk_create([
        Occupant(inspection=inspection, name=o.name.strip(), phone=phone, id_number=id_number,
                 temperature=o.temperature) for o, phone, id_number in occupants
    ])
    if vehicle is not None and (vehicle.left_city_at is None or vehicle.left_city_at < data.at):
        # entering the city: the car was outside it until now
        Vehicle.objects.filter(pk=vehicle.pk).update(left_city_at=data.at)
        vehicle.left_city_at = data.at  # the batch's next sighting of this car compares with it
    fired = rules_fire("vehicle_check.created", inspection)
    return InspectionResult(
        index, "created", id=inspection.pk, alerts=sorted({f.rule for f in fired}),
        plate_region={"province": plate.province, "city": plate.city}, key_region=region is not None,
        registered_vehicle=vehicle is not None,
        followups=sorted({f.followup.pk for f in fired if f.followup is not None}),
    )


class KeyRegionError(Exception):
    """A key region that cannot be saved as given; the message says why."""


def key_region_add(*, actor: Any, name: str, division_prefixes: list[str], plate_prefixes: list[str],
                   starts_on: Any, ends_on: Any = None, risk: str = KeyRegion.Risk.HIGH) -> KeyRegion:
    """A commander of a whole city adds a key region (重点地区); audited."""
    if not may_keep_key_regions(actor):
        raise PermissionDenied("key regions are kept by a city's command centre")
    from louzhang.audit.services import audit_record
    from louzhang.identifiers.plates import known_prefix

    name = name.strip()
    if not name:
        raise KeyRegionError(_("Give the region a name."))
    if not division_prefixes and not plate_prefixes:
        raise KeyRegionError(_("Give division code prefixes, plate prefixes or both."))
    bad = [p for p in division_prefixes if not (p.isdigit() and 2 <= len(p) <= 6)]
    if bad:
        raise KeyRegionError(_("Division code prefixes are 2 to 6 digits: %(bad)s") % {"bad": ", ".join(bad)})
    bad = [p for p in plate_prefixes if not known_prefix(p)]
    if bad:
        raise KeyRegionError(_("Not a plate prefix: %(bad)s") % {"bad": ", ".join(bad)})
    if ends_on is not None and ends_on < starts_on:
        raise KeyRegionError(_("The end is before the start."))
    if risk not in KeyRegion.Risk.values:
        raise KeyRegionError(_("Unknown risk level."))
    with transaction.atomic():
        region = KeyRegion.objects.create(name=name[:50], division_prefixes=division_prefixes,
                                          plate_prefixes=plate_prefixes, starts_on=starts_on,
                                          ends_on=ends_on, risk=risk)
        audit_record(actor=actor, action="create", object_type="checkpoints.keyregion",
                     object_id=region.pk, summary=f"key region {region.name} from {starts_on}")
    return region


def key_region_end(*, actor: Any, region: KeyRegion, on: Any) -> None:
    if not may_keep_key_regions(actor):
        raise PermissionDenied("key regions are kept by a city's command centre")
    from louzhang.audit.services import audit_record

    with transaction.atomic():
        KeyRegion.objects.filter(pk=region.pk).update(ends_on=on)
        audit_record(actor=actor, action="change", object_type="checkpoints.keyregion",
                     object_id=region.pk, summary=f"key region {region.name} ends {on}")
