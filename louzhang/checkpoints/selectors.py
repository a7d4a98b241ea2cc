"""Reads for the checkpoint pages, from the user's jurisdiction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Length
from django.http import Http404
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from louzhang.access.jurisdiction import jurisdiction_for, scope
from louzhang.access.roles import RECORDING_AT_CHECKPOINTS
from louzhang.areas.models import Area, Level
from louzhang.checkpoints.models import Checkpoint, VehicleInspection
from louzhang.core.clock import today_start
from louzhang.core.paths import AreaPath
from louzhang.core.thresholds import fever_threshold
from louzhang.identifiers.plates import Plate, parse_plate
from louzhang.registry.models import Resident, Vehicle
from louzhang.registry.selectors import VehicleView, access_vehicle, vehicle_registered_for


def checkpoints_for(user: Any) -> QuerySet[Checkpoint]:
    return scope(Checkpoint.objects.select_related("area"), user, roles=RECORDING_AT_CHECKPOINTS)


def access_checkpoint(user: Any, code: str) -> Checkpoint:
    try:
        return checkpoints_for(user).get(code=code)
    except Checkpoint.DoesNotExist:
        raise Http404("no such checkpoint") from None


@dataclass(frozen=True)
class CheckpointDay:
    vehicles: int
    key_region: int
    refused: int
    fevers: int


def checkpoint_today(checkpoint: Checkpoint) -> tuple[CheckpointDay, list[VehicleInspection]]:
    """Today's counts at a checkpoint (local day) and its latest inspections."""
    latest = list(VehicleInspection.objects.filter(checkpoint=checkpoint, at__gte=today_start())
                  .select_related("key_region", "destination").order_by("-at", "-id")[:20])
    return _checkpoint_days([checkpoint.pk])[checkpoint.pk], latest


def _checkpoint_days(ids: list[int]) -> dict[int, CheckpointDay]:
    """Today's counts at each of these checkpoints, in two grouped queries (occupants counted
    apart, so a car's passengers do not multiply its count)."""
    today = VehicleInspection.objects.filter(checkpoint__in=ids, at__gte=today_start())
    counts = {row["checkpoint_id"]: row for row in today.values("checkpoint_id").annotate(
        vehicles=Count("id"), key_region=Count("id", filter=Q(key_region__isnull=False)),
        refused=Count("id", filter=Q(disposition=VehicleInspection.Disposition.REFUSED)),
    )}
    fevers = dict(today.filter(occupants__temperature__gte=fever_threshold()).values("checkpoint_id")
                  .annotate(n=Count("occupants")).values_list("checkpoint_id", "n"))
    return {pk: CheckpointDay(vehicles=counts.get(pk, {}).get("vehicles", 0),
                              key_region=counts.get(pk, {}).get("key_region", 0),
                              refused=counts.get(pk, {}).get("refused", 0), fevers=fevers.get(pk, 0))
            for pk in ids}


def flagged_vehicles_today(user: Any) -> list[VehicleInspection]:
    """Today's key-region vehicles bound for a compound in the user's jurisdiction, or checked at
    one of its checkpoints."""

    jurisdiction = jurisdiction_for(user)
    found = (VehicleInspection.objects.filter(at__gte=today_start(), key_region__isnull=False)
             .filter(jurisdiction.q_in_reach("destination__path", Level.COMPOUND)
                     | jurisdiction.q("checkpoint__area__path"))
             .select_related("checkpoint", "destination", "key_region", "vehicle"))
    return list(found.order_by("-at")[:200])


@dataclass(frozen=True)
class CheckpointRow:
    checkpoint: Checkpoint
    day: CheckpointDay


def checkpoints_overview(user: Any) -> list[CheckpointRow]:
    """Today at every checkpoint the user holds: vehicles, key-region vehicles, turned back,
    fevers; the busiest with key-region vehicles first."""
    found = list(checkpoints_for(user))
    days = _checkpoint_days([c.pk for c in found])
    rows = [CheckpointRow(c, days[c.pk]) for c in found]
    rows.sort(key=lambda r: (-r.day.key_region, -r.day.fevers, r.checkpoint.code))
    return rows


@dataclass(frozen=True)
class Destinations:
    """The compounds a typed destination may mean (see `destinations_named`)."""

    found: list[Area]
    #: True: `found` has the code or the exact name typed; False: names containing it
    exact: bool


