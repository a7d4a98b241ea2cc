"""Home observation pages: the worklists of wardens and health liaisons on the phone, one
observation (check-ins, history, what the user may do), opening one from a household's page,
and the resident's personal check-in link — no log-in, nothing personal, rate-limited.

Thin: access → form → service → redirect. Capabilities (`may_observe`, `may_release`) decide
which buttons a page shows; the services ask them again before they act.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from louzhang.access.areas import access_area
from louzhang.access.masking import Presented, present
from louzhang.access.roles import may_observe, may_release
from louzhang.areas.models import Level
from louzhang.core.paths import AreaPath
from louzhang.core.public import Rate, address_of, rate_wait, unlisted
from louzhang.core.thresholds import fever_threshold
from louzhang.core.views import forbidden_is_missing
from louzhang.followups.rules import fired_in_words
from louzhang.identifiers import IdentifierError
from louzhang.observation.forms import (
    CheckInForm,
    CloseForm,
    ConfirmForm,
    ExtendForm,
    ResidentCheckInForm,
    TravellerForm,
    open_form,
)
from louzhang.observation.models import OPEN_STATUSES, CheckIn, Observation, Status
from louzhang.observation.selectors import (
    Moment,
    access_observation,
    check_ins_today,
    day_of,
    observation_by_token,
    observation_check_ins,
    observation_followups,
    observation_history,
    observation_worklists,
    observations_open,
    observes_anywhere,
    todays_slots,
    traveller_rows,
    travellers_inspection,
)
from louzhang.observation.services import (
    ObservationError,
    check_in_record,
    observation_close,
    observation_confirm,
    observation_extend,
    observation_link_renew,
    observation_open,
    traveller_observe,
)
from louzhang.registry.people import PersonError
from louzhang.registry.selectors import household_at, household_members

# --- the worklists -----------------------------------------------------------------------------


@dataclass
class Row:
    """One observation on a list: the person as the user may see them."""

    o: Observation
    person: Presented | None


def _rows(user: Any, observations: list[Observation]) -> list[Row]:
    """The people of these observations, masked by role; one audit event for those shown in
    full, filed under the area they all lie in."""
    if not observations:
        return []
    paths = {o.resident_id: o.household.path for o in observations}
    residents = list({o.resident_id: o.resident for o in observations}.values())
    shown = {p.obj.pk: p for p in present(user, residents, path_of=lambda r: paths[r.pk],
                                         audit_under=_common_path(list(paths.values())))}
    return [Row(o, shown.get(o.resident_id)) for o in observations]


def _common_path(paths: list[str]) -> str:
    """The deepest area holding all of `paths`."""
    codes = [AreaPath(p).codes for p in paths]
    common: list[str] = []
    for level in zip(*codes, strict=False):
        if len(set(level)) != 1:
            break
        common.append(level[0])
    return AreaPath.of(*common) if common else paths[0]


@login_required
def observation_list(request: HttpRequest) -> HttpResponse:
    """居家观察: due now, missed, due for release, to confirm — most urgent first; `?view=all`
    every open observation by place."""
    user = request.user
    if not observes_anywhere(user):
        raise Http404("home observation is for wardens, health liaisons and commanders")
    view = "all" if request.GET.get("view") == "all" else "work"
    context: dict[str, Any] = {"view": view, "today": timezone.localdate()}
    if view == "all":
        page = Paginator(observations_open(user), 50).get_page(request.GET.get("page"))
        context.update(page=page, rows=_rows(user, list(page.object_list)))
    else:
        lists = observation_worklists(user)
        every = [o for worklist in lists for o in worklist.items]
        by_id = {row.o.pk: row for row in _rows(user, every)}
        context["lists"] = [(w, [by_id[o.pk] for o in w.items]) for w in lists]
    return render(request, "observation/list.html", context)


# --- one observation ----------------------------------------------------------------------------


def _link(observation: Observation) -> str:
    """The resident's personal link, as an address that works from their phone."""
    return str(settings.LOUZHANG_BASE_URL).rstrip("/") + reverse("observation-link", args=[observation.token])


def _qr_svg(text: str) -> str:
    import segno

    return str(segno.make_qr(text, error="m").svg_inline(scale=4, border=4))


