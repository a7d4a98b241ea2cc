"""The gate page: built for a phone in a gloved hand at a compound gate, one record per tap."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from louzhang.access.areas import access_area
from louzhang.access.masking import present
from louzhang.access.roles import may_print_passes
from louzhang.areas.models import Level
from louzhang.audit.services import audit_record
from louzhang.core.thresholds import fever_threshold
from louzhang.gates.models import Gate
from louzhang.gates.selectors import access_gate, building_passes, gate_today
from louzhang.gates.services import gate_checks_ingest


@login_required
def gate_page(request: HttpRequest, code: str) -> HttpResponse:
    gate, can_record = access_gate(request.user, code)
    if request.method == "POST":
        if not can_record:
            raise Http404("recording at this gate is for its own staff")
        return _record(request, gate.code)
    return render(request, "gates/gate.html", {**_live_context(request, gate), "can_record": can_record})


@login_required
def gate_live(request: HttpRequest, code: str) -> HttpResponse:
    """Today's counts and latest records at a gate, polled by its page every 15 seconds."""
    gate, _can_record = access_gate(request.user, code)
    return render(request, "gates/_live.html", _live_context(request, gate))


def _live_context(request: HttpRequest, gate: Gate) -> dict[str, object]:
    day, latest = gate_today(gate)
    shown = present(request.user, latest, path_of=lambda r: gate.compound.path) if latest else []
    return {"gate": gate, "day": day, "latest": shown,
            "threshold": fever_threshold()}


def _record(request: HttpRequest, gate_code: str) -> HttpResponse:
    post = request.POST
    record: dict[str, object] = {
        "client_id": f"web-{uuid.uuid4().hex}", "gate": gate_code,
        "direction": post.get("direction", ""), "at": timezone.now().isoformat(),
        "temperature": post.get("temperature", "").strip().replace("，", ".").replace(",", "."),
        "method": post.get("method") or "forehead",
    }
    if post.get("visitor_name", "").strip():
        record["visitor"] = {"name": post["visitor_name"].strip(), "phone": post.get("visitor_phone", ""),
                             "id_number": post.get("visitor_id_number", ""),
                             "reason": post.get("visitor_reason", ""), "visiting": post.get("visiting", "")}
    else:
        record["pass_code"] = post.get("pass_code", "").strip().upper()
    [result] = gate_checks_ingest(user=request.user, records=[record])
    if result.status != "created":
        problems = "; ".join(f"{e['loc'][-1]}: {e['msg']}" for e in result.errors)
        messages.error(request, _("Not recorded — %(problems)s") % {"problems": problems})
    elif "fever" in result.alerts:
        messages.warning(request, _("FEVER %(t)s °C — recorded; the warden and the health liaison are told. "
                                    "Keep the person at the gate.") % {"t": record["temperature"]})
    else:
        messages.success(request, _("Recorded %(t)s °C") % {"t": record["temperature"]})
    if "observation_breach" in result.alerts:
        messages.warning(request, _("This household is under home observation: the warden is told."))
    return redirect("gate", code=gate_code)


@login_required
def pass_sheet(request: HttpRequest, code: str) -> HttpResponse:
    """One A4 sheet of pass cards (出入证) for a building: a QR code per household that a gate
    device or phone scans, with the code printed for typing. Printing is audited."""
    building = access_area(request.user, code)
    if building.level != Level.BUILDING or not may_print_passes(request.user, building.path):
        raise Http404("pass cards are printed per building by its warden or commander")
    cards = building_passes(building)
    audit_record(actor=request.user, action="export", object_type="gates.householdpass",
                 area_path=building.path, summary=f"{len(cards)} pass cards printed")
    return render(request, "gates/passes.html", {"building": building, "cards": cards})
