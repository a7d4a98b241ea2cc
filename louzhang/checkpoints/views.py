"""The checkpoint page: a roadside at night, a phone, one car at a time."""

from __future__ import annotations

import uuid
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from louzhang.access.roles import commands_anywhere, may_keep_key_regions
from louzhang.checkpoints.models import KeyRegion
from louzhang.checkpoints.selectors import access_checkpoint, checkpoint_today
from louzhang.checkpoints.services import (
    KeyRegionError,
    key_region_add,
    key_region_end,
    vehicle_checks_ingest,
)
from louzhang.identifiers.plates import normalise_plate


@login_required
def checkpoint_page(request: HttpRequest, code: str) -> HttpResponse:
    checkpoint = access_checkpoint(request.user, code)
    if request.method == "POST":
        return _inspect(request, checkpoint.code)
    day, latest = checkpoint_today(checkpoint)
    return render(request, "checkpoints/checkpoint.html", {"checkpoint": checkpoint, "day": day,
                                                           "latest": latest})


@login_required
def checkpoint_live(request: HttpRequest, code: str) -> HttpResponse:
    """Today's counts and latest vehicles at a checkpoint, polled by its page."""
    checkpoint = access_checkpoint(request.user, code)
    day, latest = checkpoint_today(checkpoint)
    return render(request, "checkpoints/_live.html", {"checkpoint": checkpoint, "day": day,
                                                      "latest": latest})


def _inspect(request: HttpRequest, code: str) -> HttpResponse:
    post = request.POST
    temperatures = [t.strip().replace("，", ".") for t in post.get("temperatures", "").replace("、", " ")
                    .replace(",", " ").split() if t.strip()]
    record: dict[str, object] = {
        "client_id": f"web-{uuid.uuid4().hex}", "checkpoint": code, "at": timezone.now().isoformat(),
        "plate": post.get("plate", ""), "vehicle_type": post.get("vehicle_type", ""),
        "origin": post.get("origin", ""), "disposition": post.get("disposition", ""),
        "occupants": [{"temperature": t} for t in temperatures],
    }
    if post.get("destination", "").strip():
        record["destination"] = {"compound": post["destination"].strip()}
    [result] = vehicle_checks_ingest(user=request.user, records=[record])
    if result.status != "created":
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in result.errors)
        messages.error(request, _("Not recorded — %(problems)s") % {"problems": problems})
        return redirect("checkpoint", code=code)
    region = result.plate_region or {}
    where = f"{region.get('province', '')}{region.get('city', '')}"
    plate = normalise_plate(post.get("plate", ""))
    if result.key_region:
        messages.warning(request, _("%(plate)s is from a key region (%(where)s): the destination's "
                                    "warden is told to register the travellers.")
                         % {"plate": plate, "where": where})
    else:
        messages.success(request, _("Recorded %(plate)s (%(where)s)") % {"plate": plate, "where": where})
    if any(a.startswith("fever") for a in result.alerts):
        messages.warning(request, _("Fever: refer to the health staff at the checkpoint."))
    return redirect("checkpoint", code=code)


@login_required
def key_regions(request: HttpRequest) -> HttpResponse:
    """Commanders keep the list of key regions (重点地区) the checkpoints flag."""
    if not commands_anywhere(request.user):
        raise Http404("for commanders")
    may_edit = may_keep_key_regions(request.user)
    error = ""
    if request.method == "POST" and not may_edit:
        raise Http404("key regions are kept by a city's command centre")
    if request.method == "POST" and request.POST.get("end"):
        end = request.POST["end"]
        region = KeyRegion.objects.filter(pk=int(end)).first() if end.isdigit() else None
        if region is not None:
            key_region_end(actor=request.user, region=region, on=timezone.localdate())
        return redirect("key-regions")
    if request.method == "POST":
        def items(field: str) -> list[str]:
            return [p.strip() for p in request.POST.get(field, "").replace("，", ",").split(",") if p.strip()]

        try:
            starts_on = date.fromisoformat(request.POST.get("starts_on", ""))
            ends_text = request.POST.get("ends_on", "").strip()
            ends_on = date.fromisoformat(ends_text) if ends_text else None
        except ValueError:
            error = _("Dates as 2020-01-23.")
        else:
            try:
                key_region_add(actor=request.user, name=request.POST.get("name", ""),
                               division_prefixes=items("division_prefixes"),
                               plate_prefixes=items("plate_prefixes"), starts_on=starts_on,
                               ends_on=ends_on, risk=request.POST.get("risk", "high"))
            except KeyRegionError as exc:
                error = str(exc)
            else:
                return redirect("key-regions")
    return render(request, "checkpoints/key_regions.html", {
        "regions": KeyRegion.objects.all(), "risks": KeyRegion.Risk.choices, "error": error,
        "form": request.POST, "today": timezone.localdate(), "may_edit": may_edit,
    })
