"""Rules on gate records: fever (发热) and home-observation breach (居家观察人员外出)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from django.utils.translation import gettext_lazy as _

from louzhang.accounts.models import Role
from louzhang.core.personal import Kind, mask
from louzhang.core.thresholds import fever_threshold
from louzhang.followups.models import Priority
from louzhang.followups.rules import Alert, OpenFollowUp, Outcome, register_kind, rule
from louzhang.gates.models import GateRecord
from louzhang.gates.services import GateCheckEvent

register_kind("fever", _("fever"))
register_kind("observation_breach", _("home observation breach"))


def _who(event: GateCheckEvent) -> str:
    """Fit for a group chat: the household by its place (34号楼二单元6楼西户), a visitor by a
    masked name."""
    if event.household_id is None:
        visitor = str(_("visitor"))
        return f"{visitor} {mask(Kind.NAME, event.visitor_name)}"
    return event.place


@rule("fever", on="gate_check.created")
def fever(event: GateCheckEvent) -> Iterator[Outcome]:
    """38.4 °C at 保利百合 东门 → the warden of the person's household checks on them; a
    visitor is the compound's: its lead warden (else the warden of most of its buildings)
    checks on them and every warden of the compound is told. The area's health liaison is
    told."""
    if event.temperature < fever_threshold():
        return
    gate = event.gate
    summary = f"{gate.compound.name} {gate.name} {event.temperature} °C {_who(event)}"
    household = event.household
    label = str(_("fever"))
    if household is not None:
        subject_type, subject_id, area, owner_from = "household", household.code, household, "area"
    else:
        # a visitor is one person per ID number; without one, this record
        subject_type = "visitor"
        subject_id = event.visitor_id_number or f"record-{event.record_id}"
        area, owner_from = gate.compound, "compound"
    yield OpenFollowUp(kind="fever", subject_type=subject_type, subject_id=subject_id, area=area,
                       summary=summary, action=str(_("check on them, re-measure, call the health liaison")),
                       due_in=timedelta(minutes=30), priority=Priority.URGENT,
                       detail={"gate_record": event.record_id}, owner_from=owner_from)
    if household is None:
        yield Alert(area=area, roles=(Role.WARDEN,), within=True, title=f"【{label}】{summary}",
                    text=str(_("A visitor with fever at the compound's gate: a follow-up is open "
                               "for the compound's warden.")))
    yield Alert(area=area, roles=(Role.HEALTH,), title=f"【{label}】{summary}",
                text=str(_("A follow-up is open to check on them.")))


@rule("observation_breach", on="gate_check.created")
def observation_breach(event: GateCheckEvent) -> Iterator[Outcome]:
    """A member of a household under home observation goes out through a gate."""
    if event.direction != GateRecord.Direction.OUT or not event.under_observation:
        return
    household = event.household
    assert household is not None  # only households are under observation
    gate = event.gate
    went_out = str(_("under home observation, went out"))
    yield OpenFollowUp(
        kind="observation_breach", subject_type="household", subject_id=household.code,
        area=household, priority=Priority.URGENT, due_in=timedelta(minutes=30),
        summary=f"{gate.compound.name} {gate.name} {_who(event)} {went_out}",
        action=str(_("call them at once and bring them home; register why they went out")),
        detail={"gate_record": event.record_id},
    )
