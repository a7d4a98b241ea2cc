"""Retention and purge (PIPL): when the emergency is over, the operator runs `louzhang purge`;
nothing personal is left in any table of the emergency, the police registry and the daily
figures stay, and residents read on /privacy/ what is kept, why and for how long."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db.models import Q
from django.urls import include, path
from django.utils import timezone

from louzhang.areas.models import Area
from louzhang.core.personal import PersonalFieldMixin
from louzhang.duty.models import ResponseLevel
from louzhang.gates.models import Gate, GateRecord
from louzhang.ops.management.commands.purge import freeze_figures
from louzhang.registry.models import Resident
from louzhang.retention.models import PurgeRun
from louzhang.retention.policy import (
    MARK,
    MASK_TAIL,
    POLICY,
    TOKEN_MARK,
    Action,
    Replace,
    Rule,
    _pending,
)
from louzhang.retention.services import PurgeRefused, in_scope, purge
from louzhang.screening.models import Finding
from louzhang.screening.services import VisitIn, visit_record
from louzhang.stats.models import AreaDay
from louzhang.stats.rollup import rebuild
from louzhang.tips.models import Tip

from .conftest import BAOLI, BAOLI_34_2_6W

# the privacy page, wired as the lead wires it in louzhang/urls.py (`include("louzhang.retention.urls")`)
urlpatterns = [path("", include("louzhang.retention.urls")), path("", include("louzhang.urls"))]




def _valid_id() -> str:
    from louzhang.identifiers.id_numbers import parse_id_number

    base = "15020219900307123"
    for check in "0123456789X":
        try:
            return parse_id_number(base + check).number
        except Exception:  # noqa: BLE001, S112 - trying each check digit
            continue
    raise AssertionError("no valid check digit")


def _figures() -> dict[tuple[int, date], dict[str, Any]]:
    rows = AreaDay.objects.values()
    return {(r["area_id"], r["day"]): {k: v for k, v in r.items() if k not in ("id", "refreshed_at")}
            for r in rows}


def _end_responses() -> None:
    ResponseLevel.objects.filter(ended_at__isnull=True).update(ended_at=timezone.now())


@pytest.fixture
def emergency(warden: Any, gate: Any, settings: Any, tmp_path: Any) -> dict[str, Any]:
    """The demo city with its two weeks of history, plus what the emergency adds by hand: a
    person registered at a visit, a visitor at the gate, a tip with a photo."""
    from louzhang.demo.stats import demo_stats

    settings.MEDIA_ROOT = str(tmp_path / "media")
    demo_stats()
    _end_responses()
    household = Area.objects.get(code=BAOLI_34_2_6W)
    result = visit_record(actor=warden, data=VisitIn.model_validate({
        "client_id": "retention-visit-1", "household": household.code,
        "at": (timezone.now() - timedelta(hours=2)).isoformat(), "mode": "in_person",
        "note": "张伟家，女儿刚从武汉回来",
        "people": [{"id_number": _valid_id(), "name": "李新来", "phone": "13912345678",
                    "key_region_stay": None, "travel": "G123", "symptoms": ["cough"],
                    "note": "咳嗽两天"}]}))
    assert result.added, "the visit registered the traveller"
    added = Resident.objects.get(pk=result.added[0])
    visitor = GateRecord.objects.create(
        gate=Gate.objects.filter(compound__code=BAOLI).first(), client_id="retention-gate-1",
        recorded_by=gate, direction="in", at=timezone.now() - timedelta(hours=1),
        temperature=Decimal("36.5"), visitor_name="王访客", visitor_phone="13800001111",
        visitor_id_number="150202198001010011", visitor_reason="探亲", visiting="34号楼二单元6楼西户")
    photo = default_storage.save("tips/retention.jpg", ContentFile(b"\xff\xd8\xff\xd9"))
    tip = Tip.objects.create(
        tracking_code="RETN2345", area=Area.objects.get(code=BAOLI), category="vehicle",
        place="34号楼下", content="鄂A车牌停在楼下，车主姓刘", plate="鄂A5K2B9",
        contact_phone="13700002222", photo=photo, source="web", status="confirmed")
    # one home observation has ended (the demo's are still under way): the purge deletes it
    from louzhang.observation.models import Observation

    ended = Observation.objects.filter(status="active", check_ins__isnull=False).order_by("pk").first()
    assert ended is not None
    Observation.objects.filter(pk=ended.pk).update(status="released", closed_at=timezone.now())
    registry = set(Resident.objects.exclude(pk=added.pk).values_list("pk", "id_number", "name", "phone"))
    return {"added": added, "visitor": visitor, "tip": tip, "photo": photo, "registry": registry,
            "ended_observation": ended}


def _leftovers(ended_on: date) -> dict[str, int]:
    """Rows of the emergency still holding something personal, per kind: every
    PersonalCharField of the rule's table and every field the rule names."""
    left: dict[str, int] = {}
    for rule in POLICY:
        if rule.action == Action.KEEP:
            continue
        model = apps.get_model(rule.model)
        rows = model._default_manager.filter(in_scope(rule, ended_on))
        if rule.action == Action.DELETE:
            left[rule.kind] = rows.count()
            continue
        names = set(rule.fields) | {f.name for f in model._meta.get_fields() if isinstance(f, PersonalFieldMixin)}
        personal = Q(pk__in=[])
        for name in names:
            how = rule.fields.get(name, Replace.BLANK)
            if how in (Replace.FALSE, Replace.UNUSABLE, Replace.ENDED, Replace.MASK):
                personal |= _pending(name, how)
            elif how == Replace.NULL:
                personal |= Q(**{f"{name}__isnull": False})
            elif how == Replace.UNIQUE:
                personal |= ~Q(**{f"{name}__startswith": MARK})
            elif how == Replace.TOKEN:
                personal |= ~Q(**{f"{name}__startswith": TOKEN_MARK})
            elif how == Replace.YEAR:
                personal |= ~(Q(**{f"{name}__month": 1}) & Q(**{f"{name}__day": 1}))
            else:
                personal |= ~Q(**{name: ""}) & ~Q(**{name: MARK})
        left[rule.kind] = rows.filter(personal).count()
    return left


