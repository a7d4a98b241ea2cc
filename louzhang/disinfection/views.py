"""Disinfection pages: the warden's coverage of a compound or building (on a phone), a unit's
page (its representatives with their personal links as QR codes, its plan, its rounds), the
representative's one-tap page — logged in (`/disinfection/mine/`) or through the personal link
(`/d/<token>/`: no log-in, nothing personal, rate-limited, always Chinese).

Thin: access → form → service → redirect; the services ask the capabilities again.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from louzhang.access.masking import present
from louzhang.areas.models import Area, Level
from louzhang.core.public import Rate, address_of, public_page, rate_wait
from louzhang.core.views import forbidden_is_missing
from louzhang.disinfection.forms import ConfirmForm, PlanForm, RegisterForm, RoundForm
from louzhang.disinfection.models import UnitRepresentative
from louzhang.disinfection.selectors import (
    DEFAULT_AREAS,
    access_disinfection_area,
    access_representative,
    access_unit,
    disinfection_coverage,
    disinfection_roots,
    keeps_anywhere,
    last_agent,
    plan_of,
    present_representatives,
    representative_by_token,
    represented_units,
    represents_anywhere,
    unit_recent,
    unit_rep_users,
    unit_representatives,
    unit_residents,
    unit_today,
)
from louzhang.disinfection.services import (
    DisinfectionError,
    Recorded,
    areas_in_words,
    disinfection_record,
    plans_set,
    representative_end,
    representative_link_renew,
    representative_register,
)

# --- coverage -------------------------------------------------------------------------------------


@login_required
def coverage(request: HttpRequest) -> HttpResponse:
    """今日消杀: per unit of a compound or building, today's rounds against the plan, overdue
    first; totals per compound. Without `?area=`, the compounds of the user's jurisdiction."""
    user = request.user
    if not keeps_anywhere(user):
        raise Http404("disinfection is kept by wardens and commanders")
    code = request.GET.get("area", "")
    if not code:
        return _coverage_of_roots(request)
    area = access_disinfection_area(user, code)
    return _coverage(request, area)


def _coverage_of_roots(request: HttpRequest) -> HttpResponse:
    roots = disinfection_roots(request.user)
    if len(roots) == 1:
        return redirect(f"{reverse('disinfection')}?area={roots[0].code}")
    return render(request, "disinfection/roots.html", {"roots": roots})


def _coverage(request: HttpRequest, area: Area, plan_form: PlanForm | None = None, status: int = 200) -> HttpResponse:
    user = request.user
    found = disinfection_coverage(user, area)
    can_plan = area.level in (Level.COMPOUND, Level.BUILDING) and bool(found.rows)
    return render(request, "disinfection/coverage.html", {
        "area": area, "coverage": found, "now": timezone.localtime(),
        "plan_form": plan_form or (PlanForm(prefix="plan") if can_plan else None),
    }, status=status)


@require_POST
@login_required
@forbidden_is_missing
def plan_set_view(request: HttpRequest, code: str) -> HttpResponse:
    """The plan of a unit, or of every unit of a building or compound the user keeps."""
    user = request.user
    area = Area.objects.filter(code=code).first()
    if area is None or area.level not in (Level.COMPOUND, Level.BUILDING, Level.UNIT):
        raise Http404("no such area")
    area = access_unit(user, code) if area.level == Level.UNIT else access_disinfection_area(user, code)
    form = PlanForm(request.POST, prefix="plan")
    if form.is_valid():
        try:
            n = plans_set(actor=user, area=area, areas=form.cleaned_data["areas"],
                          times_per_day=form.cleaned_data["times_per_day"])
        except DisinfectionError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Plan set for %(n)s units: %(areas)s, %(times)s a day.") % {
                "n": n, "areas": areas_in_words(form.cleaned_data["areas"]),
                "times": form.cleaned_data["times_per_day"]})
            if area.level == Level.UNIT:
                return redirect("disinfection-unit", code=area.code)
            return redirect(f"{reverse('disinfection')}?area={area.code}")
    if area.level == Level.UNIT:
        return _unit(request, area, plan_form=form, status=422)
    return _coverage(request, area, plan_form=form, status=422)


# --- a unit ---------------------------------------------------------------------------------------


