"""Reads for notices and wardens' cards.

Officers' reads start from the jurisdiction (`access.jurisdiction`): a warden sees the notices
of the compounds and buildings they hold — the compound as a whole too, when they hold some of
its buildings — and the published notices of the areas above them (a district's notice, to
paste into their residents' WeChat group). The public reads show only what officers chose to
publish: published notices, published cards, nothing from a user account.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.http import Http404

from louzhang.access.holders import (
    Holder,
    compound_wardens,
    holders_over,
    holders_within,
    lead_warden_id,
)
from louzhang.access.jurisdiction import jurisdiction_for
from louzhang.access.roles import COMMANDING, PUBLISHING
from louzhang.accounts.models import Role, User
from louzhang.areas.models import Area, Level
from louzhang.core.paths import AreaPath
from louzhang.notices.models import Notice, WardenCard
from louzhang.notices.services import notice_about, notice_public_path
from louzhang.notifications.models import Delivery
from louzhang.notifications.services import absolute_link, scrub

#: the levels that have a public page (and a poster): 小区 and 楼
PUBLIC_LEVELS = (Level.COMPOUND, Level.BUILDING)
#: newest notices shown on a public page
PUBLIC_NOTICES = 30


# --- officers ------------------------------------------------------------------------------------


def notices_visible(user: Any) -> QuerySet[Notice]:
    """Notices of the user's jurisdiction as a warden or commander — with the compounds a
    building's warden reaches —, and the published notices of the areas above it."""
    jurisdiction = jurisdiction_for(user, roles=PUBLISHING)
    if jurisdiction.is_empty:
        return Notice.objects.none()
    where = jurisdiction.q_in_reach("area__path", Level.COMPOUND)
    above = {a for p in jurisdiction.paths for a in AreaPath(p).ancestors()}
    if above:
        where |= Q(area__path__in=above, state=Notice.State.PUBLISHED)
    return Notice.objects.filter(where)


def notices_listed(user: Any) -> QuerySet[Notice]:
    """`notices_visible`, newest first; for a commander those waiting for their approval
    first (written by somebody else, in an area they command)."""
    notices = notices_visible(user).select_related("area", "author")
    commanding = jurisdiction_for(user, roles=COMMANDING)
    if commanding.is_empty:
        return notices.order_by("-created_at", "-pk")
    awaiting = Q(state=Notice.State.PENDING) & commanding.q("area__path") & ~Q(author=user)
    return notices.annotate(
        awaits_me=Case(When(awaiting, then=Value(0)), default=Value(1), output_field=IntegerField()),
    ).order_by("awaits_me", "-created_at", "-pk")


def notices_awaiting(user: Any) -> int:
    """How many notices wait for this commander's approval."""
    commanding = jurisdiction_for(user, roles=COMMANDING)
    if commanding.is_empty:
        return 0
    return (Notice.objects.filter(commanding.q("area__path"), state=Notice.State.PENDING)
            .exclude(author=user).count())


def access_notice(user: Any, pk: int) -> Notice:
    """The notice if the user may see it; 404 for missing and forbidden alike."""
    notice = notices_visible(user).select_related("area", "author", "decided_by", "withdrawn_by").filter(pk=pk).first()
    if notice is None:
        raise Http404("no such notice")
    return notice


def notice_deliveries(notice: Notice) -> list[Delivery]:
    """The notice's deliveries to group chats, one per channel: state, attempts, last error."""
    return list(Delivery.objects.filter(about=notice_about(notice)).select_related("channel")
                .order_by("channel__name", "pk"))


@dataclass(frozen=True)
class Share:
    """A notice ready to paste into a residents' WeChat group of one place (no robot there)."""

    place: Area
    link: str
    text: str


def share_text(notice: Notice, link: str) -> str:
    """【title】, the text and the public address, scrubbed of personal numbers like every
    message for a group chat."""
    return scrub(f"【{notice.title}】\n{notice.body}\n{link}".rstrip())


def notice_shares(user: Any, notice: Notice, *, limit: int = 10) -> list[Share]:
    """Where this user pastes the notice: its own compound or building; for a notice of a
    wider area, each compound the user holds as a warden within it."""
    if notice.state != Notice.State.PUBLISHED:
        return []
    if notice.area.level in PUBLIC_LEVELS:
        places = [notice.area]
    else:
        wardens = jurisdiction_for(user, roles=(Role.WARDEN,))
        compounds = {AreaPath(p).ancestor(Level.COMPOUND) for p in wardens.paths
                     if AreaPath(p).depth >= Level.COMPOUND and AreaPath(notice.area.path).contains(p)}
        places = list(Area.objects.filter(path__in=compounds).order_by("path")[:limit]) if compounds else []
    shares = []
    for place in places:
        link = absolute_link(notice_public_path(notice, place))
        shares.append(Share(place, link, share_text(notice, link)))
    return shares