def test_every_personal_field_of_every_model_is_covered_by_the_policy() -> None:
    named = {(r.model.lower(), f) for r in POLICY for f in r.fields}
    kept = {r.model.lower() for r in POLICY if r.action == Action.KEEP}
    deleted = {r.model.lower() for r in POLICY if r.action == Action.DELETE}
    missing = []
    for model in apps.get_models():
        label = model._meta.label_lower
        for f in model._meta.get_fields():
            if isinstance(f, PersonalFieldMixin) and label not in kept | deleted and (label, f.name) not in named:
                missing.append(f"{label}.{f.name}")
    assert missing == []


def test_purge_leaves_nothing_personal_keeps_the_registry_and_the_figures(
        emergency: dict[str, Any], django_capture_on_commit_callbacks: Any) -> None:
    today = timezone.localdate()
    first = today - timedelta(days=14)
    rebuild(first, today)
    figures = _figures()
    before = _leftovers(today)
    # the emergency really holds personal data of each kind the demo makes
    for kind in ("residents_added", "gate_records", "findings", "observations", "tips",
                 "followups", "visits"):
        assert before[kind] > 0, kind
    assert default_storage.exists(emergency["photo"])

    dry = purge(ended_on=today, dry_run=True, actor=None)
    assert _leftovers(today) == before, "a dry run changes nothing"
    assert default_storage.exists(emergency["photo"])

    with django_capture_on_commit_callbacks(execute=True):  # files go once their batch commits
        report = purge(ended_on=today, dry_run=False, actor=None, freeze=freeze_figures)
    assert report.counts == dry.counts, "the dry run counted what the run changed"
    assert report.counts == before
    assert report.files["tips"] >= 1
    assert _leftovers(today) == {k: 0 for k in before}

    added = Resident.objects.get(pk=emergency["added"].pk)
    assert added.name == MARK and added.id_number.startswith(MARK) and not added.phone
    assert added.birth_date == date(1990, 1, 1)
    visitor = GateRecord.objects.get(pk=emergency["visitor"].pk)
    assert (visitor.visitor_name, visitor.visitor_phone, visitor.visitor_id_number, visitor.visiting) == ("", "", "", "")
    assert visitor.temperature == Decimal("36.5")
    tip = Tip.objects.get(pk=emergency["tip"].pk)
    assert (tip.content, tip.contact_phone, tip.photo, tip.plate) == (MARK, "", "", "")
    assert not default_storage.exists(emergency["photo"])
    # health records tied to a person are gone, not kept under the person's link
    assert not Finding.objects.filter(resident=added).exists()
    assert visitor.household_id is None

    # the police registry is kept as it was
    assert set(Resident.objects.exclude(pk=added.pk).values_list("pk", "id_number", "name", "phone")) == emergency["registry"]
    # the figures: unchanged, and the purged days are frozen: `stats rebuild` refuses them
    assert _figures() == figures
    with pytest.raises(CommandError, match=f"the days up to {today} are frozen"):
        call_command("stats", "rebuild", "--from", first.isoformat(), "--to", today.isoformat())
    with pytest.raises(CommandError, match="frozen"):
        call_command("stats", "rebuild", "--date", today.isoformat())
    assert _figures() == figures

    again = purge(ended_on=today, dry_run=False, actor=None)
    assert again.counts == {k: 0 for k in before}, "a second run removes nothing more"
    runs = list(PurgeRun.objects.filter(pk__in=[dry.run.pk, report.run.pk]).order_by("pk"))
    assert [r.dry_run for r in runs] == [True, False]
    assert all(r.finished_at for r in runs) and runs[1].counts == report.counts


