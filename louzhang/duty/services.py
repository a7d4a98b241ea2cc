"""Writes of people on post (在岗): an officer's duty status, the response level of an area and
the recall (召回) it sends, the officer's "收到" and "已到岗", and the sweep that finds officers
not back in time.

- **Duty status** is set by a commander of the officer's unit (`selectors.may_command_unit`)
  or by the officer reporting on post after a recall; every change is a `StatusChange` row
  and an audit event. Reaching "on post" by any way settles the officer's open recall; falling
  sick or going into isolation ends it (they are not expected back).
- **Response level** (一级/二级/三级响应) per area, set by a commander of the area (or the
  operator, `louzhang response set`). Only **level one** cancels leave and recalls: the
  seed's words ("raised to level one: leave was cancelled and every officer went back on
  post"); levels two and three are recorded and shown, and recall nobody. At level one every
  officer of the police units answering for the area (`PoliceUnit.area`, or a community of a
  station's beat, inside the area) who is not on post, sick or in isolation gets a `Recall`
  due `due_in` later — an officer on leave has the leave cancelled first (status "off duty",
  in the history). An officer with a recall still open from another area's response is not
  recalled twice. The recall is announced per unit: in the inbox of each recalled officer
  with a log-in and of the unit's nearest commanders, and on the channels serving them.
- **Lowering or ending** a level-one response ends its open recalls (`ended_at`), closes their
  "not back in time" follow-ups and tells the same people.
- Every transition is a conditional UPDATE: two taps of "已到岗" count once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import CharField, Exists, OuterRef
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from louzhang.access.holders import commander_tiers
from louzhang.access.roles import may_command, roles_of
from louzhang.accounts.models import Role, User
from louzhang.areas.models import Area
from louzhang.audit.models import AuditEvent
from louzhang.audit.services import audit_record
from louzhang.duty.models import DutyStatus, Officer, Recall, ResponseLevel, StatusChange
from louzhang.duty.selectors import UnitPlace, may_command_unit, police_units
from louzhang.followups.models import FollowUp
from louzhang.followups.rules import rules_fire_many
from louzhang.followups.services import followups_settle
from louzhang.notifications.services import Recipient, announce

#: by when a recalled officer must be back on post, unless the commander says otherwise
RECALL_DUE_IN = timedelta(hours=24)
#: the rule that opens "not back in time" (`duty.rules`)
OVERDUE_RULE = "recall_overdue"
#: statuses a level-one response leaves as they are: on post already, or not fit to come
NOT_RECALLED = (DutyStatus.ON_POST, DutyStatus.SICK, DutyStatus.ISOLATED)


class DutyError(Exception):
    """A change that cannot be made as asked; the message says why (an actor who may not make
    it at all gets `PermissionDenied`)."""


# --- duty status ---------------------------------------------------------------------------


def _status_change(officer: Officer, status: str, *, by: User | None, reason: str,
                   now: datetime, only_from: Sequence[str] | None = None) -> bool:
    """Move the officer to `status` (from one of `only_from`, when given) by a conditional
    UPDATE, with its history row; False when they are there already (or moved meanwhile)."""
    rows = Officer.objects.filter(pk=officer.pk).exclude(status=status)
    if only_from is not None:
        rows = rows.filter(status__in=only_from)
    if not rows.update(status=status, status_since=now, updated_at=now):
        return False
    StatusChange.objects.create(officer=officer, status=status, at=now, by=by, reason=reason[:200])
    officer.status, officer.status_since = status, now
    return True


def officer_status_set(*, actor: User | None, officer: Officer, status: str, reason: str = "") -> bool:
    """A commander of the officer's unit (None: the operator) sets their duty status (on post,
    off duty, on leave, sick, in isolation). Returns False when it was that already.

    On post settles their open recall; sick or in isolation ends it."""
    if status not in DutyStatus.values:
        raise DutyError(_("Unknown duty status %(status)s.") % {"status": status})
    if actor is not None and not may_command_unit(actor, officer.unit_id):
        raise PermissionDenied("an officer's duty status is set by a commander of their unit")
    reason = reason.strip() or _("set by %(user)s") % {"user": actor or _("the operator")}
    now = timezone.now()
    with transaction.atomic():
        changed = _status_change(officer, status, by=actor, reason=reason, now=now)
        if not changed:
            return False
        if status == DutyStatus.ON_POST:
            _recalls_settle(officer, actor=actor, now=now)
        elif status in (DutyStatus.SICK, DutyStatus.ISOLATED):
            _recalls_end([officer.pk], now=now, finding=_("Recall ended: the officer is %(status)s.")
                         % {"status": DutyStatus(status).label})
        audit_record(actor=actor, action=AuditEvent.Action.CHANGE, object_type="duty.officer",
                     object_id=officer.pk, area_path=_place_path(officer.unit_id),
                     summary=f"duty status {status}", detail={"reason": reason})
    return True


def _place_path(unit_id: int) -> str:
    unit = police_units().get(unit_id)
    return unit.place_path if unit else ""


# --- recalls -------------------------------------------------------------------------------


def _recalls_settle(officer: Officer, *, actor: User | None, now: datetime) -> int:
    """The officer is on post: their open recalls are answered, their "not back in time"
    follow-ups closed."""
    waiting = list(Recall.objects.filter(officer=officer, on_post_at__isnull=True,
                                         ended_at__isnull=True).values_list("pk", flat=True))
    settled = 0
    for pk in waiting:
        if Recall.objects.filter(pk=pk, on_post_at__isnull=True, ended_at__isnull=True).update(on_post_at=now):
            Recall.objects.filter(pk=pk, acknowledged_at__isnull=True).update(acknowledged_at=now)
            settled += 1
            followups_settle(rule=OVERDUE_RULE, subject_type="recall", subject_id=pk, actor=actor,
                             finding=_("Back on post at %(time)s.")
                             % {"time": timezone.localtime(now).strftime("%m-%d %H:%M")})
    return settled


def _recalls_end(officer_ids: Iterable[int] | None, *, now: datetime, finding: str,
                 response: ResponseLevel | None = None) -> list[Recall]:
    """End the open recalls of these officers (or of `response`), closing their follow-ups;
    returns the recalls ended."""
    waiting = Recall.objects.filter(on_post_at__isnull=True, ended_at__isnull=True)
    if response is not None:
        waiting = waiting.filter(response=response)
    if officer_ids is not None:
        waiting = waiting.filter(officer_id__in=list(officer_ids))
    ended = []
    for recall in waiting.select_related("officer"):
        if Recall.objects.filter(pk=recall.pk, on_post_at__isnull=True, ended_at__isnull=True).update(ended_at=now):
            recall.ended_at = now
            ended.append(recall)
            followups_settle(rule=OVERDUE_RULE, subject_type="recall", subject_id=recall.pk,
                             actor=None, finding=finding)
    return ended


def recall_acknowledge(*, actor: User, recall: Recall) -> bool:
    """The recalled officer taps "收到". False when they had, or the recall is over."""
    _check_own(actor, recall)
    changed = Recall.objects.filter(pk=recall.pk, acknowledged_at__isnull=True, on_post_at__isnull=True,
                                    ended_at__isnull=True).update(acknowledged_at=timezone.now())
    return bool(changed)


def recall_report_on_post(*, actor: User, recall: Recall) -> bool:
    """The recalled officer taps "已到岗": the recall is answered, their status is "on post"
    (with history), a "not back in time" follow-up is closed. False when it was answered
    already (a second tap) or the recall is over."""
    _check_own(actor, recall)
    now = timezone.now()
    with transaction.atomic():
        if not Recall.objects.filter(pk=recall.pk, on_post_at__isnull=True,
                                     ended_at__isnull=True).update(on_post_at=now):
            return False
        Recall.objects.filter(pk=recall.pk, acknowledged_at__isnull=True).update(acknowledged_at=now)
        officer = recall.officer
        _status_change(officer, DutyStatus.ON_POST, by=actor, reason=_("reported on post after the recall"),
                       now=now)
        # any other recall still open for them is answered by the same return
        _recalls_settle(officer, actor=actor, now=now)
        followups_settle(rule=OVERDUE_RULE, subject_type="recall", subject_id=recall.pk, actor=actor,
                         finding=_("Reported on post at %(time)s.")
                         % {"time": timezone.localtime(now).strftime("%m-%d %H:%M")})
        audit_record(actor=actor, action=AuditEvent.Action.CHANGE, object_type="duty.recall",
                     object_id=recall.pk, area_path=_place_path(officer.unit_id),
                     summary="reported on post")
    return True


def _check_own(actor: User, recall: Recall) -> None:
    if actor is None or recall.officer.user_id != actor.pk:
        raise PermissionDenied("only the recalled officer answers their recall")


# --- response levels -----------------------------------------------------------------------


@dataclass(frozen=True)
class ResponseOutcome:
    """What `response_set` did, and only that."""

    area: Area
    previous: int
    level: int
    response: ResponseLevel | None
    #: officers recalled / of whom on leave (leave cancelled)
    recalled: int = 0
    leave_cancelled: int = 0
    #: open recalls ended by lowering or ending a level-one response
    recalls_ended: int = 0
    #: people given an inbox line, and channel messages queued
    told: int = 0
    messages: int = 0
    due_at: datetime | None = None

    @property
    def changed(self) -> bool:
        return self.previous != self.level

    def in_words(self) -> list[str]:
        """Sentences for the page (in the current language)."""
        area = self.area.name
        if not self.changed:
            if self.level:
                return [_("%(area)s is at %(level)s already: nothing changed.")
                        % {"area": area, "level": level_label(self.level)}]
            return [_("%(area)s has no response level: nothing changed.") % {"area": area}]
        said = [_("%(area)s: %(level)s.") % {"area": area, "level": level_label(self.level)}
                if self.level else _("%(area)s: the response is ended.") % {"area": area}]
        if self.level == 1:
            if self.recalled:
                said.append(_("%(n)d officers recalled, back on post by %(due)s; leave cancelled for %(leave)d.")
                            % {"n": self.recalled, "leave": self.leave_cancelled,
                               "due": timezone.localtime(self.due_at).strftime("%m-%d %H:%M") if self.due_at else ""})
                said.append(_("Told: %(told)d in their inbox, %(messages)d messages to group chats.")
                            % {"told": self.told, "messages": self.messages})
            else:
                said.append(_("Nobody to recall: every officer here is on post, sick or in isolation."))
        if self.recalls_ended:
            said.append(_("%(n)d open recalls ended.") % {"n": self.recalls_ended})
            said.append(_("Told: %(told)d in their inbox, %(messages)d messages to group chats.")
                        % {"told": self.told, "messages": self.messages})
        return said


def level_label(level: int) -> str:
    return str(ResponseLevel.Level(level).label) if level else _("no response")


def response_set(*, actor: User | None, area: Area, level: int,
                 due_in: timedelta = RECALL_DUE_IN) -> ResponseOutcome:
    """Set the response level of `area` (1, 2 or 3; 0 ends it), as a commander of the area
    (None: the operator). Level one recalls the officers answering for the area (see the
    module); lowering or ending a level-one response ends its open recalls. Setting the level
    it has changes nothing."""
    if level not in (0, 1, 2, 3):
        raise DutyError(_("A response level is 1, 2 or 3 (0 ends it)."))
    if due_in <= timedelta(0):
        raise DutyError(_("The time to be back on post must be positive."))
    if actor is not None and not may_command(actor, area.path):
        raise PermissionDenied("the response level is set by a commander of the area")
    now = timezone.now()
    try:
        with transaction.atomic():
            current = ResponseLevel.objects.select_for_update().filter(area=area, ended_at__isnull=True).first()
            previous = current.level if current else 0
            if previous == level:
                return ResponseOutcome(area=area, previous=previous, level=level, response=current)
            ended: list[Recall] = []
            outcome: dict[str, Any] = {}
            if current is not None:
                if not ResponseLevel.objects.filter(pk=current.pk, ended_at__isnull=True).update(
                        ended_at=now, ended_by=actor):
                    raise DutyError(_("The response level was changed meanwhile; look again."))
                with translation.override(settings.LANGUAGE_CODE):
                    why = (_("%(area)s lowered its response to %(level)s.")
                           % {"area": area.name, "level": level_label(level)} if level
                           else _("%(area)s ended its response.") % {"area": area.name})
                ended = _recalls_end(None, response=current, now=now, finding=why)
                told, messages = _announce_ended(ended, why)
                if ended:
                    outcome.update(told=told, messages=messages)
            response = None
            if level:
                response = ResponseLevel.objects.create(area=area, level=level, started_at=now, set_by=actor)
                if level == 1:
                    outcome.update(_recall(response, actor=actor, now=now, due_at=now + due_in))
            audit_record(actor=actor, action=AuditEvent.Action.CHANGE, object_type="duty.response_level",
                         object_id=response.pk if response else (current.pk if current else ""),
                         area_path=area.path, summary=f"response level {previous} -> {level}",
                         detail={"recalled": outcome.get("recalled", 0), "recalls_ended": len(ended)})
    except IntegrityError:  # another commander set this area's level at the same moment
        raise DutyError(_("The response level was changed meanwhile; look again.")) from None
    return ResponseOutcome(area=area, previous=previous, level=level, response=response,
                           recalls_ended=len(ended), **outcome)


def _recall(response: ResponseLevel, *, actor: User | None, now: datetime, due_at: datetime) -> dict[str, Any]:
    """Level one: cancel leave and recall every officer concerned who is not on post."""
    units = {pk: u for pk, u in police_units().items() if u.answers_for(response.area.path)}
    waiting = Recall.objects.filter(officer=OuterRef("pk"), on_post_at__isnull=True, ended_at__isnull=True)
    officers = list(Officer.objects.filter(unit_id__in=list(units)).exclude(status__in=NOT_RECALLED)
                    .exclude(Exists(waiting)).select_related("user").order_by("unit_id", "badge_number"))
    with translation.override(settings.LANGUAGE_CODE):
        reason = _("leave cancelled: %(area)s raised its response to level one") % {"area": response.area.name}
    leave_cancelled = sum(
        _status_change(o, DutyStatus.OFF_DUTY, by=actor, reason=reason, now=now, only_from=[DutyStatus.ON_LEAVE])
        for o in officers if o.status == DutyStatus.ON_LEAVE)
    Recall.objects.bulk_create([Recall(response=response, officer=o, sent_at=now, due_at=due_at)
                                for o in officers])
    told: set[int] = set()
    messages = 0
    for unit_id in dict.fromkeys(o.unit_id for o in officers):
        mine = [o for o in officers if o.unit_id == unit_id]
        people, sent = _announce_recall(units[unit_id], mine, response, due_at)
        told |= people
        messages += sent
    return {"recalled": len(officers), "leave_cancelled": leave_cancelled, "told": len(told),
            "messages": messages, "due_at": due_at}


def _recipients(unit: UnitPlace, officers: Sequence[Officer]) -> tuple[Area, list[Recipient]]:
    """Who hears of a recall of these officers of `unit`: each of them with a log-in (as the
    role they hold — a station's 所长 as commander, a warden as warden) and the unit's nearest
    commanders; filed under the unit's place."""
    place = Area.objects.get(pk=unit.place_id)
    recipients = []
    for officer in officers:
        if officer.user is not None and officer.user.is_active:
            held = roles_of(officer.user)
            role = next((r for r in (Role.COMMANDER, Role.WARDEN) if r in held), next(iter(sorted(held)), Role.WARDEN))
            recipients.append(Recipient(officer.user, role))
    tiers = commander_tiers(place)
    recipients += [Recipient(user, Role.COMMANDER) for user in (tiers[0] if tiers else [])]
    return place, recipients


def _announce_recall(unit: UnitPlace, officers: Sequence[Officer], response: ResponseLevel,
                     due_at: datetime) -> tuple[set[int], int]:
    place, recipients = _recipients(unit, officers)
    with translation.override(settings.LANGUAGE_CODE):
        title = _("[Level-one response: recall] %(unit)s") % {"unit": unit.name}
        text = "\n".join([
            _("%(area)s raised its response to level one: leave is cancelled.") % {"area": response.area.name},
            _("Recalled (%(n)d): %(names)s") % {"n": len(officers), "names": "、".join(o.name for o in officers)},
            _("Back on post by: %(due)s") % {"due": timezone.localtime(due_at).strftime("%m-%d %H:%M")},
            _("Tap “Got it” on the recall page, then “I am on post” once you are back."),
        ])
    deliveries = announce(area=place, recipients=recipients, title=title, text=text,
                          link=reverse("my-recall"), about=f"response:{response.pk}")
    return {r.user.pk for r in recipients}, len(deliveries)


def _announce_ended(ended: Sequence[Recall], why: str) -> tuple[int, int]:
    """Tell whom the recall told that it is over; returns (people told, channel messages)."""
    if not ended:
        return 0, 0
    told: set[int] = set()
    messages = 0
    units = police_units()
    officers = list(Officer.objects.filter(pk__in=[r.officer_id for r in ended]).select_related("user"))
    for unit_id in dict.fromkeys(o.unit_id for o in officers):
        mine = [o for o in officers if o.unit_id == unit_id]
        place, recipients = _recipients(units[unit_id], mine)
        with translation.override(settings.LANGUAGE_CODE):
            title = _("[Recall ended] %(unit)s") % {"unit": units[unit_id].name}
            text = "\n".join([why, _("No longer recalled (%(n)d): %(names)s")
                              % {"n": len(mine), "names": "、".join(o.name for o in mine)}])
        deliveries = announce(area=place, recipients=recipients, title=title, text=text,
                              link=reverse("my-recall"), about=f"response:{ended[0].response_id}")
        told |= {r.user.pk for r in recipients}
        messages += len(deliveries)
    return len(told), messages


# --- not back in time ----------------------------------------------------------------------


@dataclass(frozen=True)
class RecallOverdue:
    """A recalled officer not on post by the due time (event `recall.overdue`)."""

    recall_id: int
    officer: str
    category: str
    unit: str
    #: the unit's place: the station's community, or the unit's area
    area: Area
    due_at: datetime


def recalls_sweep(now: datetime | None = None) -> dict[str, int]:
    """Find the recalls past their due time without the officer on post, each once (one whose
    "not back in time" follow-up was ever opened is not looked at again), and fire
    `recall.overdue` for them. Run by the worker every minute; running it twice changes
    nothing."""
    now = now or timezone.now()
    opened = FollowUp.objects.filter(rule=OVERDUE_RULE, subject_type="recall",
                                     subject_id=Cast(OuterRef("pk"), output_field=CharField()))
    late = list(Recall.objects.filter(due_at__lte=now, on_post_at__isnull=True, ended_at__isnull=True)
                .exclude(Exists(opened)).select_related("officer").order_by("due_at", "pk")[:1000])
    if not late:
        return {"overdue": 0}
    units = police_units()
    places = Area.objects.in_bulk({units[r.officer.unit_id].place_id for r in late})
    events = [RecallOverdue(recall_id=r.pk, officer=r.officer.name, category=str(r.officer.get_category_display()),
                            unit=units[r.officer.unit_id].name,
                            area=places[units[r.officer.unit_id].place_id], due_at=r.due_at)
              for r in late]
    with transaction.atomic():
        rules_fire_many("recall.overdue", events)
    return {"overdue": len(events)}
