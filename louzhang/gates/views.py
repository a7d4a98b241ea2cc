"""The gate page: built for a phone in a gloved hand at a compound gate, one record per tap."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from louzhang.accounts.policy import present
from louzhang.gates.selectors import access_gate, gate_today, gates_for
from louzhang.gates.services import gate_checks_ingest


@login_required
def gate_list(request: HttpRequest) -> HttpResponse:
    gates = list(gates_for(request.user).order_by("compound__path", "code"))
    if len(gates) == 1:
        return redirect("gate", code=gates[0].code)
    return render(request, "gates/list.html", {"gates": gates})


@login_required
def gate_page(request: HttpRequest, code: str) -> HttpResponse:
    gate = access_gate(request.user, code)
    if request.method == "POST":
        return _record(request, gate.code)
    day, latest = gate_today(gate)
    shown = present(request.user, latest, path_of=lambda r: gate.compound.path) if latest else []
    return render(request, "gates/gate.html", {
        "gate": gate, "day": day, "latest": shown,
        "threshold": Decimal(str(settings.LOUZHANG_FEVER_THRESHOLD)),
    })


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