def test_a_rule_not_yet_due_changes_nothing(emergency: dict[str, Any]) -> None:
    today = timezone.localdate()
    later = [Rule(**{**r.__dict__, "after_days": 30}) if r.kind == "gate_records" else r for r in POLICY]
    report = purge(ended_on=today, dry_run=False, actor=None, policy=later)
    assert report.not_due == {"gate_records": today + timedelta(days=30)}
    assert GateRecord.objects.get(pk=emergency["visitor"].pk).visitor_name == "王访客"
    assert _leftovers(today)["gate_records"] > 0 and _leftovers(today)["tips"] == 0


def test_batches_of_a_few_ids_give_the_same_result(emergency: dict[str, Any]) -> None:
    today = timezone.localdate()
    dry = purge(ended_on=today, dry_run=True, actor=None)
    small = purge(ended_on=today, dry_run=False, actor=None, batch=7)
    assert small.counts == dry.counts
    assert all(n == 0 for n in _leftovers(today).values())


def test_refused_for_a_future_date_before_the_start_or_while_a_response_level_is_up(
        db: Any, settings: Any, commander: Any) -> None:
    today = timezone.localdate()
    with pytest.raises(PurgeRefused, match="future"):
        purge(ended_on=today + timedelta(days=1), dry_run=True, actor=None)
    with pytest.raises(PurgeRefused, match="before the emergency began"):
        purge(ended_on=settings.LOUZHANG_EMERGENCY_START_DATE - timedelta(days=1), dry_run=True, actor=None)
    _end_responses()
    ResponseLevel.objects.create(area=Area.objects.get(code="150200"), level=1)
    with pytest.raises(PurgeRefused, match="response level"):
        purge(ended_on=today, dry_run=True, actor=None)
    with pytest.raises(CommandError, match="response level"):
        call_command("purge", "--ended-on", today.isoformat(), "--dry-run")
    assert purge(ended_on=today, dry_run=True, actor=None, force=True).run.forced
    with pytest.raises(PurgeRefused, match="superuser"):
        purge(ended_on=today, dry_run=True, actor=commander, force=True)
    assert not PurgeRun.objects.filter(forced=False).exists()


def test_the_command_prints_the_report(emergency: dict[str, Any]) -> None:
    today = timezone.localdate()
    out = io.StringIO()
    call_command("purge", "--ended-on", today.isoformat(), "--dry-run", "--json", stdout=out)
    report = json.loads(out.getvalue())
    assert report["dry_run"] is True and report["counts"]["residents_added"] == 1
    assert "residents_registry" in report["kept"]
    text = io.StringIO()
    call_command("purge", "--ended-on", today.isoformat(), stdout=text)
    assert "residents_added\tanonymise\tchanged 1 rows" in text.getvalue()
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("purge", "--ended-on", "yesterday")


@pytest.mark.urls("tests.test_retention")
def test_the_privacy_page_lists_what_is_kept_in_chinese_without_script(client: Any, db: Any) -> None:
    response = client.get("/privacy/")
    assert response.status_code == 200
    assert response["Content-Language"] == "zh-Hans"
    html = response.content.decode()
    assert "<script" not in html.lower() and " on" + "click" not in html.lower()
    assert '<html lang="zh-Hans">' in html
    for rule in POLICY:
        assert f'data-kind="{rule.kind}" data-action="{rule.action.value}"' in html
    assert "data-last-purge" not in html
    assert response["X-Robots-Tag"] == "noindex, nofollow"


