"""Reads for the gate pages, from the user's jurisdiction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Max, Q, QuerySet
from django.http import Http404

from louzhang.access.jurisdiction import jurisdiction_for, scope
from louzhang.access.roles import RECORDING_AT_GATES, VIEWING_GATES, may_record_at_gate
from louzhang.areas.models import Area, Level
from louzhang.core.clock import today_start
from louzhang.core.thresholds import fever_threshold
from louzhang.gates.models import Gate, GateRecord, HouseholdPass


def gates_for(user: Any, roles: Sequence[str] = RECORDING_AT_GATES) -> QuerySet[Gate]:
    """The gates of the compounds the user holds whole through `roles`."""
    return scope(Gate.objects.select_related("compound"), user, roles=roles)


def access_gate(user: Any, code: str) -> tuple[Gate, bool]:
    """The gate, and whether the user may record at it (they hold its whole compound as gate
    staff, warden or commander). Holding part of the compound — a building — is enough to see
    its events. "Not found" for anyone else."""
    gate = Gate.objects.select_related("compound").filter(code=code).first()
    if gate is None:
        raise Http404("no such gate")
    path = gate.compound.path
    if may_record_at_gate(user, path):
        return gate, True
    if jurisdiction_for(user, roles=VIEWING_GATES).navigable(path):
        return gate, False
    raise Http404("no such gate")


@dataclass(frozen=True)
class GateDay:
    records: int = 0
    fevers: int = 0
    visitors: int = 0
    last_at: datetime | None = None

    @property
    def silent(self) -> bool:
        """Nobody recorded anything here today: is the gate staffed, is the device working?"""
        return self.records == 0


def gate_today(gate: Gate) -> tuple[GateDay, list[GateRecord]]:
    """Today's counts at a gate (local day) and its latest records."""
    latest = list(GateRecord.objects.filter(gate=gate, at__gte=today_start())
                  .select_related("household__parent__parent").order_by("-at", "-id")[:20])
    return _gate_days([gate.pk])[gate.pk], latest


def _gate_days(ids: list[int]) -> dict[int, GateDay]:
    """Today's counts at each of these gates, in one grouped query."""
    counts = {row.pop("gate_id"): GateDay(**row) for row in GateRecord.objects.filter(
        gate__in=ids, at__gte=today_start(),
    ).values("gate_id").annotate(
        records=Count("id"), fevers=Count("id", filter=Q(temperature__gte=fever_threshold())),
        visitors=Count("id", filter=Q(household__isnull=True)), last_at=Max("at"),
    )}
    return {pk: counts.get(pk, GateDay()) for pk in ids}


@dataclass(frozen=True)
class PassCard:
    compound: str
    household: str
    code: str
    qr_svg: str


def pass_qr(code: str) -> Any:
    """The QR code printed on a pass: always a full QR code — for a short text segno would
    otherwise choose a Micro QR code, which phones' scanners (WeChat's, jsQR on the gate page)
    do not read — with the 4-module quiet zone around it."""
    import segno

    return segno.make_qr(code, error="m")


def building_passes(building: Area) -> list[PassCard]:
    """The valid pass of every household of a building, each with its QR code as inline SVG."""
    passes = (HouseholdPass.objects.filter(household__path__subtree=building.path, revoked_at__isnull=True)
              .select_related("household__parent").order_by("household__path"))
    compound = building.parent.name if building.parent else ""
    return [
        PassCard(compound=compound, household=f"{building.name}{p.household.parent.name if p.household.parent else ''}{p.household.name}",
                 code=p.code, qr_svg=pass_qr(p.code).svg_inline(scale=4, border=4))
        for p in passes
    ]


def fevers_today(user: Any) -> list[GateRecord]:
    """Today's gate records at or above the fever threshold at the gates of the compounds the
    user holds in whole or in part (a building's warden sees their compound's gates)."""
    jurisdiction = jurisdiction_for(user, roles=VIEWING_GATES)
    if jurisdiction.is_empty:
        return []
    records = GateRecord.objects.filter(jurisdiction.q_in_reach("gate__compound__path", Level.COMPOUND),
                                        at__gte=today_start(), temperature__gte=fever_threshold())
    return list(records.select_related("gate__compound", "household__parent__parent").order_by("-at")[:200])


#: more gates than this in view: the overview asks to narrow it to an area first
OVERVIEW_LIMIT = 300


@dataclass(frozen=True)
class GateRow:
    gate: Gate
    day: GateDay


def gates_overview(user: Any, within: Area | None = None) -> tuple[list[GateRow], int]:
    """Today at every gate the user sees (of `within` only, if given): counts, fevers and the
    last record, gates with fevers first, then silent gates, then the rest in place order.
    Returns the rows and how many gates there are; no rows when there are more than
    `OVERVIEW_LIMIT` (the caller asks to narrow to an area)."""
    jurisdiction = jurisdiction_for(user, roles=VIEWING_GATES)
    gates = Gate.objects.filter(jurisdiction.q_in_reach("compound__path", Level.COMPOUND))
    if within is not None:
        gates = gates.filter(compound__path__subtree=within.path)
    total = gates.count()
    if total > OVERVIEW_LIMIT or total == 0:
        return [], total
    found = list(gates.select_related("compound"))
    days = _gate_days([g.pk for g in found])
    rows = [GateRow(gate, days[gate.pk]) for gate in found]
    rows.sort(key=lambda r: (-r.day.fevers, not r.day.silent, r.gate.compound.path, r.gate.code))
    return rows, total
