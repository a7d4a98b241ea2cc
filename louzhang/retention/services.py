"""The purge (清除): when an emergency ends, its personal data goes as `retention.policy` says.

`purge()` walks each rule's table by id ranges (`BATCH` ids a transaction: a crash leaves every
batch whole, done or not done), changing only the rows that still hold something the rule
removes — so running it again changes nothing, and a dry run counts exactly what a run would
change. Files named by a purged row (a tip's photo, an uploaded registry file) are removed after
their batch commits. The run is kept as a `PurgeRun`, the report.

Rows still open (`Rule.open_if`) are skipped and counted in `PurgeReport.still_open`. One purge
runs at a time (a PostgreSQL session advisory lock; SQLite has one writer anyway), and the audit
log gets an event when a run starts and when it ends: a run that stopped partway shows as a start
without an end (and a `PurgeRun` without `finished_at`). Before a real run changes anything it
calls `freeze(ended_on)`: the operator's command passes `stats`' freeze, so the days of the
emergency are never rolled up again from records that are gone (retention cannot import stats).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection, models, transaction
from django.db.models import Case, CharField, Max, Min, Q, Value, When
from django.db.models.functions import Cast, Concat, Left, TruncYear
from django.utils import timezone

from louzhang.audit.models import AuditEvent
from louzhang.audit.services import audit_record
from louzhang.core.ingest import emergency_start
from louzhang.duty.models import ResponseLevel
from louzhang.retention.models import PurgeRun
from louzhang.retention.policy import (
    MARK,
    MASK_TAIL,
    MEDIA,
    POLICY,
    TOKEN_MARK,
    Action,
    Replace,
    Rule,
)

logger = logging.getLogger(__name__)

#: ids per transaction
BATCH = 5000


class PurgeRefused(Exception):
    """The purge cannot run as asked; the message says why."""


@dataclass
class PurgeReport:
    run: PurgeRun
    #: kind -> rows changed (or that a dry run would change)
    counts: dict[str, int] = field(default_factory=dict)
    #: kind -> files removed (or that would be)
    files: dict[str, int] = field(default_factory=dict)
    #: kinds whose rule applies only later (`Rule.after_days`)
    not_due: dict[str, date] = field(default_factory=dict)
    #: kind -> rows skipped because they are still open (kept until closed)
    still_open: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "run": self.run.pk, "ended_on": self.run.ended_on.isoformat(), "dry_run": self.run.dry_run,
            "counts": self.counts, "files": self.files,
            "not_due": {k: d.isoformat() for k, d in self.not_due.items()},
            "still_open": self.still_open,
            "kept": [r.kind for r in POLICY if r.action == Action.KEEP],
        }


#: a selection of a table's rows, given the id range of a batch (None: the whole table)
Selection = Callable[[tuple[int, int] | None], Q]


def _emergency_only(model: type[models.Model]) -> Selection:
    """People added to the registry by `registry.people.person_register` (its per-person audit
    event), since the emergency began. The audit events are read once (by their time, which is
    indexed), and each batch filters by the ids it holds: no join of residents with the audit
    table."""
    start = emergency_start()
    ids: set[int] = set()
    for object_id in (AuditEvent.objects.filter(action=AuditEvent.Action.CREATE,
                                                object_type="registry.resident", at__gte=start)
                      .values_list("object_id", flat=True).iterator(chunk_size=10000)):
        if str(object_id).isdigit():
            ids.add(int(object_id))

    def select(bounds: tuple[int, int] | None) -> Q:
        lo, hi = bounds if bounds else (-1, 1 << 62)
        return Q(pk__in=sorted(i for i in ids if lo <= i < hi)) & Q(created_at__gte=start)

    return select


def _unit_reps_only(model: type[models.Model]) -> Selection:
    """Accounts whose every grant is the unit representative's (residents, not staff), and those
    grants."""
    from louzhang.accounts.models import Grant, Role, User

    users = (User.objects.filter(grants__role=Role.UNIT_REP, is_superuser=False, is_staff=False)
             .exclude(pk__in=Grant.objects.exclude(role=Role.UNIT_REP).values("user_id")))
    if model is User:
        q = Q(pk__in=users.values("pk"))
    else:
        q = Q(role=Role.UNIT_REP, user_id__in=users.values("pk"))
    return lambda bounds: q


#: named selections of rows (`Rule.scope`)
SCOPES: dict[str, Callable[[type[models.Model]], Selection]] = {
    "emergency_only": _emergency_only, "unit_reps_only": _unit_reps_only}


def _field_at(model: type[models.Model], path: str) -> models.Field[Any, Any]:
    current: type[models.Model] = model
    parts = path.split("__")
    for part in parts[:-1]:
        related = current._meta.get_field(part).related_model
        assert isinstance(related, type)
        current = related
    found = current._meta.get_field(parts[-1])
    assert isinstance(found, models.Field)
    return found


def end_moment(ended_on: date) -> datetime:
    """The end of the emergency's last day (local midnight after it)."""
    return timezone.make_aware(datetime.combine(ended_on + timedelta(days=1), time()))


