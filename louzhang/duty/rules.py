"""Rules of people on post on the closed loop: an officer recalled by a level-one response and
not back on post by the due time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from louzhang.duty.services import OVERDUE_RULE, RecallOverdue
from louzhang.followups.models import Priority
from louzhang.followups.rules import OpenFollowUp, Outcome, register_kind, rule

register_kind(OVERDUE_RULE, _("not back on post"))


@rule(OVERDUE_RULE, on="recall.overdue")
def recall_overdue(event: RecallOverdue) -> Iterator[Outcome]:
    """A recalled officer not on post by the due time: the station commander of their unit
    (the nearest commander over the unit's place) finds out why; reporting on post closes it."""
    due = timezone.localtime(event.due_at).strftime("%m-%d %H:%M")
    yield OpenFollowUp(
        kind=OVERDUE_RULE, subject_type="recall", subject_id=str(event.recall_id), area=event.area,
        summary=str(_("%(unit)s: %(officer)s (%(category)s) not back on post by %(due)s")
                    % {"unit": event.unit, "officer": event.officer, "category": event.category,
                       "due": due}),
        action=str(_("reach the officer, find out why and when they will be back")),
        due_in=timedelta(hours=2), priority=Priority.URGENT, owner_from="commander",
    )