def _closing_statuses(user: Any, observation: Observation) -> list[str]:
    """How this user may end this observation now."""
    if not observation.is_open:
        return []
    path = observation.household.path
    statuses: list[str] = []
    if may_release(user, path):
        if observation.status == Status.ACTIVE:
            statuses.append(Status.RELEASED)
        statuses.append(Status.CANCELLED)
    if may_observe(user, path):
        statuses += [Status.HOSPITAL, Status.MOVED]
    return statuses


@login_required
def observation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, access_observation(request.user, pk))


def _detail(request: HttpRequest, observation: Observation, *, check_in_form: CheckInForm | None = None,
            extend_form: ExtendForm | None = None, close_form: CloseForm | None = None,
            status: int = 200) -> HttpResponse:
    """The observation's page; after a failed form, with what was typed and why."""
    user = request.user
    path = observation.household.path
    now = timezone.now()
    today = timezone.localdate()
    [person] = present(user, [observation.resident], path_of=lambda r: path)
    check_ins = observation_check_ins(observation)
    day, days = day_of(observation, today)
    is_open = observation.is_open
    can_observe = is_open and may_observe(user, path)
    can_release = is_open and may_release(user, path)
    statuses = _closing_statuses(user, observation)
    link = _link(observation) if can_observe else ""
    sms = ""
    if link and "phone" in person.full:
        sms = f"sms:{person['phone']}?body={quote(_sms_text(link))}"
    return render(request, "observation/detail.html", {
        "o": observation, "person": person, "day": day, "days": days, "today": today,
        "slots": todays_slots(observation, [c.at for c in check_ins], now),
        "check_ins": check_ins, "history": observation_history(observation),
        "followups": observation_followups(observation), "now": now,
        "can_check_in": can_observe,
        "can_confirm": can_release and observation.status == Status.PROPOSED,
        "can_extend": can_release,
        "release_due": observation.status == Status.ACTIVE and today >= observation.ends_on,
        "statuses": statuses, "other_statuses": [s for s in statuses if s != Status.RELEASED],
        "threshold": fever_threshold(), "evening_deadline": settings.LOUZHANG_CHECK_IN_EVENING_DEADLINE,
        "check_in_form": check_in_form or (CheckInForm() if can_observe else None),
        "extend_form": extend_form or (ExtendForm() if can_release else None),
        "close_form": close_form or (CloseForm(statuses=statuses) if statuses else None),
        "confirm_form": ConfirmForm(),
        "link": link, "link_path": reverse("observation-link", args=[observation.token]) if link else "",
        "qr": _qr_svg(link) if link else "", "sms": sms, "sms_text": _sms_text(link) if link else "",
    }, status=status)


def _sms_text(link: str) -> str:
    return _("Home observation check-in: please send your temperature twice a day, by 12:00 and by "
             "%(evening)s, through your own link: %(link)s") % {
        "evening": settings.LOUZHANG_CHECK_IN_EVENING_DEADLINE, "link": link}


@require_POST
@login_required
@forbidden_is_missing
def observation_check_in_view(request: HttpRequest, pk: int) -> HttpResponse:
    observation = access_observation(request.user, pk)
    form = CheckInForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            result = check_in_record(observation=observation, at=timezone.now(),
                                     temperature=data["temperature"], symptoms=data["symptoms"],
                                     note=data["note"], actor=request.user, via=CheckIn.Via.OFFICER,
                                     client_id=data["client_id"])
        except ObservationError as exc:
            form.add_error(None, str(exc))
        else:
            if result.created:
                messages.success(request, _("Check-in recorded: %(t)s °C.") % {"t": data["temperature"]})
                for said in fired_in_words(result.fired):  # who was told, whose follow-up it is
                    messages.warning(request, said)
            else:
                messages.info(request, _("This check-in was recorded already."))
            return redirect("observation", pk=observation.pk)
    return _detail(request, observation, check_in_form=form, status=422)


@require_POST
@login_required
@forbidden_is_missing
def observation_confirm_view(request: HttpRequest, pk: int) -> HttpResponse:
    observation = access_observation(request.user, pk)
    form = ConfirmForm(request.POST)
    if form.is_valid():
        try:
            confirmed = observation_confirm(actor=request.user, observation=observation)
        except ObservationError as exc:
            messages.error(request, str(exc))
        else:
            if confirmed:
                messages.success(request, _("Confirmed: under home observation; the household is "
                                            "marked at the gates."))
            else:
                messages.info(request, _("Somebody else decided it before you; nothing changed."))
    return redirect("observation", pk=observation.pk)


