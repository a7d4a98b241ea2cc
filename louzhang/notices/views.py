"""Notice pages for officers (list, write, one notice with its deliveries, the text to paste and
the QR code), the officer's card, the stairwell poster, and the public pages of a compound or a
building — no log-in, rate-limited per address, in Chinese.

Thin: access → form → service → redirect. Capabilities (`access.roles`) decide which buttons a
page shows; the services ask them again before they act.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from louzhang.access.roles import (
    commands_anywhere,
    may_approve_notice,
    may_print_poster,
    may_withdraw_notice,
    publishes_anywhere,
)
from louzhang.accounts.models import User
from louzhang.areas.models import Level
from louzhang.core.images import ImageError, image_open
from louzhang.core.public import PAGE_RATE, Rate, page_limited, public_page
from louzhang.core.views import forbidden_is_missing
from louzhang.notices.forms import NOT_YOURS, CardForm, DecideForm, NoticeForm
from louzhang.notices.models import Notice
from louzhang.notices.selectors import (
    access_notice,
    area_by_code,
    card_of,
    card_photo_path,
    compound_of,
    notice_deliveries,
    notice_shares,
    notices_awaiting,
    notices_listed,
    public_cards,
    public_notice,
    public_notices,
    public_place,
    publishable_areas,
)
from louzhang.notices.services import (
    NoticeError,
    card_save,
    notice_decide,
    notice_publish,
    notice_withdraw,
)
from louzhang.notifications.services import absolute_link


def qr_svg(text: str, *, scale: int = 4) -> str:
    """A QR code of `text` as inline SVG: always a full QR code (phones' scanners do not read
    Micro QR), with its quiet zone; `scale` 0 for one that fills its box (posters)."""
    import segno

    code = segno.make_qr(text, error="m")
    if scale == 0:
        return str(code.svg_inline(scale=1, border=4, omitsize=True))
    return str(code.svg_inline(scale=scale, border=4))


def _officer(request: HttpRequest) -> User:
    if not publishes_anywhere(request.user):
        raise Http404("notices are written by wardens and commanders")
    assert isinstance(request.user, User)
    return request.user


# --- officers: notices ---------------------------------------------------------------------------


@login_required
def notice_list(request: HttpRequest) -> HttpResponse:
    """通知: the notices of the user's area, those waiting for their approval first."""
    user = _officer(request)
    page = Paginator(notices_listed(user), 50).get_page(request.GET.get("page"))
    return render(request, "notices/list.html", {
        "page": page, "awaiting": notices_awaiting(user), "commands": commands_anywhere(user),
        "places": [a for a in publishable_areas(user) if a.level == Level.COMPOUND][:20],
    })


@login_required
@forbidden_is_missing
def notice_new(request: HttpRequest) -> HttpResponse:
    """Write a notice; after a refusal the page comes back with what was typed and why (422)."""
    user = _officer(request)
    initial = {"area": request.GET.get("area", "")}
    form = NoticeForm(request.POST or None, user=user, initial=initial)
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            assert form.area_obj is not None
            try:
                notice = notice_publish(actor=user, area=form.area_obj, kind=data["kind"],
                                        title=data["title"], body=data["body"])
            except NoticeError as exc:
                form.add_error(None, str(exc))
            except PermissionDenied:
                form.add_error("area", NOT_YOURS)
            else:
                _tell_published(request, notice)
                return redirect("notice", pk=notice.pk)
        return render(request, "notices/new.html", {"form": form}, status=422)
    return render(request, "notices/new.html", {"form": form})


def _tell_published(request: HttpRequest, notice: Notice) -> None:
    """What was done, and only that."""
    if notice.state == Notice.State.PENDING:
        messages.info(request, _("Saved. A second commander must approve it: nothing is published or sent yet."))
        return
    groups = len(notice_deliveries(notice))
    if groups:
        messages.success(request, _("Published on the public page; queued for %(n)s residents' group chat(s).") % {"n": groups})
    else:
        messages.success(request, _("Published on the public page. No residents' group chat with a robot is bound here: paste the text below into the WeChat groups."))


@login_required
def notice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, access_notice(_officer(request), pk))


def _detail(request: HttpRequest, notice: Notice, *, decide_form: DecideForm | None = None,
            status: int = 200) -> HttpResponse:
    user = request.user
    path = notice.area.path
    pending = notice.state == Notice.State.PENDING
    can_decide = pending and may_approve_notice(user, path, notice.author_id)
    shares = [(share, qr_svg(share.link, scale=0)) for share in notice_shares(user, notice)]
    return render(request, "notices/detail.html", {
        "n": notice, "deliveries": notice_deliveries(notice), "shares": shares,
        "can_decide": can_decide, "decide_form": decide_form or (DecideForm() if can_decide else None),
        "waits_for_other": pending and notice.author_id == user.pk,
        "can_withdraw": notice.state in (Notice.State.PUBLISHED, Notice.State.PENDING)
        and may_withdraw_notice(user, path, notice.area.level, notice.author_id),
    }, status=status)


