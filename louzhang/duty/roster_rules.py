"""The roster on the closed loop: a round-the-clock post with nobody on duty in the next 12
hours is a follow-up for the commander of its area, settled once shifts fill the gap
(`duty.rosters.rosters_sweep`, run by the worker every few minutes).

Imported at start-up (`duty.apps`), which registers the rule, its kind and the sweep.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from louzhang.duty.rosters import RULE_UNCOVERED, PostUncovered, rosters_sweep
from louzhang.followups.models import Priority
from louzhang.followups.rules import OpenFollowUp, Outcome, register_kind, rule
from louzhang.worker.schedule import periodic

register_kind(RULE_UNCOVERED, _("post uncovered"))

#: a gap starting this soon is urgent
URGENT_WITHIN = timedelta(hours=2)
#: the commander has at least this long to act, however soon the gap starts
LEAST_TIME = timedelta(minutes=30)


@rule(RULE_UNCOVERED, on="roster.swept")
def shift_uncovered(event: PostUncovered) -> Iterator[Outcome]:
    """A gap in the cover of a round-the-clock post (a 24-hour checkpoint): the commander of
    its area puts somebody on duty before it starts (no warden answers for a checkpoint's
    district, so `owner_from="area"` finds the nearest commander)."""
    now = timezone.now()
    starts, ends = timezone.localtime(event.starts_at), timezone.localtime(event.ends_at)
    summary = str(_("%(post)s: nobody on duty %(starts)s–%(ends)s")
                  % {"post": event.name, "starts": f"{starts:%m-%d %H:%M}", "ends": f"{ends:%m-%d %H:%M}"})
    yield OpenFollowUp(
        kind=RULE_UNCOVERED, subject_type="post", subject_id=event.subject_id, area=event.area,
        summary=summary, owner_from="area",
        priority=Priority.URGENT if event.starts_at - now <= URGENT_WITHIN else Priority.NORMAL,
        due_in=max(event.starts_at - now, LEAST_TIME),
        action=str(_("plan shifts on the post's roster to cover the gap")),
        detail={"post_kind": event.post_kind, "post_code": event.post_code,
                "starts_at": event.starts_at.isoformat(), "ends_at": event.ends_at.isoformat()},
    )


@periodic("duty.rosters_sweep", every=lambda: timedelta(minutes=10))
def sweep(now: datetime) -> dict[str, int]:
    return rosters_sweep(now)
