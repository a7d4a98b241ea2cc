"""Reassignment (下沉): an officer attached to another police station — or to one community of
it — for a period, with the access that goes with it starting and ending on time.

The seed: office staff were reassigned to stations and communities. A commander over both the
officer's own unit and the station they go to (a branch over two of its stations, the city
over anything) makes the reassignment; it comes with a grant holding exactly from its start to
its end (`accounts.models.Grant.starts_at`/`ends_at`), so the officer sees the station's
communities — pages, API, follow-ups — for those days and no longer, without anybody having to
remember to take it back. Cancelling ends it, and its grant, now. Both stations' commanders
see it: as coming in at the station it goes to, as going out at the officer's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from louzhang.accounts.models import Grant, Role
from louzhang.accounts.services import forget_grants
from louzhang.areas.models import Area, PoliceUnit
from louzhang.audit.models import AuditEvent
from louzhang.audit.services import audit_record
from louzhang.duty.models import Officer, Reassignment
from louzhang.duty.selectors import units_commanded


class ReassignmentError(Exception):
    """A reassignment that cannot be made or ended as asked; the message says why.

    An actor who may not make it at all gets `PermissionDenied` instead (a page answers it as
    "not found")."""


# --- who commands a police unit -------------------------------------------------------------


def unit_paths(unit: PoliceUnit) -> list[str]:
    """The area paths a unit answers for: a station its communities (its beat), any other
    unit its area (`PoliceUnit.jurisdiction_areas`)."""
    return sorted(area.path for area in unit.jurisdiction_areas())



def may_command_unit(user: Any, unit: PoliceUnit) -> bool:
    """A commander of everything the unit answers for (`duty.selectors.units_commanded`: one
    rule for the officers' pages, rosters and reassignments)."""
    return unit.pk in units_commanded(user)


def commanded_units(user: Any) -> list[PoliceUnit]:
    """The police units `user` commands, by code."""
    ids = list(units_commanded(user))
    if not ids:
        return []
    return list(PoliceUnit.objects.select_related("area").filter(pk__in=ids).order_by("code"))


def access_unit(user: Any, code: str) -> PoliceUnit:
    """The unit with this code, if `user` commands it; "not found" otherwise, as for one
    that does not exist."""
    unit = PoliceUnit.objects.select_related("area").filter(code=code).first()
    if unit is None or not may_command_unit(user, unit):
        raise Http404("no such police unit")
    return unit


# --- reads ----------------------------------------------------------------------------------


def _listed() -> QuerySet[Reassignment]:
    return Reassignment.objects.select_related(
        "officer__unit", "to_unit", "to_area", "created_by").order_by("-starts_at", "-pk")


def reassignments_seen(user: Any) -> QuerySet[Reassignment]:
    """Reassignments into or out of a unit `user` commands, latest start first."""
    units = [unit.pk for unit in commanded_units(user)]
    return _listed().filter(Q(to_unit__in=units) | Q(officer__unit__in=units))


@dataclass(frozen=True)
class UnitReassignments:
    unit: PoliceUnit
    #: officers of other units reassigned to this station
    coming_in: list[Reassignment]
    #: officers of this unit reassigned elsewhere
    going_out: list[Reassignment]


def unit_reassignments(unit: PoliceUnit) -> UnitReassignments:
    """Both directions at one unit, latest start first (the caller has checked access)."""
    both = list(_listed().filter(Q(to_unit=unit) | Q(officer__unit=unit)))
    return UnitReassignments(unit, [r for r in both if r.to_unit_id == unit.pk],
                             [r for r in both if r.officer.unit_id == unit.pk])


def access_reassignment(user: Any, pk: int) -> Reassignment:
    """A reassignment seen by `user` (a commander of either unit), else "not found"."""
    found = _listed().filter(pk=pk).first()
    if found is None or not (may_command_unit(user, found.to_unit)
                             or may_command_unit(user, found.officer.unit)):
        raise Http404("no such reassignment")
    return found


def reassignment_state(reassignment: Reassignment, now: datetime | None = None) -> str:
    """"cancelled", "upcoming", "current" or "ended" at `now`."""
    now = now or timezone.now()
    if reassignment.cancelled_at is not None:
        return "cancelled"
    if now < reassignment.starts_at:
        return "upcoming"
    return "current" if now < reassignment.ends_at else "ended"


def officers_of(units: list[PoliceUnit]) -> QuerySet[Officer]:
    """The officers of these units, by name."""
    return Officer.objects.filter(unit__in=units).select_related("unit", "user").order_by("name", "pk")


def role_for(officer: Officer) -> str:
    """The role an officer holds where they are reassigned: a station's head (所长, 教导员 …)
    commands there, anybody else works as a warden (楼长)."""
    heads = ("所长", "教导员", "指导员")
    return Role.COMMANDER if any(word in officer.post for word in heads) else Role.WARDEN


# --- writes ---------------------------------------------------------------------------------


def _audit_path(to_unit: PoliceUnit, to_area: Area | None) -> str:
    """Where the audit log files it: the community, else the station's first community (its
    commanders browse it), else the station's area."""
    if to_area is not None:
        return to_area.path
    paths = unit_paths(to_unit)
    return paths[0] if paths else to_unit.area.path


def reassignment_create(*, actor: Any, officer: Officer, to_unit: PoliceUnit, to_area: Area | None = None,
                        starts_at: datetime, ends_at: datetime, reason: str = "") -> Reassignment:
    """Reassign `officer` to the station `to_unit` (to its community `to_area` only, when
    given) from `starts_at` until `ends_at`, with a grant of the same window: the role the
    officer's post implies (`role_for`) over the station's beat, or over the community.

    `actor` must command both the officer's unit and the station (`PermissionDenied`
    otherwise). Refused (`ReassignmentError`): not a station, a community of another
    station, an empty or past window, an officer without a log-in, or one already reassigned
    for part of that time."""
    if not (may_command_unit(actor, officer.unit) and may_command_unit(actor, to_unit)):
        raise PermissionDenied("a reassignment is made by a commander of both units")
    if to_unit.kind != PoliceUnit.Kind.STATION:
        raise ReassignmentError(_("Officers are reassigned to a police station."))
    if to_unit.pk == officer.unit_id:
        raise ReassignmentError(_("%(officer)s is an officer of %(unit)s already.")
                                % {"officer": officer, "unit": to_unit})
    if to_area is not None and not to_unit.communities.filter(pk=to_area.pk).exists():
        raise ReassignmentError(_("%(area)s is not a community of %(unit)s.")
                                % {"area": to_area.name, "unit": to_unit})
    if ends_at <= starts_at:
        raise ReassignmentError(_("A reassignment ends after it starts."))
    if ends_at <= timezone.now():
        raise ReassignmentError(_("This reassignment would have ended already."))
    user = officer.user
    if user is None or not user.is_active:
        raise ReassignmentError(_("%(officer)s has no log-in: give them one before reassigning them, "
                                  "so that they can work at the station.") % {"officer": officer})
    role = role_for(officer)
    with transaction.atomic():
        Officer.objects.select_for_update().filter(pk=officer.pk).first()  # one at a time per officer
        overlapping = Reassignment.objects.filter(officer=officer, cancelled_at__isnull=True,
                                                  starts_at__lt=ends_at, ends_at__gt=starts_at).first()
        if overlapping is not None:
            raise ReassignmentError(_("%(officer)s is reassigned to %(unit)s for part of that time already.")
                                    % {"officer": officer, "unit": overlapping.to_unit})
        if to_area is not None:
            grant = Grant.objects.create(user=user, role=role, area=to_area,
                                         starts_at=starts_at, ends_at=ends_at)
        else:
            grant = Grant.objects.create(user=user, role=role, police_unit=to_unit,
                                         starts_at=starts_at, ends_at=ends_at)
        reassignment = Reassignment.objects.create(
            officer=officer, to_unit=to_unit, to_area=to_area, role=role, starts_at=starts_at,
            ends_at=ends_at, reason=reason, created_by=actor, grant=grant)
        audit_record(actor=actor, action=AuditEvent.Action.CREATE, object_type="duty.reassignment",
                     object_id=reassignment.pk, area_path=_audit_path(to_unit, to_area),
                     summary=f"{officer} → {to_area.name if to_area else to_unit.name}",
                     detail={"officer": officer.badge_number, "from_unit": officer.unit.code,
                             "to_unit": to_unit.code, "to_area": to_area.code if to_area else None,
                             "role": role, "starts_at": starts_at.isoformat(),
                             "ends_at": ends_at.isoformat(), "grant": grant.pk})
    forget_grants(user)
    return reassignment


def may_cancel(user: Any, reassignment: Reassignment) -> bool:
    """Either side may end it: the station sends the officer back, the officer's own unit
    calls them back."""
    return may_command_unit(user, reassignment.to_unit) or may_command_unit(user, reassignment.officer.unit)


def reassignment_cancel(*, actor: Any, reassignment: Reassignment) -> bool:
    """End the reassignment now — one not yet started never starts —, and its grant with it.
    Returns False when it was cancelled already (by somebody else meanwhile); refuses
    (`ReassignmentError`) one that has ended."""
    if not may_cancel(actor, reassignment):
        raise PermissionDenied("a reassignment is ended by a commander of either unit")
    now = timezone.now()
    if reassignment.cancelled_at is None and reassignment.ends_at <= now:
        raise ReassignmentError(_("This reassignment has ended already."))
    with transaction.atomic():
        if not Reassignment.objects.filter(pk=reassignment.pk, cancelled_at__isnull=True).update(cancelled_at=now):
            return False
        reassignment.cancelled_at = now
        grant = Grant.objects.filter(pk=reassignment.grant_id).first() if reassignment.grant_id else None
        if grant is not None:
            grant.ends_at = now
            if grant.starts_at is not None and grant.starts_at > now:
                grant.starts_at = now  # an empty window: it never held
            grant.save(update_fields=["starts_at", "ends_at"])
        audit_record(actor=actor, action=AuditEvent.Action.CHANGE, object_type="duty.reassignment",
                     object_id=reassignment.pk,
                     area_path=_audit_path(reassignment.to_unit, reassignment.to_area),
                     summary=f"{reassignment.officer} → {reassignment.to_unit.name}: cancelled",
                     detail={"cancelled_at": now.isoformat(), "grant": reassignment.grant_id})
    if reassignment.officer.user is not None:
        forget_grants(reassignment.officer.user)
    return True