@require_POST
@login_required
@forbidden_is_missing
def observation_link_renew_view(request: HttpRequest, pk: int) -> HttpResponse:
    observation = access_observation(request.user, pk)
    form = ConfirmForm(request.POST)
    if form.is_valid():
        try:
            observation_link_renew(actor=request.user, observation=observation)
        except ObservationError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("A new link was made; the old one no longer works. Give the "
                                        "resident the new one."))
    return redirect("observation", pk=observation.pk)


@require_POST
@login_required
@forbidden_is_missing
def observation_extend_view(request: HttpRequest, pk: int) -> HttpResponse:
    observation = access_observation(request.user, pk)
    form = ExtendForm(request.POST)
    if form.is_valid():
        try:
            observation_extend(actor=request.user, observation=observation,
                               days=form.cleaned_data["days"], note=form.cleaned_data["note"])
        except ObservationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Extended: the last day is now %(date)s.")
                             % {"date": observation.ends_on})
            return redirect("observation", pk=observation.pk)
    return _detail(request, observation, extend_form=form, status=422)


@require_POST
@login_required
@forbidden_is_missing
def observation_close_view(request: HttpRequest, pk: int) -> HttpResponse:
    observation = access_observation(request.user, pk)
    statuses = _closing_statuses(request.user, observation)
    form = CloseForm(request.POST, statuses=statuses)
    if form.is_valid():
        status = form.cleaned_data["status"]
        try:
            closed = observation_close(actor=request.user, observation=observation, status=status,
                                       note=form.cleaned_data["note"])
        except ObservationError as exc:
            form.add_error(None, str(exc))
        else:
            if closed:
                messages.success(request, _("Home observation ended: %(status)s.")
                                 % {"status": Status(status).label})
            else:
                messages.info(request, _("Somebody else ended it before you; nothing changed."))
            return redirect("observation", pk=observation.pk)
    return _detail(request, observation, close_form=form, status=422)


# --- the travellers of a key-region car ------------------------------------------------------

@login_required
@forbidden_is_missing
def travellers(request: HttpRequest, inspection_id: int) -> HttpResponse:
    """The travellers of a car a checkpoint let through from a key region towards a compound of
    the user's: each put under home observation where they stay, one address each (the
    follow-up "register the travellers and start their home observation")."""
    user = request.user
    inspection = travellers_inspection(user, inspection_id)
    compound = inspection.destination
    assert compound is not None  # travellers_inspection only gives cars bound for a compound
    form = None
    if request.method == "POST":
        form = TravellerForm(request.POST)
        if form.is_valid():
            occupant = next((o for o in inspection.occupants.all()
                             if o.pk == form.cleaned_data["occupant"]), None)
            if occupant is None:
                raise Http404("no such traveller in this car")
            try:
                household = household_at(compound, form.cleaned_data["address"])
                if household is None:
                    raise ObservationError(_("%(compound)s has no household %(address)s")
                                           % {"compound": compound.name,
                                              "address": form.cleaned_data["address"]})
                observation, created = traveller_observe(actor=user, occupant=occupant,
                                                         household=household)
            except (IdentifierError, PersonError, ObservationError) as exc:
                form.add_error("address", str(exc))
            else:
                if created:
                    messages.success(request, _("Under home observation at %(place)s until %(date)s.")
                                     % {"place": household.name, "date": observation.ends_on})
                elif not may_observe(user, observation.household.path):
                    # kept somewhere else: not this user's to see
                    messages.info(request, _("Already under home observation elsewhere: not opened again."))
                else:
                    messages.info(request, _("Already under home observation (until %(date)s): not opened again.")
                                  % {"date": observation.ends_on})
                return redirect("observation-travellers", inspection_id=inspection.pk)
    rows = traveller_rows(user, inspection)
    return render(request, "observation/travellers.html", {
        "inspection": inspection, "rows": rows, "form": form,
        "failed": form.cleaned_data.get("occupant") if form is not None and form.errors else None,
    }, status=422 if form is not None and form.errors else 200)


