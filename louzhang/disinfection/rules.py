"""Rules of disinfection on the closed loop: a unit still short of its plan after its
representatives were reminded (or could not be) — a follow-up for the unit's warden, closed by
the next round logged (`services._settle`)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from louzhang.disinfection.services import OVERDUE_RULE, UnitOverdue
from louzhang.followups.rules import OpenFollowUp, Outcome, register_kind, rule

register_kind(OVERDUE_RULE, gettext_lazy("unit not disinfected"))


@rule(OVERDUE_RULE, on="disinfection.overdue")
def disinfection_overdue(event: UnitOverdue) -> Iterator[Outcome]:
    """The warden of the unit's building (else of the compound, else the station) sees to it:
    reminds the representative, or has it done. One open follow-up per unit: a unit short again
    while it is open is counted on it."""
    deadline = timezone.localtime(event.deadline)
    summary = _("%(place)s: %(done)d of %(due)d rounds of disinfection done by %(when)s") % {
        "place": event.place, "done": event.done, "due": event.due,
        "when": deadline.strftime("%m-%d %H:%M")}
    yield OpenFollowUp(
        kind=OVERDUE_RULE, subject_type="unit", subject_id=event.unit.code, area=event.unit,
        summary=f"{summary}；{event.reminder_note}" if event.reminder_note else summary,
        action=_("remind the representative or have the unit disinfected; a round logged closes this"),
        due_in=timedelta(hours=2), owner_from="area",
        detail={"deadline": deadline.isoformat(), "due": event.due, "done": event.done,
                "reminded": event.reminded},
    )
