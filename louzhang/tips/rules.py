"""The tip rule: every tip becomes a follow-up for the warden who must verify it — the warden of
the building the reporter named, else the compound's wardens (its lead warden owns it)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from django.utils.translation import gettext_lazy as _

from louzhang.areas.models import Level
from louzhang.followups.models import Priority
from louzhang.followups.rules import OpenFollowUp, Outcome, register_kind, rule
from louzhang.tips.models import Category, Tip

register_kind("tip", _("tip from residents"), closed_with_subject=True)

#: how soon a tip of each category must be checked: a person with fever or a returnee nobody
#: registered is a risk now; a rumour can wait for the morning
DUE = {
    Category.FEVER: timedelta(hours=1),
    Category.RETURNEE: timedelta(hours=2),
    Category.VEHICLE: timedelta(hours=2),
    Category.GATHERING: timedelta(hours=2),
    Category.RUMOUR: timedelta(hours=24),
    Category.OTHER: timedelta(hours=24),
}
URGENT = {Category.FEVER, Category.RETURNEE, Category.VEHICLE, Category.GATHERING}
#: characters of the reporter's text in the follow-up's summary (which group chats get)
SUMMARY_TEXT = 80


@rule("tip", on="tip.received")
def tip_received(tip: Tip) -> Iterator[Outcome]:
    category = Category(tip.category)
    text = " ".join(tip.content.split())
    if len(text) > SUMMARY_TEXT:
        text = text[:SUMMARY_TEXT] + "…"
    where = f"{tip.place}：" if tip.place else ""
    plate = f"（{tip.plate}）" if tip.plate else ""
    summary = str(_("Tip (%(category)s)%(plate)s: %(where)s%(text)s")
                  % {"category": category.label, "plate": plate, "where": where, "text": text})
    if category == Category.VEHICLE:
        action = _("check the registry's answer on the tip, look at the car, and tell the reporter and residents what you found")
    else:
        action = _("verify it on the spot, then close the tip with an outcome the reporter can read")
    yield OpenFollowUp(
        kind="tip", subject_type="tip", subject_id=str(tip.pk), area=tip.area,
        summary=summary[:300], action=str(action), due_in=DUE[category],
        priority=Priority.URGENT if category in URGENT else Priority.NORMAL,
        owner_from="area" if tip.area.level > Level.COMPOUND else "compound",
    )
