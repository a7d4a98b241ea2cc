"""Pages. Thin: each asks a selector for what the user may see and renders it."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from louzhang.access.areas import access_area, area_ancestors, area_children
from louzhang.access.audit_log import audit_events_for
from louzhang.access.holders import compound_owner
from louzhang.access.jurisdiction import jurisdiction_for, scope
from louzhang.access.leads import (
    LeadWardenError,
    lead_warden_choices,
    lead_warden_name,
    lead_warden_of,
)
from louzhang.access.masking import present
from louzhang.access.roles import (
    VIEWING_GATES,
    may_browse_audit,
    may_command,
    may_import,
    may_manage_channels,
    may_print_passes,
    roles_of,
)
from louzhang.accounts.models import Role
from louzhang.areas.models import Area, Level
from louzhang.audit.models import AuditEvent
from louzhang.breakglass.forms import LookUpForm
from louzhang.breakglass.services import look_up_minutes, may_break_glass
from louzhang.breakglass.services import typed as typed_exactly
from louzhang.checkpoints.models import Checkpoint
from louzhang.checkpoints.selectors import (
    checkpoints_overview,
    flagged_vehicles_today,
    vehicle_record,
    vehicle_visible,
)
from louzhang.core.downloads import attachment
from louzhang.core.views import forbidden_is_missing
from louzhang.followups.selectors import followup_counts
from louzhang.gates.selectors import OVERVIEW_LIMIT, fevers_today, gates_for, gates_overview
from louzhang.identifiers import IdentifierError
from louzhang.identifiers.plates import Plate, known_prefix, normalise_plate, parse_plate
from louzhang.registry.exports import access_export_job, export_job_create, export_residents
from louzhang.registry.forms import VehicleForm
from louzhang.registry.selectors import (
    area_summaries,
    find_residents,
    home_sections,
    household_members,
    household_vehicles,
)
from louzhang.registry.vehicles import VehicleError, may_register_vehicle, vehicle_register
from louzhang.web.audit_rows import audit_rows
from louzhang.web.forms import LeadWardenForm

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"



@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    sections = home_sections(user)
    context = {
        "sections": sections,
        "roles": sorted(roles_of(user)),
        "checkpoints": scope(Checkpoint.objects.select_related("area"), user)
        if Role.CHECKPOINT in roles_of(user) or user.is_superuser else [],
        "can_audit": may_browse_audit(user),
        "followups": followup_counts(user),
        "manages_channels": may_manage_channels(user),
        "can_import": may_import(user),
        "gates": list(gates_for(user, roles=[Role.GATE])[:12]),
    }
    return render(request, "web/home.html", context)


@login_required
def area_detail(request: HttpRequest, code: str) -> HttpResponse:
    """An area and what is below it; on a compound's page its commanders name the lead warden
    (牵头楼长); on a household's page its members and their cars."""
    area = access_area(request.user, code)
    lead = _lead_warden(request, area)
    if isinstance(lead, HttpResponse):
        return lead
    return _area_page(request, area, lead)


def _area_page(request: HttpRequest, area: Area, extra: dict[str, Any], *,
               vehicle_form: VehicleForm | None = None, status: int = 200) -> HttpResponse:
    """The area's page; a household's with its members, their cars and, for its wardens and
    commanders, the form registering a car (`vehicle_form`: as posted, when it was refused)."""
    user = request.user
    children = list(area_children(user, area)) if area.level < Level.HOUSEHOLD else []
    members = []
    vehicles = []
    if area.level == Level.HOUSEHOLD:
        members = present(user, list(household_members(user, area)), path_of=lambda r: area.path)
        vehicles = household_vehicles(area, members)
        if vehicle_form is None and members and may_register_vehicle(user, area.path):
            vehicle_form = VehicleForm(members=members)
    context = {
        "area": area,
        "crumbs": area_ancestors(area),
        "children": area_summaries(user, children),
        "members": members,
        "vehicles": vehicles,
        "vehicle_form": vehicle_form,
        "can_assign": may_command(user, area.path),
        "compound_gates": list(area.gates.order_by("code")) if area.level == Level.COMPOUND else [],
        "can_print_passes": area.level == Level.BUILDING and may_print_passes(user, area.path),
        **extra,
    }
    return render(request, "web/area.html", context, status=status)


