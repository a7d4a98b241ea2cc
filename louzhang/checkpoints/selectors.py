"""Reads for the checkpoint pages, from the user's jurisdiction."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from louzhang.areas.jurisdiction import scope
from louzhang.areas.models import Level
from louzhang.checkpoints.models import Checkpoint, VehicleInspection
from louzhang.checkpoints.services import RECORDING_ROLES


def checkpoints_for(user: Any) -> QuerySet[Checkpoint]:
    return scope(Checkpoint.objects.select_related("area"), user, roles=RECORDING_ROLES)


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
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    today = VehicleInspection.objects.filter(checkpoint=checkpoint, at__gte=start)
    threshold = Decimal(str(settings.LOUZHANG_FEVER_THRESHOLD))
    counts = today.aggregate(
        vehicles=Count("id", distinct=True),
        key_region=Count("id", filter=Q(key_region__isnull=False), distinct=True),
        refused=Count("id", filter=Q(disposition=VehicleInspection.Disposition.REFUSED), distinct=True),
        fevers=Count("occupants", filter=Q(occupants__temperature__gte=threshold)),
    )
    latest = list(today.select_related("key_region", "destination").order_by("-at", "-id")[:20])
    return CheckpointDay(**counts), latest


def flagged_vehicles_today(user: Any) -> list[VehicleInspection]:
    """Today's key-region vehicles bound for a compound in the user's jurisdiction, or checked at
    one of its checkpoints."""
    from louzhang.areas.jurisdiction import jurisdiction_for

    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    jurisdiction = jurisdiction_for(user)
    found = (VehicleInspection.objects.filter(at__gte=start, key_region__isnull=False)
             .filter(jurisdiction.q_in_reach("destination__path", Level.COMPOUND)
                     | jurisdiction.q("checkpoint__area__path"))
             .select_related("checkpoint", "destination", "key_region", "vehicle"))
    return list(found.order_by("-at")[:200])
