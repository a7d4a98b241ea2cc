"""Writes for break-the-glass: making a look-up (searching the city, recording, auditing,
reporting) and ending one early. See the package docstring for the rule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from louzhang.access.jurisdiction import jurisdiction_for, scope
from louzhang.accounts.models import Role, User
from louzhang.areas.models import Area, Level
from louzhang.audit.models import AuditEvent
from louzhang.audit.services import audit_record
from louzhang.breakglass.models import LookUp, Opened
from louzhang.breakglass.selectors import address
from louzhang.core.paths import AreaPath
from louzhang.core.personal import Kind as Personal
from louzhang.core.personal import mask
from louzhang.identifiers import IdentifierError
from louzhang.identifiers.id_numbers import parse_id_number
from louzhang.identifiers.plates import parse_plate
from louzhang.notifications.services import alert_raise
from louzhang.registry.models import Resident, Vehicle
from louzhang.registry.selectors import vehicle_registered_for

#: who may break the glass: police officers (wardens, commanders, checkpoint officers); gate
#: staff, unit representatives (volunteers) and health liaisons may not
BREAKING_GLASS = (Role.WARDEN, Role.COMMANDER, Role.CHECKPOINT)
#: the reason must be a sentence in the officer's own words, not a token
REASON_MIN_CHARS = 8
REASON_MIN_DISTINCT = 4


def look_up_minutes() -> int:
    """How long a look-up stays open: `LOUZHANG_BREAK_GLASS_MINUTES` (settings: at least 1)."""
    return int(settings.LOUZHANG_BREAK_GLASS_MINUTES)


#: the window the per-officer cap counts in (a sliding window: no burst across midnight)
PER_DAY_WINDOW = timedelta(hours=24)


def look_ups_per_day() -> int:
    """How many look-ups an officer may make in 24 hours: `LOUZHANG_BREAK_GLASS_PER_DAY`
    (default 10). Plates can be guessed, and each look-up alerts commanders' group chats."""
    return int(settings.LOUZHANG_BREAK_GLASS_PER_DAY)


class LookUpError(Exception):
    """A look-up that cannot be made as asked; `field` is the form field to blame (None: the
    form as a whole)."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Typed:
    """An exact ID number or plate, normalised."""

    kind: str
    value: str


def typed(query: str) -> Typed | None:
    """The ID number or plate `query` is (any common spelling), else None: a name or a phone is
    not looked up outside the jurisdiction."""
    query = query.strip()
    if not query:
        return None
    try:
        return Typed(LookUp.Kind.PLATE, parse_plate(query).plate)
    except IdentifierError:
        pass
    try:
        return Typed(LookUp.Kind.ID_NUMBER, parse_id_number(query).number)
    except IdentifierError:
        return None


def may_break_glass(user: Any) -> bool:
    """An officer (`BREAKING_GLASS`) with a jurisdiction short of everything."""
    held = jurisdiction_for(user, roles=BREAKING_GLASS)
    return not held.everything and not held.is_empty


def cities_of(user: Any) -> list[Area]:
    """The cities the user's officer grants lie in: where a look-up searches."""
    held = jurisdiction_for(user, roles=BREAKING_GLASS)
    paths = {AreaPath(p).ancestor(Level.CITY) for p in held.paths}
    return list(Area.objects.filter(path__in=paths).order_by("path"))


def found_within(user: Any, what: Typed) -> bool:
    """The ID number or plate is in the user's own jurisdiction: search as usual."""
    if what.kind == LookUp.Kind.PLATE:
        return vehicle_registered_for(user, parse_plate(what.value))
    return scope(Resident.objects.filter(id_number=what.value), user).exists()


def reason_checked(reason: str) -> str:
    """The reason, stripped, if it is at least a short sentence; `LookUpError` otherwise."""
    text = " ".join(reason.split())
    if len(text.replace(" ", "")) < REASON_MIN_CHARS or len(set(text) - {" "}) < REASON_MIN_DISTINCT:
        raise LookUpError("reason", _("Say in a sentence, in your own words, why you need this record."))
    return text[:500]


def _within_the_cap(actor: Any, now: Any) -> None:
    """`LookUpError` when the actor has made `look_ups_per_day()` look-ups in the last 24 hours.
    Called inside the look-up's transaction after locking the actor's row, so two look-ups
    posted at once are counted one after the other (PostgreSQL; SQLite writes one at a time)."""
    list(User.objects.select_for_update().filter(pk=actor.pk).values_list("pk", flat=True))
    since = now - PER_DAY_WINDOW
    made = list(LookUp.objects.filter(user_id=actor.pk, created_at__gt=since)
                .order_by("-created_at").values_list("created_at", flat=True)[:look_ups_per_day()])
    if len(made) >= look_ups_per_day():
        at = timezone.localtime(made[-1] + PER_DAY_WINDOW).strftime("%Y-%m-%d %H:%M")
        raise LookUpError(None, _("You have made %(count)d look-ups outside your jurisdiction in the last "
                                  "24 hours, as many as allowed. The next is possible at %(at)s.")
                          % {"count": len(made), "at": at})


