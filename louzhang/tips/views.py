"""Tip pages: the resident's form and tracking page (public), and the officer's list, entry
form and verification page."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from louzhang.access.jurisdiction import jurisdiction_for
from louzhang.access.roles import ACTING_ON_FOLLOWUPS
from louzhang.areas.models import Area, Level
from louzhang.checkpoints.selectors import vehicle_record
from louzhang.core.images import ImageError, image_clean, image_open
from louzhang.core.public import Rate, address_of, public_page, rate_wait
from louzhang.core.views import forbidden_is_missing
from louzhang.followups.rules import fired_in_words
from louzhang.identifiers import IdentifierError
from louzhang.identifiers.plates import parse_plate
from louzhang.tips.exports import write_tips
from louzhang.tips.forms import CATEGORY_HELP, CloseForm, OfficerTipForm, PublicTipForm, TrackForm
from louzhang.tips.models import CLOSED_STATUSES, OPEN_STATUSES, Source, Status
from louzhang.tips.selectors import (
    access_tip,
    tip_page,
    tip_places,
    tip_tracked,
    tips_open_first,
    tips_visible,
)
from louzhang.tips.services import (
    TRACK_RATE_PER_ADDRESS,
    TipError,
    TipIn,
    building_of,
    may_verify,
    tip_close,
    tip_posts_wait,
    tip_publish,
    tip_receive,
    tip_verify_start,
    tracking_code_shown,
)

# --- public: the resident's side -------------------------------------------------------------

#: opening the public pages from one address
PAGE_RATE_PER_ADDRESS = Rate(120, 60)


def _limited(request: HttpRequest, wait: int) -> HttpResponse:
    response = render(request, "tips/public_limited.html", {"minutes": max(1, (wait + 59) // 60)}, status=429)
    response["Retry-After"] = str(wait)
    return response


def _public_area(code: str) -> tuple[Area, Area | None]:
    """The compound and, on a building's page, the building; 404 for anything else."""
    area = Area.objects.select_related("parent").filter(code=code, level__in=[Level.COMPOUND, Level.BUILDING]).first()
    if area is None:
        raise Http404("no such compound")
    if area.level == Level.BUILDING:
        assert area.parent is not None
        return area.parent, area
    return area, None


