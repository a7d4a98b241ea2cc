"""Door-to-door screening pages: the visit form (a phone, one hand, a stairwell), the warden's
"still to visit" list, the commander's rounds and their coverage."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from louzhang.access.areas import access_area, area_ancestors
from louzhang.access.jurisdiction import jurisdiction_for
from louzhang.access.masking import present
from louzhang.access.roles import COMMANDING, VISITING, commands_anywhere, may_command, may_visit
from louzhang.areas.models import Area, Level
from louzhang.core.views import forbidden_is_missing
from louzhang.followups.rules import fired_in_words
from louzhang.observation.models import Observation, Status
from louzhang.registry.selectors import household_members
from louzhang.screening.forms import RoundForm, VisitPage, region_names
from louzhang.screening.models import Round, Visit
from louzhang.screening.selectors import (
    access_round,
    access_visit,
    coverage,
    coverage_by_station,
    coverage_by_warden,
    household_visits,
    next_in_stairwell,
    progress,
    round_units,
    rounds_open,
    rounds_visible,
    still_to_visit,
    visits_by,
)
from louzhang.screening.services import (
    NeedsConfirmation,
    RoundError,
    VisitRejected,
    VisitResult,
    household_for_visit,
    round_close,
    round_open,
    visit_record,
)

#: areas to choose a round's area from, at most (deeper levels are left out beyond it)
ROUND_AREA_LIMIT = 300
#: wardens listed on a coverage page (fewest reached first)
WARDEN_ROWS = 50


def _visiting(user: Any) -> None:
    """Screening pages are for wardens and commanders: anybody else finds nothing here."""
    if jurisdiction_for(user, roles=VISITING).is_empty:
        raise Http404("screening is for wardens and commanders")


def _round_of(user: Any, household: Area) -> Round | None:
    """The open round that covers the household (the most recent), if any."""
    return next((r for r in rounds_open(user) if household.path.startswith(r.area.path)), None)


# --- the visit form ------------------------------------------------------------------------

@login_required
@forbidden_is_missing
def visit_new(request: HttpRequest, code: str) -> HttpResponse:
    """Record a visit to one household. A visit refused comes back with everything typed and
    each problem on the person and field it is about; people matched only by name and phone
    come back with the registered candidates to pick from."""
    user = request.user
    household = household_for_visit(user, code)
    if household is None:
        raise Http404("no such household in your area")
    members = present(user, list(household_members(user, household)), path_of=lambda r: household.path)
    page = VisitPage(request.POST if request.method == "POST" else None, household=household,
                     members=members)
    if page.is_valid() and (data := page.visit_in()) is not None:
        try:
            result = visit_record(actor=user, data=data, confirm=True)
        except VisitRejected as exc:
            page.add_errors(exc.errors)
        except NeedsConfirmation as exc:
            shown = present(user, [r for c in exc.candidates for r in c.residents],
                            path_of=lambda r: r.household.path)
            page.add_candidates(exc.candidates, {p.obj.pk: p for p in shown})
        else:
            _tell(request, result, people=len(data.people), nobody_home=data.mode == "nobody_home")
            return redirect("visit", pk=result.id)
    round_ = _round_of(user, household)
    return render(request, "screening/visit_form.html", {
        "household": household, "page": page,
        "regions": region_names(household), "round": round_,
        "recent": [_summary(v) for v in household_visits(user, household, limit=5)],
        "next": next_in_stairwell(user, household, round_),
    })


def _tell(request: HttpRequest, result: VisitResult, *, people: int, nobody_home: bool) -> None:
    """What was stored, and only that: the people reported on, those added to the registry,
    the home observations this visit started or proposed, what the rules did."""
    if result.status == "duplicate":
        messages.info(request, _("This visit was recorded before: nothing was stored twice."))
        return
    if nobody_home:
        said = [_("Visit recorded: nobody home")]
    else:
        said = [ngettext("Visit recorded: %(n)d person", "Visit recorded: %(n)d people", people) % {"n": people}]
    if result.added:
        n = len(result.added)
        said.append(ngettext(", %(n)d added to the registry", ", %(n)d added to the registry", n) % {"n": n})
    statuses = list(Observation.objects.filter(pk__in=result.opened).values_list("status", flat=True))
    started = statuses.count(Status.ACTIVE)
    if started:
        said.append(ngettext(", home observation started for %(n)d", ", home observation started for %(n)d",
                             started) % {"n": started})
    proposed = statuses.count(Status.PROPOSED)
    if proposed:
        said.append(ngettext(", home observation proposed for %(n)d (the health liaison decides)",
                             ", home observation proposed for %(n)d (the health liaison decides)",
                             proposed) % {"n": proposed})
    already = len(result.observations) - len(result.opened)
    if already:
        said.append(ngettext(", %(n)d already under home observation", ", %(n)d already under home observation",
                             already) % {"n": already})
    level = messages.warning if started or proposed or result.alerts else messages.success
    level(request, "".join(said))
    words = fired_in_words(result.fired)
    if words:
        messages.info(request, " ".join(words))


@dataclass
class VisitSummary:
    """One visit in a household's list: who, when, how, and how many were found in each
    category (counts only: who had what is on the visit's own page)."""

    visit: Visit
    people: int
    returnees: int
    symptomatic: int
    contacts: int
    care: int
    added: int


def _summary(visit: Visit) -> VisitSummary:
    findings = list(visit.findings.all())
    return VisitSummary(
        visit, len(findings), sum(f.returnee for f in findings), sum(bool(f.symptoms) for f in findings),
        sum(f.contact_with_case for f in findings), sum(bool(f.care_tags) for f in findings),
        sum(f.added for f in findings))


@login_required
def visit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A visit as it was stored — the page a saved visit lands on, with the next household of
    the stairwell one tap away."""
    user = request.user
    visit = access_visit(user, pk)
    household = visit.household
    findings = list(visit.findings.select_related("resident__household", "observation").order_by("id"))
    people = present(user, [f.resident for f in findings], path_of=lambda r: r.household.path)
    found = present(user, findings, path_of=lambda f: household.path)
    round_ = _round_of(user, household)
    return render(request, "screening/visit.html", {
        "visit": visit, "household": household,
        "rows": list(zip(found, people, strict=True)),
        "next": next_in_stairwell(user, household, round_) if may_visit(user, household.path) else None,
        "may_visit": may_visit(user, household.path), "round": round_,
    })


# --- the warden's list -----------------------------------------------------------------------

@login_required
def visit_list(request: HttpRequest) -> HttpResponse:
    """The households still to visit in the open rounds, most urgent first (a returnee seen by
    a checkpoint, people needing care, tried before), then in stairwell order; without an
    open round, the user's latest visits."""
    user = request.user
    _visiting(user)
    rounds = rounds_open(user)
    lists = [(round_, still_to_visit(user, round_)) for round_ in rounds]
    latest = [] if rounds else visits_by(user)
    return render(request, "screening/visits.html", {
        "lists": lists, "latest": latest,
        "commands": commands_anywhere(user),
    })


# --- rounds and coverage ---------------------------------------------------------------------

def _round_areas(user: Any) -> list[Area]:
    """The areas a commander may open a round over, in tree order: their own, and below them
    level by level down to compounds while the list stays short enough to choose from."""
    held = jurisdiction_for(user, roles=COMMANDING)
    roots = list(Area.objects.filter(parent__isnull=True) if held.everything
                 else Area.objects.filter(path__in=held.paths))
    if not roots:
        return []
    within = Q()
    for root in roots:
        within |= Q(path__subtree=root.path)
    per_level = dict(Area.objects.filter(within, level__lte=Level.COMPOUND).values_list("level")
                     .annotate(n=Count("id")).values_list("level", "n"))
    deepest, total = min(r.level for r in roots), 0
    for level in sorted(per_level):
        total += per_level[level]
        if total > ROUND_AREA_LIMIT and level > deepest:
            break
        deepest = level
    return list(Area.objects.filter(within, level__lte=deepest).order_by("path"))


@login_required
@forbidden_is_missing
def round_list(request: HttpRequest) -> HttpResponse:
    """The rounds the user sees; commanders open one here."""
    user = request.user
    _visiting(user)
    form = RoundForm(request.POST or None, areas=_round_areas(user)) if commands_anywhere(user) else None
    if request.method == "POST":
        if form is None:
            raise Http404("rounds are opened by commanders")
        if form.is_valid():
            try:
                round_ = round_open(actor=user, area=form.chosen_area, name=form.cleaned_data["name"],
                                    starts_on=form.cleaned_data["starts_on"],
                                    ends_on=form.cleaned_data["ends_on"])
            except RoundError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Round opened: %(name)s, %(area)s.")
                                 % {"name": round_.name, "area": round_.area.name})
                return redirect("round", pk=round_.pk)
    rounds = list(rounds_visible(user).order_by("-starts_on", "-id")[:100])
    return render(request, "screening/rounds.html", {"rounds": rounds, "form": form,
                                                      "today": timezone.localdate()})


