"""Rules of door-to-door screening: a household nobody answered twice in a round, symptoms
found at a visit."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from django.utils.translation import gettext_lazy as _

from louzhang.followups.models import Priority
from louzhang.followups.rules import OpenFollowUp, Outcome, register_kind, rule
from louzhang.screening.services import VisitEvent

register_kind("household_unreached", _("household not reached"))
register_kind("visit_symptoms", _("symptoms found at a visit"))

#: times nobody answered in a round before the household becomes a follow-up
UNREACHED_AFTER = 2


@rule("household_unreached", on="visit.recorded")
def household_unreached(event: VisitEvent) -> Iterator[Outcome]:
    """Nobody home twice in a round, never reached: the warden finds another way (a neighbour,
    the property company, the phone on file)."""
    if event.reached:
        return
    for round_id, round_name, nobody_home, reached in event.rounds:
        if reached or nobody_home < UNREACHED_AFTER:
            continue
        summary = str(_("%(place)s: nobody home %(n)d times (%(round)s)")
                      % {"place": event.place, "n": nobody_home, "round": round_name})
        yield OpenFollowUp(
            kind="household_unreached", subject_type="round_household",
            subject_id=f"{round_id}:{event.household.code}", area=event.household,
            summary=summary, due_in=timedelta(days=1),
            action=str(_("reach the household another way: phone, neighbours, property company")),
        )


@rule("visit_symptoms", on="visit.recorded")
def visit_symptoms(event: VisitEvent) -> Iterator[Outcome]:
    """Somebody with symptoms at the door: the health liaison follows up today."""
    if not event.symptomatic:
        return
    summary = str(_("%(place)s: %(n)d with symptoms at a visit") % {"place": event.place, "n": event.symptomatic})
    yield OpenFollowUp(
        kind="visit_symptoms", subject_type="visit", subject_id=str(event.visit_id),
        area=event.household, summary=summary, owner_from="health", priority=Priority.URGENT,
        due_in=timedelta(hours=2), action=str(_("call them, take their temperature, decide on a fever clinic")),
    )