@public_page
def tip_public(request: HttpRequest, code: str) -> HttpResponse:
    """反映情况: the tip form of a compound or of one building (from the stairwell poster)."""
    address = address_of(request)
    wait = rate_wait("public-page", address, PAGE_RATE_PER_ADDRESS)
    if wait:
        return _limited(request, wait)
    compound, building = _public_area(code)
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    form = PublicTipForm(request.POST or None, request.FILES or None,
                         initial={"building": building.name if building else ""})
    status = 200
    if request.method == "POST":
        status = 422
        if form.looks_automated():
            form.add_error(None, _("Please check what you wrote and send it again."))
            form.data = form.data.copy()
            form.data["stamp"] = form.initial["stamp"] = PublicTipForm().initial["stamp"]
        elif form.is_valid():
            wait = tip_posts_wait(address, compound)
            if wait:  # what was typed stays on the page, to send later
                form.add_error(None, _("Too many tips were sent from this network in a short time. "
                                       "Please send this one again in %(m)s minutes.") % {"m": max(1, (wait + 59) // 60)})
                response = render(request, "tips/public_form.html", {
                    "form": form, "compound": compound, "building": building, "category_help": CATEGORY_HELP,
                }, status=429)
                response["Retry-After"] = str(wait)
                return response
            received = _receive_public(form, compound, building)
            if received is not None:
                messages.success(request, _("Thank you. Your tip has reached the warden. Keep your tracking code: %(code)s")
                                 % {"code": tracking_code_shown(received)})
                return redirect("tip-track-code", code=received)
    return render(request, "tips/public_form.html", {
        "form": form, "compound": compound, "building": building, "category_help": CATEGORY_HELP,
    }, status=status)


def _receive_public(form: PublicTipForm, compound: Area, building: Area | None) -> str | None:
    """Store the tip of a valid public form; its tracking code, or None with errors on the form."""
    data = form.cleaned_data
    area = building or (building_of(compound, data["building"]) if data["building"] else None) or compound
    place = data["place"]
    if data["building"] and area is compound:  # a building we do not know: keep what was typed
        place = f"{data['building']} {place}".strip()
    photo = None
    if data.get("photo"):
        try:
            photo = image_clean(data["photo"])
        except ImageError as exc:
            form.add_error("photo", str(exc))
            return None
    try:
        received = tip_receive(TipIn(area=area, content=data["content"], category=data["category"],
                                     place=place, plate=data["plate"], contact_phone=data["contact_phone"],
                                     photo=photo), source=Source.WEB)
    except TipError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return None
    return received.tip.tracking_code


@public_page
def tip_track(request: HttpRequest) -> HttpResponse:
    """查询进度: the reporter types their tracking code."""
    form = TrackForm(request.GET if "code" in request.GET else None)
    status = 200
    if form.is_bound:
        wait = rate_wait("tip-track", address_of(request), TRACK_RATE_PER_ADDRESS)
        if wait:
            return _limited(request, wait)
        status = 404
        if form.is_valid():
            tracked = tip_tracked(form.cleaned_data["code"])
            if tracked is not None:
                return redirect("tip-track-code", code=tracked.tracking_code)
            form.add_error("code", _("There is no tip with this code. Check the letters and try again."))
    return render(request, "tips/public_track.html", {"form": form}, status=status)


@public_page
def tip_track_code(request: HttpRequest, code: str) -> HttpResponse:
    """The reporter's page of one tip: its status and, once closed, the outcome."""
    wait = rate_wait("tip-track", address_of(request), TRACK_RATE_PER_ADDRESS)
    if wait:
        return _limited(request, wait)
    tracked = tip_tracked(code)
    if tracked is None:
        raise Http404("no such tip")
    return render(request, "tips/public_tracked.html", {
        "t": tracked, "code_shown": tracking_code_shown(tracked.tracking_code),
        "closed": tracked.status in CLOSED_STATUSES, "statuses": Status,
    })


# --- officers ------------------------------------------------------------------------------


def _shown(request: HttpRequest) -> tuple[str, Any]:
    show = request.GET.get("show", "open")
    tips = tips_visible(request.user)
    if show == "open":
        return show, tips.filter(status__in=OPEN_STATUSES)
    if show == "closed":
        return show, tips.filter(status__in=CLOSED_STATUSES)
    return "all", tips


@login_required
def tip_list(request: HttpRequest) -> HttpResponse:
    show, tips = _shown(request)
    page = Paginator(tips_open_first(tips), 50).get_page(request.GET.get("page"))
    return render(request, "tips/list.html", {
        "page": page, "show": show,
        "may_enter": not jurisdiction_for(request.user, roles=ACTING_ON_FOLLOWUPS).is_empty,
    })


@login_required
def tip_export(request: HttpRequest) -> HttpResponse:
    """线索台账: the tips of the list being looked at, as a spreadsheet."""
    show, tips = _shown(request)
    response = HttpResponse(content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    write_tips(response, request.user, tips)
    name = f"线索台账-{timezone.localdate():%Y%m%d}.xlsx"
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response


@login_required
@forbidden_is_missing
def tip_new(request: HttpRequest) -> HttpResponse:
    """A tip that came to the officer by phone, WeChat or in person."""
    places = tip_places(request.user)
    if not places:
        raise PermissionDenied("holds no compound")
    form = OfficerTipForm(request.POST or None, request.FILES or None, places=places,
                          initial={"area": request.GET.get("area", "")})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        photo = None
        try:
            photo = image_clean(data["photo"]) if data.get("photo") else None
        except ImageError as exc:
            form.add_error("photo", str(exc))
        if not form.errors:
            try:
                received = tip_receive(
                    TipIn(area=form.places[data["area"]], content=data["content"], category=data["category"],
                          place=data["place"], plate=data["plate"], contact_phone=data["contact_phone"],
                          photo=photo),
                    source=data["source"], entered_by=request.user)  # type: ignore[arg-type]
            except TipError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                said = " ".join(fired_in_words(received.fired))
                messages.success(request, _("Tip %(code)s recorded. %(said)s")
                                 % {"code": tracking_code_shown(received.tip.tracking_code), "said": said})
                return redirect("tip", pk=received.tip.pk)
    return render(request, "tips/new.html", {"form": form}, status=422 if form.is_bound else 200)


def _vehicle_answer(user: Any, plate: str) -> dict[str, Any] | None:
    """The registry's answer about a tip's plate, before anyone walks."""
    if not plate:
        return None
    try:
        return {"record": vehicle_record(user, plate), "plate": parse_plate(plate)}
    except Http404:
        return {"record": None, "plate": parse_plate(plate)}
    except IdentifierError:
        return None


@login_required
def tip_detail(request: HttpRequest, pk: int, close_form: CloseForm | None = None) -> HttpResponse:
    tip = access_tip(request.user, pk)
    page = tip_page(request.user, tip)
    acts = may_verify(request.user, tip, page.followup)  # type: ignore[arg-type]
    return render(request, "tips/detail.html", {
        "p": page, "tip": tip, "code_shown": tracking_code_shown(tip.tracking_code),
        "vehicle": _vehicle_answer(request.user, tip.plate),
        "may_act": acts, "close_form": close_form or (CloseForm() if acts and tip.is_open else None),
        "may_publish": acts and not tip.is_open and tip.notice_id is None,
    }, status=422 if close_form is not None else 200)


@login_required
@require_POST
@forbidden_is_missing
def tip_verify_view(request: HttpRequest, pk: int) -> HttpResponse:
    tip = access_tip(request.user, pk)
    if tip_verify_start(tip=tip, actor=request.user):  # type: ignore[arg-type]
        messages.success(request, _("Verification started: the reporter's page says so."))
    else:
        messages.info(request, _("This tip was already being verified."))
    return redirect("tip", pk=tip.pk)


@login_required
@require_POST
@forbidden_is_missing
def tip_close_view(request: HttpRequest, pk: int) -> HttpResponse:
    tip = access_tip(request.user, pk)
    form = CloseForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            notice = tip_close(tip=tip, actor=request.user, status=data["status"],  # type: ignore[arg-type]
                               outcome=data["outcome"], publish=data["publish"],
                               notice_title=data["notice_title"])
        except TipError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            if notice is None:
                messages.success(request, _("Tip closed. The reporter's page shows the outcome."))
            elif notice.published_at is not None:
                messages.success(request, _("Tip closed. The outcome is on the reporter's page and published to the compound's residents."))
            else:
                messages.success(request, _("Tip closed. The outcome is on the reporter's page; the notice to residents waits for approval."))
            return redirect("tip", pk=tip.pk)
    return tip_detail(request, pk, close_form=form)


@login_required
@require_POST
@forbidden_is_missing
def tip_publish_view(request: HttpRequest, pk: int) -> HttpResponse:
    tip = access_tip(request.user, pk)
    try:
        tip_publish(tip=tip, actor=request.user, title=request.POST.get("notice_title", ""))  # type: ignore[arg-type]
    except TipError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The outcome is published to the compound's residents."))
    return redirect("tip", pk=tip.pk)


@login_required
def tip_photo(request: HttpRequest, pk: int) -> FileResponse:
    """The tip's photo, to officers who may see the tip (never public)."""
    tip = access_tip(request.user, pk)
    if not tip.photo:
        raise Http404("no photo")
    response = FileResponse(image_open(tip.photo), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response