@pytest.mark.urls("tests.test_retention")
def test_the_privacy_page_says_when_the_last_purge_ran(client: Any, db: Any) -> None:
    _end_responses()
    ended = timezone.localdate() - timedelta(days=1)
    purge(ended_on=ended, dry_run=True, actor=None)
    assert "data-last-purge" not in client.get("/privacy/").content.decode()
    purge(ended_on=ended, dry_run=False, actor=None)
    assert f'data-last-purge="{ended.isoformat()}"' in client.get("/privacy/").content.decode()


@pytest.mark.urls("tests.test_retention")
def test_the_privacy_page_is_rate_limited(client: Any, db: Any) -> None:
    codes = [client.get("/privacy/").status_code for _ in range(125)]
    assert codes.count(200) == 120 and codes[-1] == 429


# --- the reviewer's findings ------------------------------------------------------------------

REASON = "检查站发现发热旅客，自称住在东河区，需要核实住址和所属楼长。"


def test_a_finished_home_observation_goes_with_its_check_ins_and_history(emergency: dict[str, Any]) -> None:
    from louzhang.observation.models import CheckIn, Observation, ObservationEvent

    today = timezone.localdate()
    ended = emergency["ended_observation"]
    assert CheckIn.objects.filter(observation_id=ended.pk).exists()
    assert Finding.objects.exists()
    report = purge(ended_on=today, dry_run=False, actor=None, freeze=freeze_figures)
    assert report.counts["observations"] >= 1 and report.counts["check_ins"] >= 1
    assert not Observation.objects.filter(pk=ended.pk).exists()
    assert not CheckIn.objects.filter(observation_id=ended.pk).exists()
    assert not ObservationEvent.objects.filter(observation_id=ended.pk).exists()
    # no health record of the emergency is left tied to a person, whoever it was
    assert not Finding.objects.filter(visit__at__lt=timezone.now()).exists()
    assert not GateRecord.objects.filter(at__lt=timezone.now(), household__isnull=False).exists()


def test_work_still_open_is_kept_and_reported(emergency: dict[str, Any]) -> None:
    from louzhang.followups.models import ACTIVE_STATES, FollowUp
    from louzhang.observation.models import CheckIn, Observation

    today = timezone.localdate()
    # one under way, with a check-in (the fixture ended the demo's one: this is its copy)
    from louzhang.observation.models import new_token

    active = Observation.objects.get(pk=emergency["ended_observation"].pk)
    active.pk = None
    active.gate_mark = None
    active.token = new_token()
    active.status, active.closed_at, active.close_note = "active", None, ""
    active.save()
    CheckIn.objects.create(observation=active, client_id="retention-open-1", via="resident",
                           at=timezone.now() - timedelta(hours=3), temperature=Decimal("36.8"))
    active.refresh_from_db()
    check_ins = CheckIn.objects.filter(observation=active).count()
    task = FollowUp.objects.filter(state__in=ACTIVE_STATES).order_by("pk").first()
    assert task is not None
    tip = Tip.objects.create(tracking_code="RETN2346", area=Area.objects.get(code=BAOLI), category="vehicle",
                             place="34号楼下", content="还在核实的线索", contact_phone="13700003333",
                             source="web", status="verifying")
    before = (active.token, active.reason, active.resident_id, task.summary)
    out = io.StringIO()
    call_command("purge", "--ended-on", today.isoformat(), stdout=out)
    active.refresh_from_db()
    task.refresh_from_db()
    tip.refresh_from_db()
    assert (active.token, active.reason, active.resident_id, task.summary) == before
    assert CheckIn.objects.filter(observation=active).count() == check_ins
    assert (tip.content, tip.contact_phone) == ("还在核实的线索", "13700003333")
    run = PurgeRun.objects.get(dry_run=False)
    for kind in ("observations", "check_ins", "followups", "tips"):
        assert run.still_open[kind] >= 1, kind
    assert "still open, kept until closed" in out.getvalue()


def test_unit_representatives_log_ins_are_closed(emergency: dict[str, Any], unit_rep: Any, warden: Any) -> None:
    from louzhang.accounts.models import Grant, User

    assert unit_rep.is_active and unit_rep.display_name
    report = purge(ended_on=timezone.localdate(), dry_run=False, actor=None)
    assert report.counts["unit_rep_accounts"] == 1
    rep = User.objects.get(pk=unit_rep.pk)
    assert not rep.is_active and not rep.has_usable_password()
    assert (rep.display_name, rep.first_name, rep.last_name, rep.phone, rep.email) == ("", "", "", "", "")
    grants = list(Grant.objects.filter(user=rep))
    assert grants and all(g.ends_at is not None and g.ends_at <= timezone.now() for g in grants)
    officer = User.objects.get(pk=warden.pk)
    assert officer.is_active and officer.display_name == warden.display_name and officer.has_usable_password() == warden.has_usable_password()
    assert Grant.objects.filter(user=officer, ends_at__isnull=True).exists()