def _dated(rule: Rule, ended_on: date) -> Q:
    model = apps.get_model(rule.model)
    if not rule.when:
        return Q()
    if isinstance(_field_at(model, rule.when), models.DateTimeField):
        return Q(**{f"{rule.when}__lt": end_moment(ended_on)})
    return Q(**{f"{rule.when}__lte": ended_on})


def in_scope(rule: Rule, ended_on: date, *, selection: Selection | None = None,
             bounds: tuple[int, int] | None = None) -> Q:
    """The rows of `rule`'s table that belong to an emergency ended on `ended_on` and are no
    longer open (`Rule.open_if`); `bounds`: within that id range."""
    q = _dated(rule, ended_on) & ~rule.still_open()
    if rule.scope:
        if selection is None:
            selection = SCOPES[rule.scope](apps.get_model(rule.model))
        q &= selection(bounds)
    return q


def open_rows(rule: Rule, ended_on: date) -> int:
    """Rows of the emergency that the rule skips because they are still open."""
    if rule.open_if is None:
        return 0
    model = apps.get_model(rule.model)
    return int(model._default_manager.filter(_dated(rule, ended_on) & rule.still_open()).count())


def _values(rule: Rule, token_prefix: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, how in rule.fields.items():
        if how == Replace.BLANK:
            values[name] = ""
        elif how == Replace.MARK:
            values[name] = Case(When(**{name: ""}, then=Value("")), default=Value(MARK),
                                output_field=CharField())
        elif how == Replace.NULL:
            values[name] = None
        elif how == Replace.UNIQUE:
            values[name] = Concat(Value(MARK), Cast("id", CharField()), output_field=CharField())
        elif how == Replace.TOKEN:
            values[name] = Concat(Value(token_prefix), Cast("id", CharField()), output_field=CharField())
        elif how == Replace.YEAR:
            values[name] = TruncYear(name, output_field=models.DateField())
        elif how == Replace.FALSE:
            values[name] = False
        elif how == Replace.UNUSABLE:
            values[name] = Concat(Value("!" + token_prefix[1:]), Cast("id", CharField()),
                                  output_field=CharField())
        elif how == Replace.ENDED:
            now = timezone.now()
            values[name] = Case(When(**{f"{name}__lt": now}, then=name), default=Value(now))
        elif how == Replace.MASK:
            values[name] = Case(When(**{name: ""}, then=Value("")),
                                default=Concat(Left(name, 6), Value(MASK_TAIL)), output_field=CharField())
    return values


def _remove_files(paths: Sequence[tuple[str, str]]) -> None:
    for root, relative in paths:
        try:
            if root == MEDIA:
                default_storage.delete(relative)
            else:
                base = Path(settings.VAR_DIR).resolve()
                target = (base / relative).resolve()
                if target.is_relative_to(base):  # never outside var/, whatever a row says
                    target.unlink(missing_ok=True)
        except OSError:
            logger.warning("purge: could not remove %s file %s", root, relative)


def _id_ranges(model: type[models.Model], batch: int) -> Iterable[tuple[int, int]]:
    bounds = model._default_manager.aggregate(lo=Min("pk"), hi=Max("pk"))
    if bounds["lo"] is None:
        return
    start = int(bounds["lo"])
    while start <= int(bounds["hi"]):
        yield start, start + batch
        start += batch


def _apply(rule: Rule, ended_on: date, *, dry_run: bool, batch: int) -> tuple[int, int]:
    """Rows changed (or to be) and files removed (or to be) by one rule."""
    model = apps.get_model(rule.model)
    selection = SCOPES[rule.scope](model) if rule.scope else None
    token_prefix = TOKEN_MARK + secrets.token_urlsafe(12)
    changed = removed = 0
    for lo, hi in _id_ranges(model, batch):
        with transaction.atomic():
            chunk = (model._default_manager
                     .filter(in_scope(rule, ended_on, selection=selection, bounds=(lo, hi)))
                     .filter(rule.pending()).filter(pk__gte=lo, pk__lt=hi))
            files: list[tuple[str, str]] = []
            for name, root in rule.files.items():
                files += [(root, p) for p in chunk.exclude(**{name: ""}).values_list(name, flat=True)]
            removed += len(files)
            if dry_run:
                changed += chunk.count()
                continue
            if rule.action == Action.DELETE:
                changed += chunk.delete()[1].get(model._meta.label, 0)
            else:
                changed += chunk.update(**_values(rule, token_prefix))
            if files:
                transaction.on_commit(lambda files=files: _remove_files(files))  # type: ignore[misc]
    return changed, removed


def purge_refusal(*, ended_on: date, force: bool = False) -> str | None:
    """Why a purge for an emergency ended on `ended_on` must not run now, or None."""
    today = timezone.localdate()
    if ended_on > today:
        return f"the end date {ended_on} is in the future (today is {today})"
    start = settings.LOUZHANG_EMERGENCY_START_DATE
    if ended_on < start:
        return f"the end date {ended_on} is before the emergency began ({start}, LOUZHANG_EMERGENCY_START)"
    if not force:
        up = list(ResponseLevel.objects.filter(ended_at__isnull=True, level__gt=0)
                  .select_related("area").order_by("area__path")[:5])
        if up:
            names = ", ".join(f"{r.area.code} {r.area.name} (level {r.level})" for r in up)
            return (f"a response level is still in force: {names}; end it first "
                    f"(`louzhang response set AREA --level 0`) or give --force")
    return None


#: the session advisory lock held by a purge (PostgreSQL)
LOCK_KEY = int.from_bytes(hashlib.blake2b(b"retention.purge", digest_size=8).digest(), "big", signed=True)


@contextmanager
def _one_at_a_time() -> Iterator[None]:
    """Hold the purge's lock for the whole run (many transactions): a second purge is refused
    while one runs. On SQLite nothing: one writer at a time anyway."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY])
        (got,) = cursor.fetchone()
    if not got:
        raise PurgeRefused("another purge is running; wait for it to finish")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])


def purge(*, ended_on: date, dry_run: bool, actor: Any, force: bool = False,
          policy: Sequence[Rule] = POLICY, batch: int = BATCH,
          freeze: Callable[[date], None] | None = None) -> PurgeReport:
    """Purge (or, with `dry_run`, count) the personal data of the emergency that ended on
    `ended_on`, as `policy` says. `actor`: None for the operator at the console, else a
    superuser. `freeze`: called with `ended_on` before a real run changes anything (the command
    freezes the daily figures up to that day). Raises `PurgeRefused` with the reason when it
    must not run."""
    if actor is not None and not getattr(actor, "is_superuser", False):
        raise PurgeRefused("only the operator (at the console) or a superuser may purge")
    refusal = purge_refusal(ended_on=ended_on, force=force)
    if refusal:
        raise PurgeRefused(refusal)
    with _one_at_a_time():
        return _run(ended_on=ended_on, dry_run=dry_run, actor=actor, force=force, policy=policy,
                    batch=batch, freeze=freeze)


def _run(*, ended_on: date, dry_run: bool, actor: Any, force: bool, policy: Sequence[Rule],
         batch: int, freeze: Callable[[date], None] | None) -> PurgeReport:
    run = PurgeRun.objects.create(actor=actor, actor_username=getattr(actor, "username", "") or "",
                                  ended_on=ended_on, dry_run=dry_run, forced=force)
    report = PurgeReport(run)
    if not dry_run:
        audit_record(actor=actor, action=AuditEvent.Action.DELETE, object_type="retention.purge",
                     object_id=run.pk, summary=f"purge of the emergency ended on {ended_on}: started",
                     detail={"forced": force, "stage": "start"})
        if freeze is not None:
            freeze(ended_on)
    today = timezone.localdate()
    for rule in policy:
        if rule.action == Action.KEEP:
            continue
        due = ended_on + timedelta(days=rule.after_days)
        if today < due:
            report.not_due[rule.kind] = due
            report.counts[rule.kind] = 0
            continue
        changed, removed = _apply(rule, ended_on, dry_run=dry_run, batch=batch)
        report.counts[rule.kind] = changed
        if rule.open_if is not None:
            report.still_open[rule.kind] = open_rows(rule, ended_on)
        if rule.files:
            report.files[rule.kind] = removed
    run.counts = report.counts
    run.files = report.files
    run.still_open = report.still_open
    run.finished_at = timezone.now()
    run.save(update_fields=["counts", "files", "still_open", "finished_at"])
    if not dry_run:
        audit_record(actor=actor, action=AuditEvent.Action.DELETE, object_type="retention.purge",
                     object_id=run.pk, summary=f"purge of the emergency ended on {ended_on}: "
                     f"{sum(report.counts.values())} rows",
                     detail={"counts": report.counts, "files": report.files, "forced": force,
                             "still_open": report.still_open, "stage": "end"})
    return report
