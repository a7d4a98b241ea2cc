"""The checkpoint page: a roadside at night, a phone, one car at a time."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from louzhang.access.roles import commands_anywhere
from louzhang.checkpoints.forms import (
    RECORD_FIELDS,
    EndKeyRegionForm,
    InspectionForm,
    KeyRegionForm,
)
from louzhang.checkpoints.key_regions import (
    KeyRegionError,
    cities_commanded,
    key_region_add,
    key_region_end,
    key_regions_visible,
    may_keep,
)
from louzhang.checkpoints.selectors import (
    access_checkpoint,
    checkpoint_today,
    destinations_suggested,
    key_region_name,
)
from louzhang.checkpoints.services import InspectionResult, VehicleCheckIn, vehicle_checks_ingest
from louzhang.core.record_words import record_errors
from louzhang.core.views import forbidden_is_missing
from louzhang.followups.rules import fired_in_words
from louzhang.identifiers.plates import normalise_plate


@login_required
def checkpoint_page(request: HttpRequest, code: str) -> HttpResponse:
    """The checkpoint's page; its officers record here. An inspection refused comes back with
    what was typed and why."""
    checkpoint = access_checkpoint(request.user, code)
    if request.method == "GET" and request.GET.get("suggest") == "destinations":
        return render(request, "checkpoints/_destinations.html", {
            "destinations": destinations_suggested(checkpoint, request.GET.get("destination", ""))})
    suggest_url = reverse("checkpoint", args=[checkpoint.code]) + "?suggest=destinations"
    form = InspectionForm(request.POST or None, suggest_url=suggest_url)
    if form.is_valid():
        record = form.record(checkpoint.code)
        # what the device schema refuses is told in the page's words, beside its field
        refused = record_errors(VehicleCheckIn, record)
        if refused:
            form.add_record_errors(refused, RECORD_FIELDS)
        else:
            [result] = vehicle_checks_ingest(user=request.user, records=[record])
            if result.status == "created":
                _tell(request, result, form)
                return redirect("checkpoint", code=checkpoint.code)
            form.add_record_errors(result.errors, RECORD_FIELDS)
    day, latest = checkpoint_today(checkpoint)
    # a destination refused comes back with the compounds named like it to pick from
    typed = str(form["destination"].value() or "") if form.is_bound else ""
    return render(request, "checkpoints/checkpoint.html", {
        "checkpoint": checkpoint, "day": day, "latest": latest, "form": form,
        "destinations": destinations_suggested(checkpoint, typed) if form.has_error("destination") else []})


def _tell(request: HttpRequest, result: InspectionResult, form: InspectionForm) -> None:
    """What was done, and only that: the rules that fired (`result.alerts`), whom their
    follow-ups went to and whom their alerts told (`result.fired`)."""
    plate = normalise_plate(form.cleaned_data["plate"])
    region = result.plate_region or {}
    where = f"{region.get('province', '')}{region.get('city', '')}"
    if result.key_region:
        flagged = key_region_name(result.id)
        if "key_region_vehicle" in result.alerts:
            destination = form.cleaned_data["destination"]
            messages.warning(request, _("%(plate)s is from a key region (%(region)s): a follow-up is open for "
                                        "%(destination)s to register the travellers.")
                             % {"plate": plate, "region": flagged, "destination": destination.name})
        else:
            messages.warning(request, _("%(plate)s is from a key region (%(region)s).")
                             % {"plate": plate, "region": flagged})
    else:
        messages.success(request, _("Recorded %(plate)s (%(where)s)") % {"plate": plate, "where": where})
    if any(a.startswith("fever") for a in result.alerts):
        messages.warning(request, _("Fever: refer to the health staff at the checkpoint."))
    said = fired_in_words(result.fired)
    if said:
        messages.info(request, " ".join(said))


@login_required
def checkpoint_live(request: HttpRequest, code: str) -> HttpResponse:
    """Today's counts and latest vehicles at a checkpoint, polled by its page."""
    checkpoint = access_checkpoint(request.user, code)
    day, latest = checkpoint_today(checkpoint)
    return render(request, "checkpoints/_live.html", {"checkpoint": checkpoint, "day": day,
                                                      "latest": latest})


@login_required
@forbidden_is_missing
def key_regions(request: HttpRequest) -> HttpResponse:
    """Commanders read the key regions (重点地区) their checkpoints flag: the operator's list and
    their city's; a city's command centre keeps its city's list (`checkpoints.key_regions`)."""
    if not commands_anywhere(request.user):
        raise Http404("for commanders")
    cities = cities_commanded(request.user)
    operator = bool(request.user.is_superuser)
    may_edit = operator or bool(cities)
    if request.method == "POST" and not may_edit:
        raise Http404("key regions are kept by a city's command centre")
    visible = key_regions_visible(request.user)
    if request.method == "POST" and "end" in request.POST:
        ending = EndKeyRegionForm(request.POST, regions=visible)
        if ending.is_valid():
            key_region_end(actor=request.user, region=ending.cleaned_data["end"], on=timezone.localdate())
        return redirect("key-regions")
    form = KeyRegionForm(request.POST or None, cities=cities, operator=operator)
    if form.is_valid():
        try:
            key_region_add(actor=request.user, **form.region())
        except KeyRegionError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("key-regions")
    regions = [(region, may_keep(request.user, region))
               for region in visible.order_by("city__code", "starts_on", "name")]
    return render(request, "checkpoints/key_regions.html", {
        "regions": regions, "form": form, "today": timezone.localdate(), "may_edit": may_edit,
    })