def destinations_named(text: str, *, limit: int = 5) -> Destinations:
    """The compounds of the whole tree a car may be bound for that `text` names: the compound
    with that code; else those called exactly so; else up to `limit` whose name contains it.
    A checkpoint at the city's edge sends cars anywhere inside, and its officers hold only the
    checkpoint's own area, so the search is not limited to their jurisdiction (devices name
    any compound by its code the same way)."""
    text = text.strip()
    compounds = Area.objects.filter(level=Level.COMPOUND)
    by_code = compounds.filter(code=text).first()
    if by_code is not None:
        return Destinations([by_code], exact=True)
    called = list(compounds.filter(name=text).order_by("path"))
    if called:
        return Destinations(called, exact=True)
    return Destinations(list(compounds.filter(name__contains=text).order_by("path")[:limit]), exact=False)


@dataclass(frozen=True)
class Suggestion:
    """A compound offered for a typed destination: `value` goes into the field — its name, or
    its code where another compound has the same name —, `label` says where it is."""

    value: str
    label: str


def destinations_suggested(checkpoint: Checkpoint, text: str, *, limit: int = 10) -> list[Suggestion]:
    """The compounds of the checkpoint's province whose name contains `text`, shortest names
    first (a compound's name is no personal data: any compound a car may be bound for is
    offered, as `destinations_named` takes any)."""
    text = text.strip()
    if not text:
        return []
    # the cities of the province: their division codes share its first two digits
    province = AreaPath(checkpoint.area.path).ancestor(Level.CITY).code[:2]
    in_province = Q(pk__in=[])
    for city in Area.objects.filter(level=Level.CITY, code__startswith=province).values_list("path", flat=True):
        in_province |= Q(path__subtree=city)
    found = list(Area.objects.filter(in_province, level=Level.COMPOUND, name__contains=text)
                 .order_by(Length("name"), "name", "path")[:limit])
    if not found:
        return []
    shared = set(Area.objects.filter(level=Level.COMPOUND, name__in={a.name for a in found})
                 .values("name").annotate(n=Count("id")).filter(n__gt=1).values_list("name", flat=True))
    above = {AreaPath(a.path).ancestor(level) for a in found for level in (Level.CITY, Level.DISTRICT)}
    names = dict(Area.objects.filter(path__in=above).values_list("path", "name"))

    def where(area: Area) -> str:
        at = AreaPath(area.path)
        return names.get(at.ancestor(Level.CITY), "") + names.get(at.ancestor(Level.DISTRICT), "")

    return [Suggestion(a.code if a.name in shared else a.name, f"{a.name} · {where(a)}") for a in found]


def key_region_name(inspection_id: int) -> str:
    """The name of the key region an inspection was flagged for ("" if none)."""
    name = (VehicleInspection.objects.filter(pk=inspection_id)
            .values_list("key_region__name", flat=True).first())
    return name or ""


# --- a car's record: the registry's answer and its checkpoint history -------------------------


@dataclass
class VehicleRecord:
    """What the user may know of a plate: the registration (when registered in or on the way to
    their jurisdiction), the checkpoint inspections they may see, and one sentence saying it."""

    plate: Plate
    #: the registration, owner masked as the role requires; None when not registered (or not visible)
    view: VehicleView | None
    #: newest first, visible to the user: all of a visible registered car's, else those at a
    #: checkpoint of the jurisdiction or bound for a compound in it
    inspections: list[VehicleInspection]
    last_seen: VehicleInspection | None
    #: one truthful sentence (no personal data): whose car, and what the checkpoints recorded
    summary: str


def vehicle_inspections_for(user: Any, plate: Plate, *, registered: bool) -> QuerySet[VehicleInspection]:
    """The inspections of `plate` the user may see: every one of a registered car they may open
    (`registered`, see `registry.selectors.access_vehicle`), else those at a checkpoint of their
    jurisdiction or bound for a compound in it (or in reach of it, as on 今日动态)."""
    found = VehicleInspection.objects.filter(plate=plate.plate)
    if registered:
        return found
    jurisdiction = jurisdiction_for(user)
    return found.filter(jurisdiction.q("checkpoint__area__path")
                        | jurisdiction.q_in_reach("destination__path", Level.COMPOUND))


def vehicle_visible(user: Any, plate: Plate) -> bool:
    """Whether `vehicle_record` has anything to show the user (without reading the owner): a
    registration they may open, or an inspection they may see. At most three small queries."""
    return vehicle_registered_for(user, plate) or \
        vehicle_inspections_for(user, plate, registered=False).exists()