def look_up_create(*, actor: Any, query: str, reason: str) -> LookUp:
    """Look up an exact ID number or plate across the actor's city, for `reason`.

    Every household with a resident of that ID number, or the registered car with that plate,
    is opened to the actor (read-only, masked, on the look-up's page) until now +
    `look_up_minutes()`. Recorded, audited once per area opened (the city when nothing was
    found) and reported to every commander over each area opened (to the city's commanders
    when nothing was found), in their inbox and the channels serving commanders there.
    `PermissionDenied` for a user who may not break the glass; `LookUpError` for a query
    that is not an ID number or a plate, one found in the actor's own jurisdiction, or a
    reason that is not a sentence, or an actor who has made `look_ups_per_day()` look-ups in
    the last 24 hours."""
    if not may_break_glass(actor):
        raise PermissionDenied("only officers look up records outside their jurisdiction")
    what = typed(query)
    if what is None:
        raise LookUpError("query", _("Type an ID number or a plate, exactly."))
    text = reason_checked(reason)
    if found_within(actor, what):
        raise LookUpError("query", _("%(query)s is in your jurisdiction: search for it as usual.")
                          % {"query": what.value})
    cities = cities_of(actor)
    households: list[Area] = []
    vehicles: list[Vehicle] = []
    if what.kind == LookUp.Kind.ID_NUMBER:
        paths = {AreaPath(c.path) for c in cities}
        households = [r.household for r in Resident.objects.filter(id_number=what.value)
                      .select_related("household") if any(p.contains(r.household.path) for p in paths)]
    else:
        vehicles = [v for v in Vehicle.objects.filter(plate=what.value).select_related("compound")
                    if any(AreaPath(c.path).contains(v.compound.path) for c in cities)]
    now = timezone.now()
    found_paths = [h.path for h in households] + [v.compound.path for v in vehicles]
    city = next((c for c in cities for p in found_paths if AreaPath(c.path).contains(p)), cities[0])
    with transaction.atomic():
        _within_the_cap(actor, now)
        look_up = LookUp.objects.create(
            user=actor, kind=what.kind, reason=text, city=city, created_at=now,
            until=now + timedelta(minutes=look_up_minutes()),
            id_number=what.value if what.kind == LookUp.Kind.ID_NUMBER else "",
            plate=what.value if what.kind == LookUp.Kind.PLATE else "")
        opened = Opened.objects.bulk_create(
            [Opened(look_up=look_up, household=h, area_path=h.path) for h in households]
            + [Opened(look_up=look_up, vehicle=v, plate=v.plate, area_path=v.compound.path) for v in vehicles])
        places: list[tuple[Area, str]] = [(h, address(h)) for h in households] + [
            (v.compound, _("the car %(plate)s of %(compound)s") % {"plate": v.plate, "compound": address(v.compound)})
            for v in vehicles]
        for area, what_opened in places or [(city, "")]:
            audit_record(actor=actor, action=AuditEvent.Action.CREATE, object_type="breakglass.lookup",
                         object_id=look_up.pk, area_path=area.path,
                         summary=f"look-up outside the jurisdiction: {what_opened or 'nothing found'}"[:300],
                         detail={"kind": what.kind, "query": shown_query(look_up), "reason": text,
                                 "until": look_up.until.isoformat(),
                                 "opened": [o.area_path for o in opened]})
            _report(look_up, area, what_opened)
    return look_up


def shown_query(look_up: LookUp) -> str:
    """What was typed, as a commander may read it: an ID number masked, a plate in full."""
    if look_up.kind == LookUp.Kind.ID_NUMBER:
        return mask(Personal.ID_NUMBER, look_up.id_number)
    return look_up.plate


def _report(look_up: LookUp, area: Area, what_opened: str) -> None:
    """Tell the commanders over `area` who looked up what, why, and until when."""
    officer = look_up.user
    until = timezone.localtime(look_up.until).strftime("%Y-%m-%d %H:%M")
    values = {"officer": officer.display_name or officer.username, "query": shown_query(look_up),
              "city": look_up.city.name, "what": what_opened, "until": until, "reason": look_up.reason}
    if what_opened:
        title = _("Look-up outside the jurisdiction: %(officer)s opened %(what)s") % values
        text = _("%(officer)s looked up %(query)s across %(city)s and may read %(what)s (masked) "
                 "until %(until)s. Reason: %(reason)s") % values
    else:
        title = _("Look-up outside the jurisdiction: %(officer)s found nothing") % values
        text = _("%(officer)s looked up %(query)s across %(city)s and found nothing. "
                 "Reason: %(reason)s") % values
    alert_raise(area=area, roles=[Role.COMMANDER], title=title, text=text,
                link=reverse("look-up", args=[look_up.pk]))


def look_up_end(*, actor: Any, look_up: LookUp) -> bool:
    """End the actor's own open look-up now; False when it had ended already. Audited."""
    if look_up.user_id != getattr(actor, "pk", None):
        raise PermissionDenied("a look-up is ended by the officer who made it")
    now = timezone.now()
    with transaction.atomic():
        ended = LookUp.objects.filter(pk=look_up.pk, ended_at__isnull=True, until__gt=now).update(ended_at=now)
        if ended:
            look_up.ended_at = now
            paths = sorted(set(look_up.opened.values_list("area_path", flat=True))) or [look_up.city.path]
            for path in paths:
                audit_record(actor=actor, action=AuditEvent.Action.CHANGE, object_type="breakglass.lookup",
                             object_id=look_up.pk, area_path=path,
                             summary="look-up outside the jurisdiction ended early")
    return bool(ended)
