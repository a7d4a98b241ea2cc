"""The gate page: built for a phone in a gloved hand at a compound gate, one record per tap."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from louzhang.access.areas import access_area
from louzhang.access.masking import present
from louzhang.areas.models import Level
from louzhang.core.record_words import record_errors
from louzhang.core.thresholds import fever_threshold
from louzhang.core.views import forbidden_is_missing
from louzhang.followups.rules import fired_in_words
from louzhang.gates.forms import RECORD_FIELDS, GateRecordForm
from louzhang.gates.models import Gate
from louzhang.gates.selectors import access_gate, gate_today
from louzhang.gates.services import (
    GateCheckIn,
    GateCheckResult,
    gate_checks_ingest,
    pass_sheet_print,
)


@login_required
def gate_page(request: HttpRequest, code: str) -> HttpResponse:
    """The gate's page; its staff record here. A record refused comes back with what was typed
    (temperature, method, the visitor) and why."""
    gate, can_record = access_gate(request.user, code)
    if request.method == "POST" and not can_record:
        raise Http404("recording at this gate is for its own staff")
    form = GateRecordForm(request.POST or None) if can_record else None
    if form is not None and form.is_valid():
        record = form.record(gate.code)
        # what the device schema refuses is told in the page's words, beside its field
        refused = record_errors(GateCheckIn, record)
        if refused:
            form.add_record_errors(refused, RECORD_FIELDS)
        else:
            [result] = gate_checks_ingest(user=request.user, records=[record])
            if result.status == "created":
                _tell(request, result, form.cleaned_data["temperature"])
                return redirect("gate", code=gate.code)
            form.add_record_errors(result.errors, RECORD_FIELDS)
    return render(request, "gates/gate.html", {**_live_context(request, gate), "can_record": can_record,
                                               "form": form})


def _tell(request: HttpRequest, result: GateCheckResult, t: Decimal) -> None:
    """What was done, and only that: the rules that fired (`result.alerts`), whom their
    follow-ups went to and whom their alerts told (`result.fired`)."""
    alerts = result.alerts
    if "fever" in alerts:
        messages.warning(request, _("FEVER %(t)s °C — recorded, and a fever follow-up is open. "
                                    "Keep the person at the gate.") % {"t": t})
    else:
        messages.success(request, _("Recorded %(t)s °C") % {"t": t})
    if "observation_breach" in alerts:
        messages.warning(request, _("This household is under home observation: a follow-up is open "
                                    "to bring them home."))
    said = fired_in_words(result.fired)
    if said:
        messages.info(request, " ".join(said))


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


@login_required
@forbidden_is_missing
def pass_sheet(request: HttpRequest, code: str) -> HttpResponse:
    """One A4 sheet of pass cards (出入证) for a building: a QR code per household that a gate
    device or phone scans, with the code printed for typing. Printing is audited."""
    building = access_area(request.user, code)
    if building.level != Level.BUILDING:
        raise Http404("pass cards are printed per building")
    cards = pass_sheet_print(actor=request.user, building=building)
    return render(request, "gates/passes.html", {"building": building, "cards": cards})