def publishable_areas(user: Any, *, limit: int = 200) -> list[Area]:
    """The compounds (and their buildings) a warden writes notices for, compounds first: those
    they hold in whole or in part, and the buildings they hold."""
    wardens = jurisdiction_for(user, roles=(Role.WARDEN,))
    exact: set[str] = set()
    wide = Q(pk__in=[])
    for granted in wardens.paths:
        path = AreaPath(granted)
        if path.depth >= Level.COMPOUND:
            exact.add(path.ancestor(Level.COMPOUND))
        if path.depth >= Level.BUILDING:
            exact.add(path.ancestor(Level.BUILDING))
        if path.depth < Level.COMPOUND:
            wide |= Q(path__subtree=path, level=Level.COMPOUND)
    areas = Area.objects.filter(Q(path__in=exact) | wide) if exact or wardens.paths else Area.objects.none()
    return sorted(areas[:limit], key=lambda a: (AreaPath(a.path).ancestor(Level.COMPOUND), a.level, a.ordinal, a.code))


def commanded_areas(user: Any, *, limit: int = 100) -> list[Area]:
    """Suggestions for a commander's area: where their jurisdiction starts and one level down."""
    commanding = jurisdiction_for(user, roles=COMMANDING)
    if commanding.everything:
        roots = list(Area.objects.filter(parent__isnull=True).order_by("code"))
    else:
        roots = list(Area.objects.filter(path__in=commanding.paths).order_by("path"))
    children = list(Area.objects.filter(parent__in=roots).order_by("parent_id", "ordinal", "code")[:limit]) if roots else []
    return [*roots, *children][:limit]


def area_by_code(code: str) -> Area | None:
    return Area.objects.filter(code=code.strip()).first() if code.strip() else None


# --- cards ---------------------------------------------------------------------------------------


def card_of(user: User) -> WardenCard:
    """The officer's card; on the first visit a new one, filled in from the account (name,
    phone, police unit) and not shown to anybody until they publish it."""
    card = WardenCard.objects.filter(user=user).first()
    if card is not None:
        return card
    unit = user.police_unit.name if user.police_unit_id and user.police_unit else ""
    return WardenCard(user=user, display_name=(user.display_name or user.username)[:30],
                      duty_phone=user.phone[:20], unit_name=unit[:60], published=False)


def card_photo_path(pk: int) -> str | None:
    """The stored photo of a published card; None for any other."""
    photo = (WardenCard.objects.filter(pk=pk, published=True, user__is_active=True)
             .exclude(photo="").values_list("photo", flat=True).first())
    return photo or None


# --- the public pages ----------------------------------------------------------------------------


def public_place(code: str) -> Area | None:
    """The compound or building with this code; None for any other code or level."""
    return Area.objects.filter(code=code, level__in=PUBLIC_LEVELS).select_related("parent").first()


def place_wardens(area: Area) -> list[Holder]:
    """The wardens residents of `area` turn to: of a compound, every warden of it (granted it
    or a part of it); of a building, its own wardens (granted it or a part of it), else the
    compound's."""
    if area.level == Level.COMPOUND:
        return compound_wardens(area)
    building = AreaPath(area.path)
    own = [h for h in holders_within(area, [Role.WARDEN])
           if h.holding.by_area and building.contains(h.holding.path)]
    if own:
        return own
    return [h for h in holders_over(area, [Role.WARDEN])
            if h.holding.by_area and h.level == Level.COMPOUND]


def public_cards(area: Area) -> list[WardenCard]:
    """The published cards of the wardens of `area`, the compound's lead warden first."""
    wardens = place_wardens(area)
    ids = {h.user.pk for h in wardens}
    if not ids:
        return []
    lead = lead_warden_id(area)
    cards = WardenCard.objects.filter(user_id__in=ids, published=True, user__is_active=True)
    return sorted(cards, key=lambda c: (c.user_id != lead, c.display_name, c.pk))


def public_notices(area: Area, *, limit: int = PUBLIC_NOTICES) -> list[Notice]:
    """Published notices of `area` and of the areas above it, newest first."""
    paths = [*AreaPath(area.path).ancestors(), area.path]
    return list(Notice.objects.filter(state=Notice.State.PUBLISHED, area__path__in=paths)
                .select_related("area").order_by("-published_at", "-pk")[:limit])


def public_notice(area: Area, pk: int) -> Notice | None:
    """One published notice that residents of `area` see on its page."""
    paths = [*AreaPath(area.path).ancestors(), area.path]
    return (Notice.objects.filter(pk=pk, state=Notice.State.PUBLISHED, area__path__in=paths)
            .select_related("area").first())


def compound_of(area: Area) -> Area:
    """The compound of a building (the area itself for a compound)."""
    if area.level == Level.BUILDING and area.parent is not None:
        return area.parent
    return area