def vehicle_record(user: Any, raw_plate: str, *, limit: int = 50) -> VehicleRecord:
    """The registry's answer about a plate typed in any common spelling (鄂A·5K2B8, 鄂a 5k2b8)
    and its latest `limit` checkpoint inspections, as far as the user may see them. Raises
    `IdentifierError` for a malformed plate and `Http404` when the user may see neither a
    registration nor an inspection (missing and forbidden alike). Three to four queries: the
    car, the user's grants (once per request), the owner's full view audited, the inspections."""
    plate = parse_plate(raw_plate)
    try:
        view: VehicleView | None = access_vehicle(user, plate.plate)
    except Http404:
        view = None
    inspections = list(vehicle_inspections_for(user, plate, registered=view is not None)
                       .select_related("checkpoint", "destination", "key_region").order_by("-at", "-id")[:limit])
    if view is None and not inspections:
        raise Http404("no such vehicle in your jurisdiction")
    last_seen = inspections[0] if inspections else None
    return VehicleRecord(plate=plate, view=view, inspections=inspections, last_seen=last_seen,
                         summary=_vehicle_summary(view, last_seen))


def _vehicle_summary(view: VehicleView | None, last_seen: VehicleInspection | None) -> str:
    """One sentence saying only what the data shows: no inspection of a car is "no checkpoint
    recorded it leaving", never "it has not left"."""
    seen = _sighting(last_seen) if last_seen is not None else ""
    if view is None:
        return _("Not registered in your jurisdiction; latest checkpoint record: %(seen)s.") % {"seen": seen}
    vehicle = view.vehicle
    whose = _whose(vehicle)
    month = date_format(timezone.localtime(vehicle.registered_at), "YEAR_MONTH_FORMAT")
    left = _local_date(vehicle.left_city_at) if vehicle.left_city_at is not None else ""
    if left and seen:
        return _("%(whose)s; registered in %(month)s, last recorded outside the city on %(left)s; latest "
                 "checkpoint record: %(seen)s.") % {"whose": whose, "month": month, "left": left, "seen": seen}
    if left:
        return _("%(whose)s; registered in %(month)s, last recorded outside the city on %(left)s.") % {
            "whose": whose, "month": month, "left": left}
    if seen:  # inspected before it was registered, or before the registry kept the date
        return _("%(whose)s; registered in %(month)s; latest checkpoint record: %(seen)s.") % {
            "whose": whose, "month": month, "seen": seen}
    return _("%(whose)s; no checkpoint has recorded it out of the city since it was registered in "
             "%(month)s.") % {"whose": whose, "month": month}


def _whose(vehicle: Vehicle) -> str:
    """Whose car, without naming anybody: the compound it is registered in and what the owner is."""
    compound = vehicle.compound.name
    owner = vehicle.owner
    if owner is None:
        return _("Registered vehicle of %(compound)s; the owner is not a registered resident") % {
            "compound": compound}
    home = _compound_of(owner) or compound
    if owner.residency == Resident.Residency.TEMPORARY:
        text = _("Registered vehicle of %(compound)s; the owner is a temporary resident of %(home)s")
    elif owner.residency == Resident.Residency.TENANT:
        text = _("Registered vehicle of %(compound)s; the owner is a tenant in %(home)s")
    else:
        text = _("Registered vehicle of %(compound)s; the owner is a permanent resident of %(home)s")
    return text % {"compound": compound, "home": home}


def _compound_of(owner: Resident) -> str:
    """The name of the compound the owner lives in, from the ancestors read with the car."""
    area: Area | None = owner.household
    while area is not None and area.level > Level.COMPOUND:
        area = area.parent
    return area.name if area is not None and area.level == Level.COMPOUND else ""


def _sighting(inspection: VehicleInspection) -> str:
    """"2020-01-28 23:40 达拉特旗进城检查站, coming from 武汉市, bound for 保利百合, let through"."""
    when = timezone.localtime(inspection.at).strftime("%Y-%m-%d %H:%M")
    text = f"{when} {inspection.checkpoint.name}"
    if inspection.origin:
        text = _("%(a)s, %(b)s") % {"a": text, "b": _("coming from %(origin)s") % {"origin": inspection.origin}}
    if inspection.destination is not None:
        text = _("%(a)s, %(b)s") % {"a": text, "b": _("bound for %(compound)s") % {
            "compound": inspection.destination.name}}
    return _("%(a)s, %(b)s") % {"a": text, "b": inspection.get_disposition_display()}


def _local_date(moment: datetime) -> str:
    return date_format(timezone.localtime(moment), "DATE_FORMAT")