def _link(rep: UnitRepresentative) -> str:
    """The representative's personal link, as an address that works from their phone."""
    return str(settings.LOUZHANG_BASE_URL).rstrip("/") + reverse("disinfection-link", args=[rep.token])


def _qr_svg(text: str) -> str:
    import segno

    return str(segno.make_qr(text, error="m").svg_inline(scale=4, border=4))


def _register_form(request: HttpRequest, unit: Area, data: Any = None) -> RegisterForm:
    user = request.user
    reps = unit_representatives(unit)
    taken = {r.resident_id for r in reps}
    residents = [r for r in unit_residents(user, unit) if r.pk not in taken]
    shown = present(user, residents, path_of=lambda r: r.household.path, audit_under=unit.path)
    linked = {r.user_id for r in reps if r.user_id}
    users = [u for u in unit_rep_users(unit) if u.pk not in linked]
    return RegisterForm(data, residents=shown, users=users)


@login_required
@forbidden_is_missing
def unit_page(request: HttpRequest, code: str) -> HttpResponse:
    """A unit's disinfection: today, its representatives (register, personal links as QR codes,
    renew, end), its plan, its latest rounds. A POST registers a representative."""
    unit = access_unit(request.user, code)
    if request.method == "POST":
        form = _register_form(request, unit, request.POST)
        if form.is_valid():
            try:
                rep = representative_register(actor=request.user, unit=unit, resident=form.person,
                                              consent=form.cleaned_data["consent"], user=form.login)
            except DisinfectionError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _(
                    "Registered as the unit's representative, consent noted. Give them their "
                    "personal link: show them the QR code below."))
                return redirect(f"{reverse('disinfection-unit', args=[unit.code])}#rep-{rep.pk}")
        return _unit(request, unit, register_form=form, status=422)
    return _unit(request, unit)


def _unit(request: HttpRequest, unit: Area, *, register_form: RegisterForm | None = None,
          plan_form: PlanForm | None = None, round_form: RoundForm | None = None,
          status: int = 200) -> HttpResponse:
    user = request.user
    reps = unit_representatives(unit)
    shown = present_representatives(user, unit, reps)
    plan = plan_of(unit)
    areas = plan.areas if plan else DEFAULT_AREAS
    return render(request, "disinfection/unit.html", {
        "unit": unit, "today": unit_today(unit), "plan": plan,
        "plan_words": areas_in_words(plan.areas) if plan else "",
        "reps": [{"rep": r, "person": p, "link": _link(r), "qr": _qr_svg(_link(r))}
                 for r, p in zip(reps, shown, strict=True)],
        "register_form": register_form or _register_form(request, unit),
        "plan_form": plan_form or PlanForm(prefix="plan", initial={
            "areas": areas, "times_per_day": plan.times_per_day if plan else 2}),
        "round_form": round_form or RoundForm(areas=areas, agent=last_agent(unit)),
        "recent": unit_recent(unit), "confirm_form": ConfirmForm(),
    }, status=status)


@require_POST
@login_required
@forbidden_is_missing
def unit_record_view(request: HttpRequest, code: str) -> HttpResponse:
    """A warden or commander logs a round of the unit themselves."""
    unit = access_unit(request.user, code)
    form = RoundForm(request.POST)
    if form.is_valid():
        try:
            done = disinfection_record(unit=unit, areas=form.cleaned_data["areas"],
                                       agent=form.cleaned_data["agent"],
                                       client_id=form.cleaned_data["client_id"], actor=request.user)
        except DisinfectionError as exc:
            form.add_error(None, str(exc))
        else:
            _said(request, done)
            return redirect("disinfection-unit", code=unit.code)
    return _unit(request, unit, round_form=form, status=422)


@require_POST
@login_required
@forbidden_is_missing
def representative_renew_view(request: HttpRequest, pk: int) -> HttpResponse:
    rep = access_representative(request.user, pk)
    if ConfirmForm(request.POST).is_valid():
        try:
            representative_link_renew(actor=request.user, representative=rep)
        except DisinfectionError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("A new link was made; the old one no longer works. Give "
                                        "the representative the new one."))
    return redirect(f"{reverse('disinfection-unit', args=[rep.unit.code])}#rep-{rep.pk}")