@require_POST
@login_required
@forbidden_is_missing
def vehicle_register_view(request: HttpRequest, code: str) -> HttpResponse:
    """登记车辆 from a household's page: a car registered to one of its members. Refused, the
    household's page comes back with what was typed and why (422)."""
    user = request.user
    household = access_area(user, code)
    if household.level != Level.HOUSEHOLD or not may_register_vehicle(user, household.path):
        raise Http404("cars are registered by the household's wardens and commanders")
    members = present(user, list(household_members(user, household)), path_of=lambda r: household.path)
    form = VehicleForm(request.POST, members=members)
    if form.is_valid():
        data = form.cleaned_data
        try:
            vehicle = vehicle_register(actor=user, plate=data["plate"], vehicle_type=data["vehicle_type"],
                                       owner=form.chosen_owner)
        except VehicleError as exc:
            form.add_error(exc.field, exc.message)
        else:
            messages.success(request, _("%(plate)s is registered, owned by %(owner)s.")
                             % {"plate": vehicle.plate, "owner": form.owner_shown})
            return redirect(reverse("area", args=[household.code]) + "#vehicles")
    return _area_page(request, household, {}, vehicle_form=form, status=422)


def _lead_warden(request: HttpRequest, area: Area) -> dict[str, Any] | HttpResponse:
    """The compound's lead warden for its page and, for its commanders, the form naming one
    (posted to the page itself); a redirect once named."""
    if area.level != Level.COMPOUND:
        return {}
    named = lead_warden_of(area)
    if not may_command(request.user, area.path):
        if request.method == "POST":
            raise Http404("a lead warden is named by a commander of the compound")
        return {"lead": named}
    form = LeadWardenForm(request.POST or None, wardens=lead_warden_choices(area),
                          initial={"lead": named.user_id if named else None})
    if form.is_valid():
        chosen = form.cleaned_data["lead"]
        try:
            lead_warden_name(actor=request.user, compound=area, user=chosen)
        except LeadWardenError as exc:
            form.add_error("lead", str(exc))
        else:
            if chosen is None:
                messages.success(request, _("%(compound)s has no lead warden now: the warden of most of its "
                                            "buildings answers for it.") % {"compound": area.name})
            else:
                messages.success(request, _("%(user)s is now the lead warden of %(compound)s.")
                                 % {"user": chosen, "compound": area.name})
            return redirect("area", code=area.code)
    return {"lead": named, "lead_form": form, "answering": compound_owner(area)}


@login_required
def area_export(request: HttpRequest, code: str) -> HttpResponse:
    """The residents of an area as XLSX, masked as on the pages; audited. Above a compound the
    export runs in the background (POST): a district is hundreds of thousands of rows."""
    area = access_area(request.user, code)
    if area.level < Level.COMPOUND:
        if request.method != "POST":
            raise Http404("larger areas are exported in the background")
        job = export_job_create(user=request.user, code=code)  # the service checks the user
        return redirect("export", pk=job.pk)
    content = export_residents(request.user, area)
    response = HttpResponse(content, content_type=XLSX)
    filename = quote(f"{area.name}-居民-{timezone.localdate():%Y%m%d}.xlsx")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{filename}"
    return response


@login_required
def export_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = access_export_job(request.user, pk)
    template = "web/_export_progress.html" if request.headers.get("HX-Request") else "web/export.html"
    return render(request, template, {"job": job})


@login_required
def export_download(request: HttpRequest, pk: int) -> FileResponse:
    job = access_export_job(request.user, pk)
    if not job.file_path:
        raise Http404("not ready")
    return attachment(Path(settings.VAR_DIR) / job.file_path,
                      f"{job.area.name}-居民-{timezone.localtime(job.created_at):%Y%m%d}.xlsx", XLSX)


@login_required
def gate_list(request: HttpRequest) -> HttpResponse:
    """Today at the gates and checkpoints the user sees: the commander's and the warden's
    overview, one row per gate (fevers first, then gates where nobody recorded anything).
    Gate staff with one gate go straight to it."""
    within = access_area(request.user, request.GET["area"]) if request.GET.get("area") else None
    rows, total = gates_overview(request.user, within)
    recordable = list(gates_for(request.user)[:2])
    checkpoints = checkpoints_overview(request.user)
    if within is None and total == 1 and len(recordable) == 1 and not checkpoints:
        return redirect("gate", code=recordable[0].code)
    narrower = _narrower(request.user, within) if total > OVERVIEW_LIMIT else None
    return render(request, "web/gates_today.html", {
        "rows": rows, "total": total, "limit": OVERVIEW_LIMIT, "within": within,
        "narrower": narrower, "checkpoints": checkpoints,
        "silent": sum(1 for r in rows if r.day.silent), "fevers": sum(r.day.fevers for r in rows),
    })