# --- opening one from a household -------------------------------------------------------------


@login_required
@forbidden_is_missing
def household_observe(request: HttpRequest, code: str) -> HttpResponse:
    """Put a member of the household under home observation. The form is on the household's
    page; this page shows it again, with what was typed, when it was refused."""
    user = request.user
    household = access_area(user, code)
    if household.level != Level.HOUSEHOLD or not may_observe(user, household.path):
        raise Http404("home observation is opened for a household of one's own area")
    members = present(user, list(household_members(user, household)), path_of=lambda r: household.path)
    form = open_form(user, household.path, members, request.POST if request.method == "POST" else None)
    if form.is_valid():
        data = form.cleaned_data
        propose = bool(settings.LOUZHANG_OBSERVATION_NEEDS_CONFIRMATION) and not may_release(user, household.path)
        try:
            observation, created = observation_open(
                actor=user, household=household, resident=form.person, reason=data["reason"],
                last_exposure=data["last_exposure"], source=data["source"],
                exposure_region=data["exposure_region"], propose=propose)
        except ObservationError as exc:
            form.add_error(None, str(exc))
        else:
            if not created:
                messages.info(request, _("Already under home observation (or proposed): here it is."))
            elif observation.status == Status.PROPOSED:
                messages.success(request, _("Proposed: a follow-up is open to confirm it."))
            else:
                messages.success(request, _("Under home observation until %(date)s; the household is "
                                            "marked at the gates.") % {"date": observation.ends_on})
            return redirect("observation", pk=observation.pk)
    return render(request, "observation/open.html", {"household": household, "form": form},
                  status=422 if form.is_bound else 200)


# --- the resident's personal link ---------------------------------------------------------------


#: requests to personal links from one client address (a compound behind one carrier address
#: sends many), and to one link
LINK_RATE_PER_ADDRESS = Rate(120, 60)
LINK_RATE_PER_LINK = Rate(30, 600)


def _too_many(request: HttpRequest, token: str) -> int:
    link = hashlib.sha256(token.encode()).hexdigest()[:24]
    return (rate_wait("observation-link-address", address_of(request), LINK_RATE_PER_ADDRESS)
            or rate_wait("observation-link", link, LINK_RATE_PER_LINK))


_private = unlisted


@never_cache
def personal_link(request: HttpRequest, token: str) -> HttpResponse:
    """个人打卡链接: the resident's own check-in page. The secret in the address is the only key;
    the page shows the day of the observation, its last day, today's check-ins done or not and
    the form — no name, no address, nothing else."""
    wait = _too_many(request, token)
    if wait:
        response = render(request, "observation/link_limited.html", status=429)
        response["Retry-After"] = str(wait)
        return _private(response)
    observation = observation_by_token(token)
    if observation is None:
        raise Http404("no such link")
    if request.method not in ("GET", "HEAD", "POST"):
        return _private(HttpResponse(status=405, headers={"Allow": "GET, POST"}))
    is_open = observation.status in OPEN_STATUSES
    form = None
    if is_open:
        form = ResidentCheckInForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            data = form.cleaned_data
            try:
                result = check_in_record(observation=observation, at=timezone.now(),
                                         temperature=data["temperature"], symptoms=data["symptoms"],
                                         via=CheckIn.Via.RESIDENT, client_id=data["client_id"])
            except ObservationError as exc:
                form.add_error(None, str(exc))
            else:
                if result.created and result.followups:
                    messages.warning(request, _(
                        "Recorded: %(t)s °C. Stay at home: a follow-up is open and the community "
                        "will call you.") % {"t": data["temperature"]})
                else:
                    messages.success(request, _("Recorded: %(t)s °C. Thank you.") % {"t": data["temperature"]})
                return _private(redirect("observation-link", token=token))
    now = timezone.now()
    day, days = day_of(observation, timezone.localdate())
    status = 200
    if request.method == "POST":
        status = 422 if is_open else 410
    return _private(render(request, "observation/link.html", {
        "o": observation, "open": is_open, "form": form, "day": day, "days": days,
        "slots": todays_slots(observation, check_ins_today(observation, now), now) if is_open else [],
        "evening": settings.LOUZHANG_CHECK_IN_EVENING_DEADLINE, "moment": Moment.at(now),
    }, status=status))
