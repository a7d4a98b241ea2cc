"""The audit log as a commander reads it: who (their name, not a log-in name), what was done, to
what (in words: "居民 张*", "出入证"), where (东河区 保利百合 34号楼 …) — never a model's label
such as `registry.resident 2110`. Names are masked as the reader's role requires (`present`);
showing them here is not a view of the record, so nothing more is written to the log."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db.models import Model
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from louzhang.access.masking import present
from louzhang.accounts.models import User
from louzhang.areas.models import Area, Level
from louzhang.audit.models import AuditEvent
from louzhang.registry.models import Resident

#: what an object is, for the kinds that are not a model (or whose model's name says less)
KINDS = {
    "tip": gettext_lazy("tip"),
    "duty.response_level": gettext_lazy("response level"),
    "registry.import.residents": gettext_lazy("import of residents"),
    "registry.import.vehicles": gettext_lazy("import of vehicles"),
    "registry.import.officers": gettext_lazy("import of officers"),
}
#: kinds whose summaries are written for people (names, times) and are shown as they are
SUMMARY_IN_WORDS = {"duty.shift", "duty.reassignment", "checkpoints.keyregion", "screening.round"}
#: levels named in a place (as `followups.services.where`): the district, compound, building,
#: unit and household; the city, sub-district and community add length and nothing a reader needs
_NAMED_LEVELS = {Level.DISTRICT, Level.COMPOUND, Level.BUILDING, Level.UNIT, Level.HOUSEHOLD}


@dataclass(frozen=True)
class AuditRow:
    event: AuditEvent
    actor: str
    action: str
    what: str
    where: str
    note: str


def audit_rows(reader: Any, events: Sequence[AuditEvent]) -> list[AuditRow]:
    """The page's events in words, read in a fixed number of queries."""
    places = _places(e.area_path for e in events)
    residents = _residents(reader, events)
    users = _users(events)
    rows = []
    for e in events:
        rows.append(AuditRow(
            event=e,
            actor=str(e.actor) if e.actor is not None else (e.actor_username or _("someone not logged in")),
            action=e.get_action_display() if e.action in AuditEvent.Action.values else _("other change"),
            what=_what(e, residents, users),
            where=places.get(e.area_path, ""),
            note=_note(e),
        ))
    return rows


def _kind(object_type: str) -> str:
    if object_type in KINDS:
        return str(KINDS[object_type])
    model = _model(object_type)
    return str(model._meta.verbose_name) if model is not None else _("record")


def _model(object_type: str) -> type[Model] | None:
    try:
        return apps.get_model(object_type)
    except (LookupError, ValueError):
        return None


def _ids(e: AuditEvent) -> list[str]:
    ids = e.detail.get("ids") if isinstance(e.detail, dict) else None
    if isinstance(ids, list) and ids:
        return [str(i) for i in ids]
    return [e.object_id] if e.object_id else []


def _what(e: AuditEvent, residents: dict[str, str], users: dict[str, str]) -> str:
    kind = _kind(e.object_type)
    if e.action == AuditEvent.Action.LOGIN_FAILED:
        typed = e.detail.get("username", "") if isinstance(e.detail, dict) else ""
        return _("log-in name typed: %(name)s") % {"name": typed} if typed else kind
    ids = _ids(e)
    if e.object_type == "registry.resident":
        count = e.detail.get("count") if isinstance(e.detail, dict) else None
        if isinstance(count, int) and (count != 1 or not ids):
            return ngettext("%(n)d resident", "%(n)d residents", count) % {"n": count}
        names = [residents[i] for i in ids if i in residents]
        if len(ids) > 1:
            shown = "、".join(names[:3]) + ("…" if len(ids) > 3 else "")
            return ngettext("%(n)d resident", "%(n)d residents", len(ids)) % {"n": len(ids)} + (
                f"（{shown}）" if shown else "")
        return f"{kind} {names[0]}" if names else kind
    if e.object_type == "accounts.user":
        name = users.get(e.object_id, "")
        return f"{kind} {name}" if name else kind
    model = _model(e.object_type)
    if model is not None and ids and len(ids) > 1:
        return f"{kind} ×{len(ids)}"
    return kind


def _note(e: AuditEvent) -> str:
    if e.object_type in SUMMARY_IN_WORDS:
        return e.summary
    return ""


def _places(paths: Iterable[str]) -> dict[str, str]:
    """Each area path in words (东河区 保利百合 34号楼 二单元 6楼西户), in one query."""
    wanted = {p for p in paths if p}
    prefixes: set[str] = set()
    for path in wanted:
        parts = [p for p in path.split("/") if p]
        prefixes.update("/" + "/".join(parts[:n]) + "/" for n in range(1, len(parts) + 1))
    if not prefixes:
        return {}
    names = dict(Area.objects.filter(path__in=prefixes, level__in=_NAMED_LEVELS).values_list("path", "name"))
    places = {}
    for path in wanted:
        parts = [p for p in path.split("/") if p]
        chain = ("/" + "/".join(parts[:n]) + "/" for n in range(1, len(parts) + 1))
        places[path] = " ".join(names[c] for c in chain if c in names)
    return places


def _residents(reader: Any, events: Sequence[AuditEvent]) -> dict[str, str]:
    """The names of the residents the events are about, masked as the reader's role requires."""
    ids = {i for e in events if e.object_type == "registry.resident" for i in _ids(e)[:3]}
    ids = {i for i in ids if i.isdigit()}
    if not ids:
        return {}
    found = list(Resident.objects.filter(pk__in=ids).select_related("household"))
    shown = present(reader, found, path_of=lambda r: r.household.path, record=False)
    return {str(p.obj.pk): p["name"] for p in shown}


def _users(events: Sequence[AuditEvent]) -> dict[str, str]:
    ids = {e.object_id for e in events if e.object_type == "accounts.user" and e.object_id.isdigit()}
    if not ids:
        return {}
    return {str(pk): name or username for pk, name, username in
            User.objects.filter(pk__in=ids).values_list("pk", "display_name", "username")}