def _narrower(user: Any, within: Area | None) -> list[Area]:
    """The areas to choose from when there are too many gates to list: the children of the
    area in view, or of the user's one granted area, or their granted areas."""
    if within is None:
        held = jurisdiction_for(user, roles=VIEWING_GATES)
        roots = list(Area.objects.filter(parent__isnull=True) if held.everything
                     else Area.objects.filter(path__in=held.paths))
        if len(roots) != 1:
            return roots
        within = roots[0]
    return list(area_children(user, within))


@login_required
def today(request: HttpRequest) -> HttpResponse:
    """今日动态: fevers at the gates and key-region vehicles heading into the jurisdiction."""
    user = request.user
    fevers = fevers_today(user)
    shown = present(user, fevers, path_of=lambda r: r.gate.compound.path) if fevers else []
    return render(request, "web/today.html", {"fevers": shown, "vehicles": flagged_vehicles_today(user)})


@login_required
def search(request: HttpRequest) -> HttpResponse:
    """Find a resident by ID number, phone or name, within the jurisdiction; a plate typed in
    any common spelling opens the car's page if the user may see the car (or an inspection of
    it), else the page says no such car is registered in their area."""
    query = request.GET.get("q", "")[:50]
    plate, not_a_plate = _plate_typed(query)
    if plate is not None:
        if vehicle_visible(request.user, plate):
            return redirect("vehicle", plate=plate.plate)
        return render(request, "web/search.html",
                      {"query": query, "plate": plate, **_break_glass_offer(request.user, query)})
    found = find_residents(request.user, query)
    shown = present(request.user, found, path_of=lambda r: r.household.path)
    offer = _break_glass_offer(request.user, query) if not found else {}
    return render(request, "web/search.html",
                  {"query": query, "results": shown, "not_a_plate": not_a_plate, **offer})


def _break_glass_offer(user: Any, query: str) -> dict[str, Any]:
    """查阅辖区外记录: an officer whose exact ID number or plate found nothing in their
    jurisdiction is offered the look-up across their city (`louzhang.breakglass`): the form
    asking the reason, posted to the look-up's own page."""
    if not may_break_glass(user) or typed_exactly(query) is None:
        return {}
    return {"glass_form": LookUpForm(initial={"query": query.strip()}), "minutes": look_up_minutes()}


def _plate_typed(query: str) -> tuple[Plate | None, str]:
    """The plate `query` is, or why it is not one when it looks like one (starts like a plate:
    a province's abbreviation and an issuing office's letter); a name, ID number or phone is
    neither."""
    try:
        return parse_plate(query), ""
    except IdentifierError as exc:
        text = normalise_plate(query)
        looks_like_one = len(text) > 2 and text[1].isascii() and text[1].isalpha() and known_prefix(text[:2])
        return None, str(exc) if looks_like_one else ""


@login_required
def vehicle_page(request: HttpRequest, plate: str) -> HttpResponse:
    """A car: the registry's answer (owner masked by role) and its checkpoint history, as far
    as the user may see them; missing, forbidden and malformed are the same 404."""
    try:
        canonical = parse_plate(plate).plate
    except IdentifierError:
        raise Http404("not a plate") from None
    if canonical != plate:  # 鄂a 5k2b8 → 鄂A5K2B8: one address per car
        return redirect("vehicle", plate=canonical)
    record = vehicle_record(request.user, canonical)
    return render(request, "web/vehicle.html", {"record": record, "view": record.view})


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not may_browse_audit(user):
        raise Http404("no audit log for this user")
    events = audit_events_for(user)
    action = request.GET.get("action", "")
    if action in AuditEvent.Action.values:
        events = events.filter(action=action)
    page = Paginator(events.select_related("actor"), 50).get_page(request.GET.get("page"))
    return render(
        request, "web/audit.html",
        {"page": page, "rows": audit_rows(user, list(page)), "actions": AuditEvent.Action.choices,
         "action": action},
    )
