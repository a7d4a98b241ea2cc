"""Reads for the gate pages, from the user's jurisdiction."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from louzhang.areas.jurisdiction import scope
from louzhang.gates.models import Gate, GateRecord
from louzhang.gates.services import RECORDING_ROLES


def gates_for(user: Any) -> QuerySet[Gate]:
    return scope(Gate.objects.select_related("compound"), user, roles=RECORDING_ROLES)


def access_gate(user: Any, code: str) -> Gate:
    try:
        return gates_for(user).get(code=code)
    except Gate.DoesNotExist:
        raise Http404("no such gate") from None


@dataclass(frozen=True)
class GateDay:
    records: int
    fevers: int
    visitors: int


def gate_today(gate: Gate) -> tuple[GateDay, list[GateRecord]]:
    """Today's counts at a gate (local day) and its latest records."""
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    today = GateRecord.objects.filter(gate=gate, at__gte=start)
    threshold = Decimal(str(settings.LOUZHANG_FEVER_THRESHOLD))
    counts = today.aggregate(records=Count("id"), fevers=Count("id", filter=Q(temperature__gte=threshold)),
                             visitors=Count("id", filter=Q(household__isnull=True)))
    latest = list(today.select_related("household__parent__parent").order_by("-at", "-id")[:20])
    return GateDay(**counts), latest