@require_POST
@login_required
@forbidden_is_missing
def notice_decide_view(request: HttpRequest, pk: int) -> HttpResponse:
    notice = access_notice(_officer(request), pk)
    form = DecideForm(request.POST)
    if not form.is_valid():
        return _detail(request, notice, decide_form=form, status=422)
    try:
        decided = notice_decide(notice=notice, actor=_officer(request), approve=form.approve,
                                note=form.cleaned_data["note"])
    except NoticeError as exc:
        form.add_error(None, str(exc))
        return _detail(request, notice, decide_form=form, status=422)
    if not decided:
        messages.info(request, _("Somebody decided on this notice before you; nothing changed."))
    elif form.approve:
        groups = len(notice_deliveries(notice))
        messages.success(request, _("Approved and published; queued for %(n)s residents' group chat(s).") % {"n": groups})
    else:
        messages.success(request, _("Refused: the notice is not published."))
    return redirect("notice", pk=pk)


@require_POST
@login_required
@forbidden_is_missing
def notice_withdraw_view(request: HttpRequest, pk: int) -> HttpResponse:
    notice = access_notice(_officer(request), pk)
    if notice_withdraw(notice=notice, actor=_officer(request)):
        messages.success(request, _("Withdrawn: the notice is off the public pages. Messages already sent to group chats stay there."))
    else:
        messages.info(request, _("The notice was not published any more; nothing changed."))
    return redirect("notice", pk=pk)


# --- officers: the card and the poster -----------------------------------------------------------


@login_required
@forbidden_is_missing
def card_edit(request: HttpRequest) -> HttpResponse:
    """我的名片: the officer's card as residents see it, and the form to change it."""
    user = _officer(request)
    card = card_of(user)
    initial = {f: getattr(card, f) for f in ("display_name", "title", "badge_number", "unit_name",
                                              "duty_phone", "motto", "published")}
    form = CardForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                card = card_save(actor=user, text=form.text(), published=data["published"],
                                 photo=data["photo"], remove_photo=data["remove_photo"])
            except ImageError as exc:
                form.add_error("photo", str(exc))
            except NoticeError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Saved. Residents see your card on the pages of your compounds.")
                                 if card.published else _("Saved. The card is not shown to residents."))
                return redirect("my-card")
        status = 422
    else:
        status = 200
    places = [a for a in publishable_areas(user) if a.level == Level.COMPOUND][:20]
    return render(request, "notices/card.html", {"form": form, "card": card, "places": places},
                  status=status)


@login_required
def my_card_photo(request: HttpRequest) -> HttpResponse:
    """The officer's own photo, shown or not (for the preview on their card's page)."""
    card = card_of(_officer(request))
    if not card.pk or not card.photo:
        raise Http404("no photo")
    try:
        return _jpeg(card.photo)
    except OSError:
        raise Http404("no photo") from None


@login_required
def area_poster(request: HttpRequest, code: str) -> HttpResponse:
    """楼长公示: the A4 stairwell poster of a compound or a building — the wardens' cards and a
    large QR code of the public page."""
    area = area_by_code(code)
    if area is None or not may_print_poster(request.user, area.path, area.level):
        raise Http404("no such compound or building in your jurisdiction")
    link = absolute_link(reverse("public-area", args=[area.code]))
    return render(request, "notices/poster.html", {
        "place": area, "compound": compound_of(area), "cards": public_cards(area), "link": link,
        "qr": qr_svg(link, scale=0),
    })


# --- the public pages ----------------------------------------------------------------------------

#: card photos: a page shows several
PHOTO_RATE = Rate(600, 60)


def _missing(request: HttpRequest) -> HttpResponse:
    return render(request, "notices/public_missing.html", status=404)


@require_safe
@public_page
def public_area(request: HttpRequest, code: str) -> HttpResponse:
    """The public page of a compound or a building: its wardens' cards, the notices, and the
    ways to report something and to follow a report."""
    limited = page_limited(request, "public-page", PAGE_RATE)
    if limited:
        return limited
    place = public_place(code)
    if place is None:
        return _missing(request)
    return render(request, "notices/public_area.html", {
        "place": place, "compound": compound_of(place), "cards": public_cards(place),
        "notices": public_notices(place),
    })


@require_safe
@public_page
def public_notice_page(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    """One notice as residents of a compound or building open it from a group chat."""
    limited = page_limited(request, "public-page", PAGE_RATE)
    if limited:
        return limited
    place = public_place(code)
    notice = public_notice(place, pk) if place is not None else None
    if place is None or notice is None:
        return _missing(request)
    return render(request, "notices/public_notice.html", {
        "place": place, "compound": compound_of(place), "n": notice,
    })


@require_safe
@public_page
def card_photo(request: HttpRequest, pk: int) -> HttpResponse:
    """A published card's photo (a plain JPEG without metadata); nothing for any other card."""
    limited = page_limited(request, "public-photo", PHOTO_RATE)
    if limited:
        return limited
    path = card_photo_path(pk)
    if path is None:
        return _missing(request)
    try:
        return _jpeg(path)
    except OSError:
        return _missing(request)


def _jpeg(path: str) -> HttpResponse:
    """A card's photo: a small JPEG (600 pixels at most), read whole."""
    with image_open(path) as data:
        return HttpResponse(data.read(), content_type="image/jpeg")