@require_POST
@login_required
@forbidden_is_missing
def representative_end_view(request: HttpRequest, pk: int) -> HttpResponse:
    rep = access_representative(request.user, pk)
    if ConfirmForm(request.POST).is_valid():
        if representative_end(actor=request.user, representative=rep):
            messages.success(request, _("No longer a representative: their link no longer works."))
        else:
            messages.info(request, _("Somebody else ended it before you; nothing changed."))
    return redirect("disinfection-unit", code=rep.unit.code)


# --- the representative's one tap --------------------------------------------------------------------


def _said(request: HttpRequest, done: Recorded) -> None:
    """What was done, and only that."""
    if not done.created:
        messages.info(request, _("This round was recorded already."))
        return
    record = done.disinfection
    messages.success(request, _("Recorded: %(areas)s disinfected at %(when)s. Thank you.") % {
        "areas": areas_in_words(record.areas), "when": timezone.localtime(record.at).strftime("%H:%M")})


def _round_form(rep: UnitRepresentative, data: Any = None) -> RoundForm:
    plan = plan_of(rep.unit)
    return RoundForm(data, prefix=f"r{rep.pk}", areas=plan.areas if plan else DEFAULT_AREAS,
                     agent=last_agent(rep.unit))


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    """The logged-in representative's one-tap page: one card per unit they represent."""
    user = request.user
    if not represents_anywhere(user):
        raise Http404("the one-tap page is for unit representatives")
    reps = represented_units(user)
    failed: RoundForm | None = None
    failed_rep = None
    if request.method == "POST":
        rep = next((r for r in reps if str(r.pk) == request.POST.get("rep")), None)
        if rep is None:
            raise Http404("not a unit of yours")
        form = _round_form(rep, request.POST)
        if form.is_valid():
            try:
                done = disinfection_record(unit=rep.unit, areas=form.cleaned_data["areas"],
                                           agent=form.cleaned_data["agent"],
                                           client_id=form.cleaned_data["client_id"],
                                           representative=rep, actor=user)
            except DisinfectionError as exc:
                form.add_error(None, str(exc))
            else:
                _said(request, done)
                return redirect("disinfection-mine")
        failed, failed_rep = form, rep.pk
    cards = [{"rep": r, "today": unit_today(r.unit),
              "form": failed if r.pk == failed_rep and failed is not None else _round_form(r)} for r in reps]
    return render(request, "disinfection/mine.html", {"cards": cards},
                  status=422 if failed is not None else 200)


#: requests to personal links from one client address (a compound behind one carrier address
#: sends many), and to one link
LINK_RATE_PER_ADDRESS = Rate(120, 60)
LINK_RATE_PER_LINK = Rate(30, 600)


def _too_many(request: HttpRequest, token: str) -> int:
    link = hashlib.sha256(token.encode()).hexdigest()[:24]
    return (rate_wait("disinfection-link-address", address_of(request), LINK_RATE_PER_ADDRESS)
            or rate_wait("disinfection-link", link, LINK_RATE_PER_LINK))


@public_page
def personal_link(request: HttpRequest, token: str) -> HttpResponse:
    """单元消杀: the representative's own page. The secret in the address is the only key; the
    page shows today's rounds against the plan and the one-tap form — no name, no address."""
    wait = _too_many(request, token)
    if wait:
        response = render(request, "disinfection/link_limited.html", status=429)
        response["Retry-After"] = str(wait)
        return response
    rep = representative_by_token(token)
    if rep is None:
        raise Http404("no such link")
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    active = rep.ended_at is None
    form = None
    if active:
        form = _round_form(rep, request.POST if request.method == "POST" else None)
        if form.is_valid():
            try:
                done = disinfection_record(unit=rep.unit, areas=form.cleaned_data["areas"],
                                           agent=form.cleaned_data["agent"],
                                           client_id=form.cleaned_data["client_id"], representative=rep)
            except DisinfectionError as exc:
                form.add_error(None, str(exc))
            else:
                _said(request, done)
                return redirect("disinfection-link", token=token)
    status = 200
    if request.method == "POST":
        status = 422 if active else 410
    return render(request, "disinfection/link.html", {
        "active": active, "form": form, "today": unit_today(rep.unit) if active else None,
    }, status=status)
