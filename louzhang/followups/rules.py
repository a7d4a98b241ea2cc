"""The rule registry: named functions of a domain event that open follow-ups and raise alerts.

A rule is a plain function from an event to outcomes; it decides, the engine acts. That keeps
rules short, readable and testable without a database::

    @rule("fever", on="gate_check.created")
    def fever(event: GateCheckCreated) -> Iterator[Outcome]:
        if event.temperature >= settings.LOUZHANG_FEVER_THRESHOLD:
            yield OpenFollowUp(kind="fever", subject=("household", event.household_code), ...)
            yield Alert(area=event.compound, roles=("health",), title=..., text=...)

`rules_fire(name, event)` runs every rule registered for the event inside the caller's
transaction, so follow-ups and their notifications commit with the event or not at all.
Summaries and alert texts go to group chats: compose them from masked values only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from louzhang.areas.models import Area
from louzhang.followups.models import FollowUp, Priority


@dataclass(frozen=True)
class OpenFollowUp:
    kind: str
    subject_type: str
    subject_id: str
    area: Area
    summary: str
    action: str
    due_in: timedelta
    priority: int = Priority.NORMAL
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Alert:
    """Tell the holders of `roles` over `area`, without giving them a follow-up."""

    area: Area
    roles: tuple[str, ...]
    title: str
    text: str


Outcome = OpenFollowUp | Alert


@dataclass(frozen=True)
class Rule:
    name: str
    event: str
    func: Callable[[Any], Iterable[Outcome]]


@dataclass(frozen=True)
class Fired:
    rule: str
    followup: FollowUp | None
    #: False when an open follow-up for the same rule and subject existed (deduplicated)
    created: bool


RULES: dict[str, Rule] = {}

#: labels of follow-up kinds, added by the features that define them
KINDS: dict[str, str | Promise] = {"task": _("task")}


def register_kind(name: str, label: str | Promise) -> None:
    KINDS[name] = label


def kind_label(name: str) -> str:
    return str(KINDS.get(name, name))


def rule(name: str, *, on: str) -> Callable[[Callable[[Any], Iterable[Outcome]]], Callable[[Any], Iterable[Outcome]]]:
    def register(func: Callable[[Any], Iterable[Outcome]]) -> Callable[[Any], Iterable[Outcome]]:
        if name in RULES and RULES[name].func is not func:
            raise ValueError(f"rule {name!r} is registered twice")
        RULES[name] = Rule(name, on, func)
        return func

    return register


def rules_for(event: str) -> list[Rule]:
    return [r for r in RULES.values() if r.event == event]


def rules_fire(event_name: str, event: Any) -> list[Fired]:
    """Run the rules for `event_name`; call inside the transaction that records the event."""
    from louzhang.followups.services import followup_open
    from louzhang.notifications.services import alert_raise

    fired: list[Fired] = []
    for registered in rules_for(event_name):
        for outcome in registered.func(event):
            if isinstance(outcome, OpenFollowUp):
                followup, created = followup_open(
                    rule=registered.name, kind=outcome.kind, subject_type=outcome.subject_type,
                    subject_id=outcome.subject_id, area=outcome.area, summary=outcome.summary,
                    action=outcome.action, due_in=outcome.due_in, priority=outcome.priority,
                    detail=outcome.detail,
                )
                fired.append(Fired(registered.name, followup, created))
            else:
                alert_raise(area=outcome.area, roles=outcome.roles, title=outcome.title,
                            text=outcome.text)
                fired.append(Fired(registered.name, None, True))
    return fired
