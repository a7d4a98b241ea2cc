"""Officers (民警、辅警) as the bureau's spreadsheet lists them — imported by badge number, bad
rows rejected with their row number and reason, importing twice changing nothing — and as
their commanders see them: the officers of their own units, each one's duty status and its
history, set by a commander of the unit."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from openpyxl import Workbook

from louzhang.accounts.models import Grant, Role, User
from louzhang.areas.models import PoliceUnit
from louzhang.audit.models import AuditEvent
from louzhang.demo.duty import demo_duty
from louzhang.duty.importing import import_officers
from louzhang.duty.models import DutyStatus, Officer, StatusChange
from louzhang.duty.services import officer_status_set
from louzhang.registry.importing.engine import ImportFileError
from tests.conftest import web_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

KDE, XNB = "HLBE-YKS-KDE", "BT-DH-XNB"


def xlsx(path: Path, rows: list[list[Any]]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["牙克石市公安局民警辅警花名册（2020年1月）"])
    sheet.append([])
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def rejects(path: str | None) -> list[dict[str, str]]:
    assert path is not None
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


HEADER = ["序号", "职务", "姓名", "警号", "类别", "所属单位", "手机号", "备注"]


@pytest.fixture
def roster(tmp_path: Path) -> Path:
    """Rows 4 to 12 under a title: three good, six wrong in one way each."""
    return xlsx(tmp_path / "花名册.xlsx", [
        HEADER,
        [1, "社区民警", "张国庆", 150782201, "民警", "库都尔派出所", "138 1234 5678", ""],   # 4
        [2, "辅警", "李桂兰", "150782202", "辅警", KDE, "", ""],                           # 5
        [3, "社区民警", "王志刚", "150202301", "民警", XNB, "0472-5123456", ""],             # 6
        [4, "辅警", "赵小军", "150782203", "辅警", "幸福派出所", "", ""],                   # 7: no such unit
        [5, "辅警", "钱多", "", "辅警", KDE, "", ""],                                       # 8: no badge
        [6, "辅警", "孙一", "150782204", "协管员", KDE, "", ""],                            # 9: category
        [7, "辅警", "周二", "150782205", "辅警", KDE, "12345", ""],                         # 10: phone
        [8, "辅警", "吴三", "150782201", "辅警", KDE, "", ""],                              # 11: same badge as row 4
        [9, "辅警", "郑" * 51, "150782206", "辅警", KDE, "", ""],                           # 12: name too long
        [],
    ])


def test_good_rows_are_kept_and_bad_ones_rejected_with_row_and_reason(roster: Path) -> None:
    summary = import_officers(roster)
    assert summary.as_dict() == {"read": 9, "created": 3, "updated": 0, "unchanged": 0, "rejected": 6,
                                 "rejects_file": str(roster.with_name("花名册-rejects.csv"))}
    zhang = Officer.objects.get(badge_number="150782201")
    assert (zhang.name, zhang.unit.code, zhang.category, zhang.post, zhang.work_phone, zhang.status) == (
        "张国庆", KDE, Officer.Category.POLICE, "社区民警", "13812345678", DutyStatus.OFF_DUTY)
    assert Officer.objects.get(badge_number="150782202").category == Officer.Category.AUXILIARY
    assert Officer.objects.get(badge_number="150202301").unit.code == XNB
    assert list(zhang.status_changes.values_list("status", "reason")) == [(DutyStatus.OFF_DUTY, "imported")]
    bad = {int(r["原行号"]): (r["错误列"], r["错误原因"]) for r in rejects(summary.rejects_file)}
    assert bad == {
        7: ("派出所", "no police unit 幸福派出所 in your jurisdiction"),
        8: ("警号", "badge number is empty"),
        9: ("类别", "category 协管员: write 民警 or 辅警"),
        10: ("手机号", bad[10][1]),
        11: ("警号", "same 警号 as row 4"),
        12: ("姓名", "name is longer than 50 characters"),
    }
    assert "12345" in bad[10][1]
    assert not Officer.objects.filter(badge_number__in=["150782203", "150782204", "150782205", "150782206"]).exists()
    event = AuditEvent.objects.filter(object_type="registry.import.officers").latest("pk")
    assert event.detail["created"] == 3


def test_importing_twice_changes_nothing_and_a_corrected_file_updates(tmp_path: Path) -> None:
    path = tmp_path / "kde.csv"
    path.write_text("警号,姓名,派出所,职务,类别\n150782301,马春生,库都尔派出所,社区民警,民警\n"
                    "150782302,何丽,HLBE-YKS-KDE,辅警,辅警\n", encoding="gb18030")
    assert import_officers(path).as_dict()["created"] == 2
    again = import_officers(path)
    assert (again.created, again.updated, again.unchanged, again.rejected) == (0, 0, 2, 0)
    assert Officer.objects.filter(badge_number__in=["150782301", "150782302"]).count() == 2
    path.write_text("\ufeff姓名,警号,派出所,职务\n马春生,150782301,库都尔派出所,副所长\n", encoding="utf-8")
    corrected = import_officers(path)
    assert (corrected.created, corrected.updated, corrected.unchanged) == (0, 1, 0)
    ma = Officer.objects.get(badge_number="150782301")
    assert ma.post == "副所长" and ma.category == Officer.Category.POLICE
    # a file without a 职务 column keeps the post registered
    path.write_text("警号,姓名,派出所\n150782301,马春生,库都尔派出所\n", encoding="utf-8")
    assert import_officers(path).unchanged == 1
    assert Officer.objects.get(badge_number="150782301").post == "副所长"


def test_json_summary_from_the_import_command(tmp_path: Path) -> None:
    path = tmp_path / "o.csv"
    path.write_text("警号,姓名,派出所\n150782401,石磊,库都尔派出所\n150782402,石坚,没有这个所\n", encoding="utf-8")
    out = io.StringIO()
    call_command("import", "officers", str(path), "--json", "--rejects", str(tmp_path / "bad.csv"), stdout=out)
    assert json.loads(out.getvalue()) == {"read": 2, "created": 1, "updated": 0, "unchanged": 0,
                                          "rejected": 1, "rejects_file": str(tmp_path / "bad.csv")}
    out = io.StringIO()
    call_command("import", "officers", str(path), "--json", "--rejects", str(tmp_path / "bad.csv"), stdout=out)
    assert json.loads(out.getvalue())["unchanged"] == 1


def test_a_login_named_by_the_badge_number_is_linked(tmp_path: Path) -> None:
    login = User.objects.create(username="150782501", display_name="高峰")
    taken = User.objects.create(username="150782502")
    Officer.objects.create(badge_number="X-1", name="别人", unit=PoliceUnit.objects.get(code=KDE), user=taken,
                           category=Officer.Category.POLICE)
    path = tmp_path / "o.csv"
    path.write_text("警号,姓名,派出所\n150782501,高峰,库都尔派出所\n150782502,高原,库都尔派出所\n", encoding="utf-8")
    assert import_officers(path).created == 2
    assert Officer.objects.get(badge_number="150782501").user == login
    assert Officer.objects.get(badge_number="150782502").user is None  # that log-in is someone else's


def test_an_importer_only_imports_officers_of_units_they_command(
        tmp_path: Path, station_kde: User, warden: User) -> None:
    demo_duty()
    path = tmp_path / "o.csv"
    path.write_text("警号,姓名,派出所\n150782601,冯刚,库都尔派出所\n150202601,陈刚,西脑包派出所\n"
                    "150202217,郝志东,库都尔派出所\n", encoding="utf-8")
    summary = import_officers(path, actor=station_kde)
    assert (summary.created, summary.rejected) == (1, 2)
    reasons = {r["原行号"]: r["错误原因"] for r in rejects(summary.rejects_file)}
    assert reasons == {"3": "no police unit 西脑包派出所 in your jurisdiction",
                       "4": "registered with another police unit; ask its commander"}
    assert Officer.objects.get(badge_number="150202217").unit.code == XNB  # not moved
    with pytest.raises(ImportFileError, match="imported by commanders"):
        import_officers(path, actor=warden)


# --- the officers' pages -------------------------------------------------------------------


@pytest.fixture
def jy_commander(db: object) -> User:
    user = User.objects.create(username="branch_jy", display_name="九原区分局指挥室")
    Grant.objects.create(user=user, role=Role.COMMANDER, police_unit=PoliceUnit.objects.get(code="BT-JY"))
    return user


def _badges(page: Any) -> set[str]:
    return {o.badge_number for o, _recall in page.context["rows"]}


def test_each_commander_sees_the_officers_of_their_own_units(
        station_kde: User, station_xnb: User, branch_dh: User, commander: User) -> None:
    demo_duty()
    kde = set(Officer.objects.filter(unit__code=KDE).values_list("badge_number", flat=True))
    xnb = set(Officer.objects.filter(unit__code=XNB).values_list("badge_number", flat=True))
    assert len(kde) == 5 and len(xnb) == 4
    assert _badges(web_client(station_kde).get("/officers/")) == kde
    assert _badges(web_client(station_xnb).get("/officers/")) == xnb
    assert _badges(web_client(branch_dh).get("/officers/")) == xnb  # the branch: its stations
    assert _badges(web_client(commander).get("/officers/")) == xnb  # 包头, not 呼伦贝尔
    sick = web_client(station_kde).get("/officers/", {"status": DutyStatus.SICK})
    assert _badges(sick) == {"150782104"}
    # another unit's code in the filter shows nothing, and says nothing of it
    assert _badges(web_client(station_kde).get("/officers/", {"unit": XNB})) == set()
    assert _badges(web_client(commander).get("/officers/", {"unit": XNB, "status": DutyStatus.ON_POST})) == xnb


def test_outside_the_units_officers_are_not_found(
        station_xnb: User, warden_jy: User, jy_commander: User, warden: User) -> None:
    demo_duty()
    kde = Officer.objects.filter(unit__code=KDE).first()
    assert kde is not None
    for outsider in (station_xnb, warden_jy, jy_commander):
        assert web_client(outsider).get(f"/officers/{kde.pk}/").status_code == 404
        assert web_client(outsider).post(f"/officers/{kde.pk}/status", {"status": "sick"}).status_code == 404
    assert web_client(warden_jy).get("/officers/").status_code == 404  # a warden commands nobody
    assert web_client(warden).get("/officers/").status_code == 404
    assert _badges(web_client(jy_commander).get("/officers/")) == set()
    with pytest.raises(PermissionDenied):
        officer_status_set(actor=jy_commander, officer=kde, status=DutyStatus.SICK)
    assert web_client(jy_commander).get("/officers/999999/").status_code == 404


def test_the_station_commander_sets_a_status_with_history_and_audit(station_kde: User) -> None:
    demo_duty()
    officer = Officer.objects.get(badge_number="150782103")
    client = web_client(station_kde)
    client.cookies["django_language"] = "en"  # its messages are matched in English
    page = client.get(f"/officers/{officer.pk}/")
    assert page.status_code == 200 and "13904701103" in page.content.decode()  # the commander calls them
    response = client.post(f"/officers/{officer.pk}/status", {"status": DutyStatus.ISOLATED, "reason": "密接，居家隔离"})
    assert response.status_code == 302
    officer.refresh_from_db()
    assert officer.status == DutyStatus.ISOLATED
    change = StatusChange.objects.filter(officer=officer).latest("pk")
    assert (change.status, change.by, change.reason) == (DutyStatus.ISOLATED, station_kde, "密接，居家隔离")
    assert AuditEvent.objects.filter(object_type="duty.officer", object_id=str(officer.pk), actor=station_kde).exists()
    # the same status again: nothing changes, nothing is written
    before = StatusChange.objects.count()
    again = client.post(f"/officers/{officer.pk}/status", {"status": DutyStatus.ISOLATED}, follow=True)
    assert StatusChange.objects.count() == before
    assert [str(m) for m in again.context["messages"]][-1] == f"{officer.name} was in isolation already: nothing changed."
    history = client.get(f"/officers/{officer.pk}/").content.decode()
    assert "密接，居家隔离" in history
    bad = client.post(f"/officers/{officer.pk}/status", {"status": "flying"})
    assert bad.status_code == 422 and Officer.objects.get(pk=officer.pk).status == DutyStatus.ISOLATED
