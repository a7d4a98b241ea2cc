"""Reads for the checkpoint pages, from the user's jurisdiction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Length
from django.http import Http404

from louzhang.access.jurisdiction import jurisdiction_for, scope
from louzhang.access.roles import RECORDING_AT_CHECKPOINTS
from louzhang.areas.models import Area, Level
from louzhang.checkpoints.models import Checkpoint, VehicleInspection
from louzhang.core.clock import today_start
from louzhang.core.paths import AreaPath
from louzhang.core.thresholds import fever_threshold


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
