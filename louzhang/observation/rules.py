"""Rules of home observation on the closed loop: a fever or symptom in a check-in, a check-in
missed, the last day reached."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from django.utils.translation import gettext_lazy as _

from louzhang.accounts.models import Role
from louzhang.followups.models import Priority
from louzhang.followups.rules import Alert, OpenFollowUp, Outcome, register_kind, rule
from louzhang.observation.models import Symptom
from louzhang.observation.services import CheckInEvent, ObservationDay, is_fever

register_kind("check_in_fever", _("fever under home observation"))
register_kind("check_in_missed", _("check-in missed"))
register_kind("observation_release", _("release from home observation"))
register_kind("observation_proposed", _("home observation to confirm"))


@rule("check_in_fever", on="check_in.created")
def check_in_fever(event: CheckInEvent) -> Iterator[Outcome]:
    """A fever (`LOUZHANG_FEVER_THRESHOLD`, 37.3 °C) or a symptom at a check-in: the health
    liaison sees them (at once for a fever); the warden is told."""
    fever = is_fever(event.temperature, event.symptoms)
    if not fever and not event.symptoms:
        return
    labels = "、".join(str(Symptom(s).label) for s in event.symptoms)
    summary = f"{event.place} {event.temperature} °C {labels}".strip()
    yield OpenFollowUp(
        kind="check_in_fever", subject_type="observation", subject_id=str(event.observation_id),
        area=event.household, summary=summary, owner_from="health",
        priority=Priority.URGENT if fever else Priority.NORMAL,
        due_in=timedelta(minutes=30) if fever else timedelta(hours=4),
        action=str(_("call them, re-measure, decide on a fever clinic")),
        detail={"check_in": event.check_in_id},
    )
    title = str(_("fever under home observation") if fever else _("symptoms under home observation"))
    yield Alert(area=event.household, roles=(Role.WARDEN,), title=f"【{title}】{summary}",
                text=str(_("The health liaison has a follow-up to see them.")))


@rule("check_in_missed", on="observation.swept")
def check_in_missed(event: ObservationDay) -> Iterator[Outcome]:
    """No check-in by the deadline: the warden calls them (the escalation clock climbs to the
    station when nobody does)."""
    if not event.missed:
        return
    slots = "、".join(s.label() for s in event.missed)
    summary = str(_("%(place)s: no check-in %(slots)s (%(total)d missed in all)")
                  % {"place": event.place, "slots": slots, "total": event.missed_total})
    yield OpenFollowUp(
        kind="check_in_missed", subject_type="observation", subject_id=str(event.observation_id),
        area=event.household, summary=summary, due_in=timedelta(hours=2),
        action=str(_("call them, take their temperature and record the check-in")),
    )


@rule("observation_release", on="observation.swept")
def observation_release(event: ObservationDay) -> Iterator[Outcome]:
    """The last day: the health liaison checks them and releases them (or extends)."""
    if not event.release_due:
        return
    summary = str(_("%(place)s: last day of home observation (%(date)s)")
                  % {"place": event.place, "date": event.ends_on})
    yield OpenFollowUp(
        kind="observation_release", subject_type="observation", subject_id=str(event.observation_id),
        area=event.household, summary=summary, owner_from="health", due_in=timedelta(hours=12),
        action=str(_("check them and release them, or extend the observation")),
    )