@login_required
def round_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A round's coverage of an area (`?area=` to drill down): a row per part, the wardens,
    and day by day."""
    user = request.user
    round_ = access_round(user, pk)
    area = access_area(user, request.GET["area"]) if request.GET.get("area") else round_.area
    units = round_units(user, round_, area) if area.level < Level.UNIT else None
    total = coverage(user, round_, area, units)
    crumbs = [a for a in [*area_ancestors(area), area] if a.path.startswith(round_.area.path)] or [area]
    return render(request, "screening/round.html", {
        "round": round_, "area": area, "total": total, "crumbs": crumbs,
        "wardens": coverage_by_warden(user, round_, area, units)[:WARDEN_ROWS],
        "stations": coverage_by_station(user, round_, area, units),
        "days": progress(user, round_, area),
        "may_close": round_.closed_at is None and may_command(user, round_.area.path),
        "household_rows": bool(total.children) and total.children[0].area is not None
        and total.children[0].area.level == Level.HOUSEHOLD,
    })


@require_POST
@login_required
@forbidden_is_missing
def round_close_view(request: HttpRequest, pk: int) -> HttpResponse:
    round_ = access_round(request.user, pk)
    if not may_command(request.user, round_.area.path):
        raise Http404("rounds are closed by commanders of their area")
    if round_close(actor=request.user, round_=round_):
        messages.success(request, _("Round closed: %(name)s.") % {"name": round_.name})
    else:
        messages.info(request, _("The round was closed already; nothing changed."))
    return redirect("round", pk=round_.pk)

