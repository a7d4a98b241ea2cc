"""Reads for home observation, always from the user's jurisdiction (roles `OBSERVING`): the
observations a user sees, one observation fetched and checked, the worklists of the phone page
(proposed, check-in due now, check-in missed, due for release) and their counts.

The worklists are read from the observation's own row — `last_check_in_at` against the
half-day slots of `schedule` — so each list is one query whatever its length.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from django.db.models import Count, F, OrderBy, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from louzhang.access.jurisdiction import jurisdiction_for, scope
from louzhang.access.roles import OBSERVING, RELEASING
from louzhang.accounts.models import Role
from louzhang.areas.models import Area
from louzhang.checkpoints.models import Occupant, VehicleInspection
from louzhang.core.personal import Kind, mask
from louzhang.followups.models import ACTIVE_STATES, FollowUp
from louzhang.observation.models import (
    OPEN_STATUSES,
    CheckIn,
    Observation,
    ObservationEvent,
    Source,
    Status,
)
from louzhang.observation.schedule import Slot, slot_of

#: rows of one worklist on the page; the count says how many there are in all
WORKLIST_LIMIT = 100
#: check-ins shown on an observation's page (two a day for 14 days is 28)
CHECK_INS_SHOWN = 100


def observations_visible(user: Any) -> QuerySet[Observation]:
    """Every observation of the user's jurisdiction, with what its rows show (the household,
    its unit, building and compound; the person)."""
    return scope(Observation.objects.select_related("household__parent__parent__parent", "resident"),
                 user, roles=OBSERVING)


def access_observation(user: Any, pk: int | str) -> Observation:
    """The observation, if the user may see it; "not found" for missing and forbidden alike."""
    try:
        return observations_visible(user).get(pk=int(pk))
    except (Observation.DoesNotExist, ValueError, OverflowError):
        raise Http404("no such observation") from None


def observation_by_token(token: str) -> Observation | None:
    """The observation whose personal link has this secret (the resident's page: no user)."""
    if not 16 <= len(token) <= 32:
        return None
    return Observation.objects.filter(token=token).first()


def open_sources(user: Any, path: str) -> list[str]:
    """What a user opening an observation of the household at `path` may say it came from,
    their own role first: a health liaison's or a commander's decision, a visit, a checkpoint's
    report (the travellers of a key-region car)."""
    sources: list[str] = [Source.VISIT, Source.CHECKPOINT]
    if jurisdiction_for(user, roles=[Role.HEALTH]).covers(path):
        sources.insert(0, Source.HEALTH)
    if jurisdiction_for(user, roles=[Role.COMMANDER]).covers(path):
        sources.insert(0, Source.COMMANDER)
    return sources


def observes_anywhere(user: Any) -> bool:
    return not jurisdiction_for(user, roles=OBSERVING).is_empty


def releases_anywhere(user: Any) -> bool:
    """A health liaison or commander somewhere: confirming and releasing come first for them."""
    return not jurisdiction_for(user, roles=RELEASING).is_empty


# --- the worklists ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Moment:
    """Where `now` falls in the check-in day: today, the slot running now and the latest slot
    whose deadline has passed."""

    now: datetime
    today: date
    current: Slot
    #: the current slot is still open (before its deadline)
    current_open: bool
    #: the latest slot whose deadline passed (the current one after 21:00)
    last_due: Slot

    @classmethod
    def at(cls, now: datetime | None = None) -> Moment:
        now = now or timezone.now()
        current = slot_of(now)
        if now >= current.deadline:
            last_due = current
        elif current.half == 1:
            last_due = Slot(current.day, 0)
        else:
            last_due = Slot(current.day - timedelta(days=1), 1)
        return cls(now, timezone.localtime(now).date(), current, now < current.deadline, last_due)


def _not_heard_since(moment: datetime) -> Q:
    return Q(last_check_in_at__isnull=True) | Q(last_check_in_at__lt=moment)


def _missed_q(m: Moment) -> Q:
    """Active, the latest slot that fell due is theirs (a day of the observation, ended after
    it was opened) and nobody has checked in since that slot began."""
    slot = m.last_due
    return (Q(status=Status.ACTIVE, starts_on__lte=slot.day, ends_on__gte=slot.day,
              opened_at__lt=slot.deadline) & _not_heard_since(slot.start))


def _due_now_q(m: Moment) -> Q:
    """Active, today is a day of the observation, the slot running now is open and has no
    check-in yet — and not already missed (that list comes first)."""
    if not m.current_open:
        return Q(pk__in=[])
    return (Q(status=Status.ACTIVE, starts_on__lte=m.today, ends_on__gte=m.today)
            & _not_heard_since(m.current.start) & ~_missed_q(m))


def _release_due_q(m: Moment) -> Q:
    return Q(status=Status.ACTIVE, ends_on__lte=m.today)


def _proposed_q(_m: Moment) -> Q:
    return Q(status=Status.PROPOSED)


#: the worklists: name, condition, order (most urgent first within each)
_LISTS: dict[str, tuple[Callable[[Moment], Q], tuple[str | OrderBy, ...]]] = {
    "proposed": (_proposed_q, ("opened_at", "pk")),
    # not heard from for longest first (never checked in on top)
    "missed": (_missed_q, (F("last_check_in_at").asc(nulls_first=True), "-missed_count", "pk")),
    "due_now": (_due_now_q, ("household__path", "pk")),
    "release_due": (_release_due_q, ("ends_on", "household__path", "pk")),
}

#: the order of the lists on the page: what the user must do first on top
WARDEN_ORDER = ("missed", "due_now", "release_due", "proposed")
RELEASER_ORDER = ("proposed", "release_due", "missed", "due_now")


@dataclass
class Worklist:
    name: str
    items: list[Observation]
    count: int


def worklist_order(user: Any) -> tuple[str, ...]:
    return RELEASER_ORDER if releases_anywhere(user) else WARDEN_ORDER


def observation_counts(user: Any, now: datetime | None = None) -> dict[str, int] | None:
    """How many observations of the user's jurisdiction are in each worklist, and how many are
    open in all, in one query; None for users who do not observe (gate staff …)."""
    if not observes_anywhere(user):
        return None
    m = Moment.at(now)
    counts: dict[str, int] = scope(Observation.objects.all(), user, roles=OBSERVING).aggregate(
        open=Count("pk", filter=Q(status__in=OPEN_STATUSES)),
        **{name: Count("pk", filter=condition(m)) for name, (condition, _order) in _LISTS.items()},
    )
    return counts


def observation_worklists(user: Any, now: datetime | None = None,
                          limit: int = WORKLIST_LIMIT) -> list[Worklist]:
    """The user's worklists in the order they should work them, each at most `limit` rows
    (most urgent first) with its full count: one query per list and one for the counts."""
    m = Moment.at(now)
    counts = observation_counts(user, now) or {}
    visible = observations_visible(user)
    lists = []
    for name in worklist_order(user):
        condition, order = _LISTS[name]
        count = counts.get(name, 0)
        items = list(visible.filter(condition(m)).order_by(*order)[:limit]) if count else []
        lists.append(Worklist(name, items, count))
    return lists


def observations_open(user: Any) -> QuerySet[Observation]:
    """Every open observation of the jurisdiction, by place (the page's "all" view)."""
    return observations_visible(user).filter(status__in=OPEN_STATUSES).order_by("household__path", "pk")


def household_observations(user: Any, household_id: int) -> list[Observation]:
    """The open observations of one household (its page shows them)."""
    return list(observations_visible(user).filter(household_id=household_id, status__in=OPEN_STATUSES)
                .order_by("opened_at", "pk"))


# --- one observation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SlotState:
    slot: Slot
    #: done, due (open, nothing yet), missed (deadline passed, nothing), none (not theirs)
    state: str


def day_of(observation: Observation, today: date | None = None) -> tuple[int, int]:
    """Day N of M: which day of the observation today is, and how many days it has (the last
    day counted)."""
    today = today or timezone.localdate()
    total = observation.day_number(observation.ends_on)
    return max(1, min(observation.day_number(today), total)), total


def todays_slots(observation: Observation, check_ins: list[datetime],
                 now: datetime | None = None) -> list[SlotState]:
    """This morning's and this evening's check-in: done, still due, missed, or none (outside
    the observation, or its deadline passed before it was opened)."""
    m = Moment.at(now)
    filled = {slot_of(at) for at in check_ins}
    states = []
    for half in (0, 1):
        slot = Slot(m.today, half)
        if slot in filled:
            state = "done"
        elif (not observation.starts_on <= m.today <= observation.ends_on
              or slot.deadline <= observation.opened_at):
            state = "none"
        elif m.now >= slot.deadline:
            state = "missed"
        else:
            state = "due"
        states.append(SlotState(slot, state))
    return states


def check_ins_today(observation: Observation, now: datetime | None = None) -> list[datetime]:
    """Times of today's check-ins (the resident's page: nothing else of them is shown)."""
    m = Moment.at(now)
    start = Slot(m.today, 0).start
    return list(CheckIn.objects.filter(observation=observation, at__gte=start,
                                       at__lt=start + timedelta(days=1)).values_list("at", flat=True))


def observation_check_ins(observation: Observation) -> list[CheckIn]:
    """The latest check-ins first, with who recorded them."""
    return list(observation.check_ins.select_related("recorded_by").order_by("-at", "-pk")[:CHECK_INS_SHOWN])


def observation_history(observation: Observation) -> QuerySet[ObservationEvent]:
    return observation.events.select_related("actor")


def observation_followups(observation: Observation) -> list[FollowUp]:
    """The follow-ups about this observation still open (a fever, a missed check-in, release)."""
    return list(FollowUp.objects.filter(subject_type="observation", subject_id=str(observation.pk),
                                        state__in=ACTIVE_STATES).select_related("owner", "area")
                .order_by("-priority", "due_at", "pk"))


# --- the list --------------------------------------------------------------------------------

#: `status=` of the list: a status, or `open` (proposed and active), or `all`
StatusFilter = Literal["active", "released", "proposed", "hospital", "moved", "cancelled", "open", "all"]


def observations_in(user: Any, area: Area | None, status: StatusFilter = "active") -> QuerySet[Observation]:
    """The observations the user observes in `area` (all of their jurisdiction without it), with
    `status`, the last day first to come first."""
    found = observations_visible(user).select_related("household", "resident")
    if area is not None:
        found = found.filter(household__path__subtree=area.path)
    if status == "open":
        found = found.filter(status__in=OPEN_STATUSES)
    elif status != "all":
        found = found.filter(status=Status(status))
    return found.order_by("ends_on", "id")


def travellers_inspection(user: Any, inspection_id: int | str) -> VehicleInspection:
    """A car a checkpoint let through from a key region towards a compound the user keeps home
    observation in, with its travellers; "not found" for anything else."""
    try:
        inspection = (VehicleInspection.objects.select_related("destination", "key_region", "checkpoint")
                      .prefetch_related("occupants").get(pk=int(inspection_id), destination__isnull=False))
    except (VehicleInspection.DoesNotExist, ValueError, OverflowError):
        raise Http404("no such inspection") from None
    destination = inspection.destination
    observing = jurisdiction_for(user, roles=OBSERVING)
    # the compound's wardens hold its buildings, not always the compound itself
    if destination is None or not (observing.covers(destination.path) or observing.leads_to(destination.path)):
        raise Http404("no such inspection")
    return inspection


@dataclass
class TravellerRow:
    """A traveller as the destination's warden sees them: masked (they are not yet anybody's
    resident here), and under home observation already or not."""

    occupant: Occupant
    name: str
    id_number: str
    observation: Observation | None


def traveller_rows(user: Any, inspection: VehicleInspection) -> list[TravellerRow]:
    """The car's travellers, with the observation each is under — of those the user sees: an
    observation elsewhere is not theirs to know of (opening one here is then refused as
    "already under observation", naming nothing)."""
    occupants = list(inspection.occupants.all())
    numbers = [o.id_number for o in occupants if o.id_number]
    observed = {o.resident.id_number: o for o in scope(Observation.objects.filter(
        resident__id_number__in=numbers, status__in=OPEN_STATUSES), user, roles=OBSERVING)
        .select_related("resident")}
    return [TravellerRow(o, mask(Kind.NAME, o.name) if o.name else "", mask(Kind.ID_NUMBER, o.id_number)
                         if o.id_number else "", observed.get(o.id_number)) for o in occupants]


def inspection_of(followup: FollowUp) -> int | None:
    """The inspection a key-region car's follow-up is about (its opening event says which)."""
    if followup.kind != "key_region_vehicle":
        return None
    for detail in followup.events.filter(kind="opened").values_list("detail", flat=True)[:1]:
        value = (detail or {}).get("inspection")
        return int(value) if value else None
    return None
