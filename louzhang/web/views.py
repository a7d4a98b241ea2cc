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
from django.utils import timezone
from django.utils.translation import gettext as _

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
from louzhang.checkpoints.models import Checkpoint
from louzhang.checkpoints.selectors import checkpoints_overview, flagged_vehicles_today
from louzhang.core.downloads import attachment
from louzhang.followups.selectors import followup_counts
from louzhang.gates.selectors import OVERVIEW_LIMIT, fevers_today, gates_for, gates_overview
from louzhang.registry.exports import access_export_job, export_job_create, export_residents
from louzhang.registry.selectors import (
    area_summaries,
    find_residents,
    home_sections,
    household_members,
)
from louzhang.web.forms import LeadWardenForm

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"



@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    sections = home_sections(user)
    chart = None
    if len(sections) == 1 and sections[0].heading.level < Level.COMPOUND:
        chart = {
            "labels": [s.area.name for s in sections[0].items],
            "households": [s.households for s in sections[0].items],
        }
    context = {
        "sections": sections,
        "roles": sorted(roles_of(user)),
        "checkpoints": scope(Checkpoint.objects.select_related("area"), user)
        if Role.CHECKPOINT in roles_of(user) or user.is_superuser else [],
        "chart": chart,
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
    (牵头楼长)."""
    user = request.user
    area = access_area(user, code)
    lead = _lead_warden(request, area)
    if isinstance(lead, HttpResponse):
        return lead
    children = list(area_children(user, area)) if area.level < Level.HOUSEHOLD else []
    members = []
    if area.level == Level.HOUSEHOLD:
        members = present(user, list(household_members(user, area)), path_of=lambda r: area.path)
    context = {
        "area": area,
        "crumbs": area_ancestors(area),
        "children": area_summaries(user, children),
        "members": members,
        "can_assign": may_command(user, area.path),
        "compound_gates": list(area.gates.order_by("code")) if area.level == Level.COMPOUND else [],
        "can_print_passes": area.level == Level.BUILDING and may_print_passes(user, area.path),
        **lead,
    }
    return render(request, "web/area.html", context)


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
    """Find a resident by ID number, phone or name, within the jurisdiction."""
    query = request.GET.get("q", "")[:50]
    found = find_residents(request.user, query)
    shown = present(request.user, found, path_of=lambda r: r.household.path)
    return render(request, "web/search.html", {"query": query, "results": shown})


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not may_browse_audit(user):
        raise Http404("no audit log for this user")
    events = audit_events_for(user)
    action = request.GET.get("action", "")
    if action in AuditEvent.Action.values:
        events = events.filter(action=action)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(
        request, "web/audit.html",
        {"page": page, "actions": AuditEvent.Action.choices, "action": action},
    )
