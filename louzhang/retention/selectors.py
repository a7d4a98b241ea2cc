"""What the residents' page (`/privacy/`) and the operators read: the policy in words, and the
purges that were run."""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.utils.functional import Promise

from louzhang.retention.models import PurgeRun
from louzhang.retention.policy import POLICY, Action, Rule


@dataclass(frozen=True)
class Entry:
    kind: str
    action: str
    what: str | Promise
    why: str | Promise
    #: the removed fields, as the forms name them
    fields: tuple[str, ...]
    after_days: int
    kept_for: str | Promise
    #: rows still open are kept until closed
    open: bool = False


def _labels(rule: Rule) -> tuple[str, ...]:
    model = apps.get_model(rule.model)
    labels: list[str] = []
    for name in rule.fields:
        label = str(getattr(model._meta.get_field(name), "verbose_name", name))
        if label not in labels:
            labels.append(label)
    return tuple(labels)


def policy_entries(action: Action) -> list[Entry]:
    """The rules of one action, in the policy's order, ready for a page."""
    return [Entry(r.kind, r.action.value, r.what, r.why, _labels(r), r.after_days, r.kept_for,
                  r.open_if is not None)
            for r in POLICY if r.action == action]


def last_purge() -> PurgeRun | None:
    """The last purge that ran to its end (dry runs do not count)."""
    return PurgeRun.objects.filter(dry_run=False, finished_at__isnull=False).order_by("-finished_at").first()