def test_look_ups_outside_the_area_lose_their_reason_and_id_number(emergency: dict[str, Any], warden_jy: Any) -> None:
    from louzhang.breakglass.models import LookUp
    from louzhang.breakglass.services import look_up_create

    compound = Area.objects.get(code=BAOLI)
    person = Resident.objects.filter(household__path__startswith=compound.path).exclude(id_number="").order_by("pk").first()
    assert person is not None
    look = look_up_create(actor=warden_jy, query=person.id_number, reason=REASON)
    purge(ended_on=timezone.localdate(), dry_run=False, actor=None)
    look = LookUp.objects.get(pk=look.pk)
    assert look.reason == MARK
    assert look.id_number == person.id_number[:6] + MASK_TAIL
    assert look.user_id == warden_jy.pk  # who looked up stays


@pytest.mark.urls("tests.test_retention")
def test_the_privacy_page_says_when_the_purge_ran_open_work_and_backups(client: Any, db: Any) -> None:
    html = client.get("/privacy/").content.decode()
    assert "data-no-purge" in html and "data-backups" in html and "data-open" in html
    assert "时间：应急结束时。" not in html and "as soon as the emergency ends" not in html
    for kind in ("observations", "followups", "tips"):
        start = html.index(f'data-kind="{kind}"')
        assert "data-kept-open" in html[start:html.index("</article>", start)], kind
    for kind in ("findings", "observations", "check_ins", "observation_events"):
        assert f'data-kind="{kind}" data-action="delete"' in html
    assert 'data-kind="cross_lookups" data-action="anonymise"' in html
    _end_responses()
    ended = timezone.localdate() - timedelta(days=1)
    purge(ended_on=ended, dry_run=False, actor=None)
    html = client.get("/privacy/").content.decode()
    assert "data-no-purge" not in html and timezone.localdate().isoformat() in html


def test_the_emergency_only_scope_reads_the_audit_log_once(emergency: dict[str, Any]) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from louzhang.audit.models import AuditEvent

    audit = AuditEvent._meta.db_table
    residents = Resident._meta.db_table
    rule = next(r for r in POLICY if r.kind == "residents_added")
    with CaptureQueriesContext(connection) as queries:
        report = purge(ended_on=timezone.localdate(), dry_run=True, actor=None, policy=[rule], batch=50)
    assert report.counts["residents_added"] == 1
    reading = [q["sql"] for q in queries.captured_queries if audit in q["sql"]]
    assert len(reading) == 1 and residents not in reading[0]
    assert Resident.objects.count() > 100, "many batches"


def test_one_purge_at_a_time_and_audited_at_its_start_and_end(emergency: dict[str, Any]) -> None:
    from django.db import connection

    from louzhang.audit.models import AuditEvent
    from louzhang.retention.services import LOCK_KEY

    today = timezone.localdate()
    if connection.vendor == "postgresql":
        import psycopg

        params = connection.get_connection_params()
        params.pop("cursor_factory", None)
        params.pop("context", None)
        with psycopg.connect(**params, autocommit=True) as other:
            other.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
            with pytest.raises(PurgeRefused, match="another purge is running"):
                purge(ended_on=today, dry_run=False, actor=None)
            other.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])
        assert not PurgeRun.objects.exists()
    report = purge(ended_on=today, dry_run=False, actor=None)
    events = list(AuditEvent.objects.filter(object_type="retention.purge", object_id=str(report.run.pk))
                  .order_by("at", "pk"))
    assert [e.detail["stage"] for e in events] == ["start", "end"]


def test_the_worker_never_rolls_a_frozen_day_up_again(emergency: dict[str, Any]) -> None:
    from louzhang.stats.rollup import refresh, rollup_day

    today = timezone.localdate()
    rebuild(today - timedelta(days=3), today)
    figures = _figures()
    purge(ended_on=today, dry_run=False, actor=None, freeze=freeze_figures)
    refresh()
    rollup_day(today - timedelta(days=2))
    assert _figures() == figures
