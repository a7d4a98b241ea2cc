"""Importing residents the way a community sends them: messy spreadsheets, re-sent files,
rows outside the importer's buildings."""

from __future__ import annotations

import csv
import json

import pytest
from openpyxl import Workbook

from louzhang.areas.models import Area, Level
from louzhang.demo.city import make_id_number
from louzhang.registry.importing.residents import ImportFileError, import_residents
from louzhang.registry.models import Resident
from tests.conftest import BAOLI, run_cli

ZHANG = make_id_number("150202", __import__("datetime").date(1950, 3, 4), 11)  # male, born 1950
LI = make_id_number("152722", __import__("datetime").date(1972, 8, 9), 22)  # female, retired code
WANG = make_id_number("420106", __import__("datetime").date(1990, 1, 2), 33)  # male, 武汉 武昌区

pytestmark = pytest.mark.usefixtures("english")


def xlsx(path, rows, title="保利百合小区居民登记表（2020年1月）"):
    book = Workbook()
    sheet = book.active
    sheet.append([title])
    sheet.append([])
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def rejects(summary):
    with open(summary.rejects_file, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


HEADER = ["序号", "姓名", "性别", "身份证号码", "联系电话", "小区", "楼号", "单元", "门牌号", "人员类型", "备注", "填表人"]


@pytest.fixture
def messy(tmp_path):
    return xlsx(tmp_path / "保利百合.xlsx", [
        HEADER,
        [1, "张建国", "男", ZHANG.lower(), "138 1234 5678", "保利百合", "34号楼", "二单元", "6楼西户", "常住", "独居老人", "王"],
        [2, "李秀英", "女", "".join(chr(ord(c) + 0xFEE0) for c in LI), "0472-5123456", BAOLI, 37, 1, 602, "租户", "", "王"],
        [3, "王强", "男", WANG, "", "保利百合", "37", "1", "101", "暂住", "", "王"],
        [4, "刘坏", "男", 150202195003041234, "", "保利百合", "34", "2", "601", "常住", "", "王"],
        [5, "", "男", WANG, "", "保利百合", "34", "2", "601", "常住", "", "王"],
        [6, "赵重", "男", ZHANG, "", "保利百合", "34", "2", "601", "常住", "", "王"],
        [7, "钱错", "女", make_id_number("150202", __import__("datetime").date(1980, 1, 1), 41), "", "保利百合", "34", "2", "601", "常住", "", "王"],
        [8, "孙无", "男", make_id_number("150202", __import__("datetime").date(1980, 1, 1), 51), "12345", "保利百合", "34", "2", "601", "常住", "", "王"],
        [9, "周外", "男", make_id_number("150202", __import__("datetime").date(1980, 1, 1), 61), "", "幸福小区", "1", "1", "101", "常住", "", "王"],
        [10, "吴楼", "男", make_id_number("150202", __import__("datetime").date(1980, 1, 1), 71), "", "保利百合", "34", "2", "6楼", "常住", "", "王"],
        [11, "郑类", "男", make_id_number("150202", __import__("datetime").date(1980, 1, 1), 81), "", "保利百合", "34", "2", "601", "外来", "", "王"],
        [],
    ])


@pytest.mark.django_db
def test_messy_xlsx_keeps_good_rows_and_explains_bad_ones(messy):
    summary = import_residents(messy)
    assert (summary.read, summary.created, summary.rejected) == (11, 3, 8)
    reasons = {int(r["原行号"]): (r["错误列"], r["错误原因"]) for r in rejects(summary)}
    assert reasons[7] == ("身份证号", reasons[7][1]) and "stored as a number" in reasons[7][1]
    assert reasons[8][0] == "姓名"
    assert "same 身份证号 as row 4" in reasons[9][1]  # 张建国, the first data row
    assert reasons[10][0] == "性别"  # 钱错: 女, but the ID number's 17th digit is odd (male)
    assert reasons[11][0] == "手机号"
    assert reasons[12][0] == "小区" and "幸福小区" in reasons[12][1]
    assert reasons[13][0] == "住址"
    assert reasons[14][0] == "人员类型"
    # rejected rows are kept as they were, so the file can be fixed and imported again
    assert rejects(summary)[0]["姓名"] == "刘坏"

    zhang = Resident.objects.get(id_number=ZHANG)
    assert (zhang.name, zhang.phone, zhang.gender, zhang.note) == ("张建国", "13812345678", "M", "独居老人")
    assert zhang.household.code == f"{BAOLI}-34-2-0601"
    li = Resident.objects.get(id_number=LI)  # full-width digits folded, retired region code kept
    assert li.residency == "tenant" and li.phone == "0472-5123456"
    assert li.household.name == "602室" and li.household.code == f"{BAOLI}-37-1-0612"
    # building 37 did not exist: created under the compound, with its unit and household
    wang = Resident.objects.get(id_number=WANG)
    assert wang.household.path == f"{Area.objects.get(code=BAOLI).path}{BAOLI}-37/{BAOLI}-37-1/{BAOLI}-37-1-0111/"
    assert Area.objects.get(code=f"{BAOLI}-37").level == Level.BUILDING
    assert summary.warnings == 1  # LI's retired region code


@pytest.mark.django_db
def test_importing_again_changes_nothing(messy):
    first = import_residents(messy)
    before = Resident.objects.count()
    again = import_residents(messy)
    assert (again.created, again.updated, again.unchanged) == (0, 0, first.created)
    assert Resident.objects.count() == before


@pytest.mark.django_db
def test_corrected_file_updates_without_duplicating(tmp_path):
    path = tmp_path / "a.xlsx"
    xlsx(path, [["姓名", "身份证号", "手机号", "住址"], ["张建国", ZHANG, "13812345678", "34号楼二单元6楼西户"]])
    assert import_residents(path, compound_code=BAOLI).created == 1
    xlsx(path, [["姓名", "身份证号", "手机号", "住址"], ["张建国", ZHANG, "13900001111", "34号楼二单元6楼东户"]])
    summary = import_residents(path, compound_code=BAOLI)
    assert (summary.created, summary.updated) == (0, 1)
    person = Resident.objects.get(id_number=ZHANG)
    assert person.phone == "13900001111" and person.household.name == "6楼东户"


@pytest.mark.django_db
def test_warden_can_import_only_into_own_buildings(tmp_path, warden, warden_jy):
    outsider = Resident.objects.filter(household__path__contains="/150207001001001/").first()
    path = xlsx(tmp_path / "w.xlsx", [
        ["姓名", "身份证号", "小区", "住址"],
        ["张建国", ZHANG, "保利百合", "34号楼二单元6楼西户"],   # building 34: the warden's
        ["李秀英", LI, "保利百合", "1号楼一单元1楼西户"],        # building 1: another warden's
        ["王强", WANG, "富贵佳园", "1号楼一单元1楼西户"],         # another district
        [outsider.name, outsider.id_number, "保利百合", "34号楼二单元6楼西户"],  # registered in 九原区
    ])
    summary = import_residents(path, actor=warden)
    assert (summary.created, summary.rejected) == (1, 3)
    reasons = {int(r["原行号"]): r["错误原因"] for r in rejects(summary)}
    # rows 1-2 are the title and a blank line, row 3 the header
    assert "household outside your jurisdiction" in reasons[5]
    assert "no compound" in reasons[6]
    assert "cannot be registered from your jurisdiction" in reasons[7]
    outsider.refresh_from_db()
    assert "/150207001001001/" in outsider.household.path  # not moved
    assert not Resident.objects.filter(id_number=LI).exists()


@pytest.mark.django_db
def test_ambiguous_compound_name_needs_the_code(tmp_path):
    from louzhang.areas.services import area_create

    community = Area.objects.get(code="150207001001")
    area_create(code="150207001001099", name="保利百合", level=Level.COMPOUND, parent=community)
    path = xlsx(tmp_path / "a.xlsx", [["姓名", "身份证号", "小区", "住址"], ["张建国", ZHANG, "保利百合", "34号楼二单元6楼西户"]])
    summary = import_residents(path)
    assert summary.created == 0 and "use its code" in rejects(summary)[0]["错误原因"]


@pytest.mark.django_db
def test_unusable_files_are_refused_whole(tmp_path):
    no_address = xlsx(tmp_path / "a.xlsx", [["姓名", "身份证号"], ["张建国", ZHANG]])
    with pytest.raises(ImportFileError, match="住址"):
        import_residents(no_address, compound_code=BAOLI)
    no_compound = xlsx(tmp_path / "b.xlsx", [["姓名", "身份证号", "住址"], ["张建国", ZHANG, "34号楼二单元6楼西户"]])
    with pytest.raises(ImportFileError, match="--compound"):
        import_residents(no_compound)
    with pytest.raises(ImportFileError, match="no such compound"):
        import_residents(no_compound, compound_code="150207001001001-1")
    assert not Resident.objects.filter(id_number=ZHANG).exists()


@pytest.mark.django_db
def test_cli_json_summary_and_one_line_errors(cli_env, tmp_path):
    assert run_cli(cli_env, "init").returncode == 0
    assert run_cli(cli_env, "demo").returncode == 0
    path = tmp_path / "r.csv"
    path.write_text(
        "姓名,身份证号,小区,住址\n"
        f"张建国,{ZHANG},保利百合,34号楼二单元6楼西户\n"
        "坏,1.50207E+17,保利百合,34号楼二单元6楼西户\n",
        encoding="gb18030",
    )
    result = run_cli(cli_env, "import", "residents", str(path), "--json", "--rejects", str(tmp_path / "bad.csv"))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"read": 2, "created": 1, "updated": 0, "unchanged": 0,
                                         "rejected": 1, "rejects_file": str(tmp_path / "bad.csv")}
    again = run_cli(cli_env, "import", "residents", str(path), "--json", "--as", "warden_jy")
    assert json.loads(again.stdout)["rejected"] == 2  # 保利百合 is not theirs
    missing = run_cli(cli_env, "import", "residents", str(tmp_path / "nope.xlsx"))
    assert missing.returncode == 1 and len(missing.stderr.strip().splitlines()) == 1
    assert "文件不存在" in missing.stderr  # the command line speaks the installation's language


@pytest.mark.django_db
def test_encoding_change_midway_stops_cleanly_and_names_the_problem(tmp_path):
    path = tmp_path / "mixed.csv"
    good = "".join(f"居民{i},{make_id_number('150202', __import__('datetime').date(1980, 1, 1), i)},34号楼二单元6楼西户\n" for i in range(1, 6))
    data = ("姓名,身份证号,住址\n" + good).encode("utf-8") + b"x" * (300 * 1024) + "\n张三,1,2\n".encode("gb18030")
    path.write_bytes(data)
    with pytest.raises(ImportFileError, match="encoding changes"):
        import_residents(path, compound_code=BAOLI)


@pytest.mark.django_db
def test_import_is_audited_under_its_compound(messy, warden):
    from louzhang.audit.models import AuditEvent

    import_residents(messy, actor=warden)
    event = AuditEvent.objects.filter(object_type="registry.import.residents").latest("id")
    assert event.actor == warden and event.area_path.endswith(f"/{BAOLI}/")
    assert event.detail["read"] == 11


@pytest.mark.django_db
def test_strange_cells_cost_their_row_not_the_import(tmp_path):
    good = make_id_number("150202", __import__("datetime").date(1980, 1, 1), 91)
    path = xlsx(tmp_path / "odd.xlsx", [
        ["姓名", "身份证号", "小区", "住址"],
        ["甲", make_id_number("150202", __import__("datetime").date(1980, 1, 1), 11), "保利百合", "34号楼十十单元602"],
        ["乙", make_id_number("150202", __import__("datetime").date(1980, 1, 1), 21), "保利百合", "34号楼零单元602"],
        ["丙", make_id_number("150202", __import__("datetime").date(1980, 1, 1), 31), "保利百合", "99999999999999999999号楼1单元602"],
        ["丁", __import__("datetime").datetime(2020, 1, 1), "保利百合", "34号楼二单元602"],
        ["戊", True, "保利百合", "34号楼二单元602"],
        ["己", "\u200b'" + good, "保利百合", "37号楼二单元602"],
    ])
    summary = import_residents(path)
    assert (summary.read, summary.created, summary.rejected) == (6, 1, 5)
    assert Resident.objects.get(id_number=good).name == "己"


@pytest.mark.django_db
def test_a_file_without_a_column_keeps_what_is_registered(tmp_path):
    full = xlsx(tmp_path / "a.xlsx", [["姓名", "身份证号", "手机号", "人员类型", "备注", "住址"],
                                      ["张建国", ZHANG, "13812345678", "租户", "独居", "34号楼二单元6楼西户"]])
    import_residents(full, compound_code=BAOLI)
    short = xlsx(tmp_path / "b.xlsx", [["姓名", "身份证号", "住址"], ["张建国", ZHANG, "34号楼二单元6楼东户"]])
    summary = import_residents(short, compound_code=BAOLI)
    assert summary.updated == 1
    person = Resident.objects.get(id_number=ZHANG)
    assert (person.phone, person.residency, person.note) == ("13812345678", "tenant", "独居")
    assert person.household.name == "6楼东户"


@pytest.mark.django_db
def test_compound_option_does_not_silently_override_the_column(tmp_path):
    path = xlsx(tmp_path / "a.xlsx", [["姓名", "身份证号", "小区", "住址"],
                                      ["张建国", ZHANG, "富贵佳园", "34号楼二单元6楼西户"],
                                      ["李秀英", LI, "保利百合", "34号楼二单元6楼东户"]])
    summary = import_residents(path, compound_code=BAOLI)
    assert (summary.created, summary.rejected) == (1, 1)
    assert "--compound" in rejects(summary)[0]["错误原因"]


@pytest.mark.django_db
def test_probing_for_people_elsewhere_is_audited(tmp_path, warden):
    from louzhang.audit.models import AuditEvent

    outsider = Resident.objects.filter(household__path__contains="/150207001001001/").first()
    path = xlsx(tmp_path / "p.xlsx", [["姓名", "身份证号", "小区", "住址"],
                                      [outsider.name, outsider.id_number, "保利百合", "34号楼二单元6楼西户"]])
    import_residents(path, actor=warden)
    event = AuditEvent.objects.filter(object_type="registry.import.residents").latest("id")
    assert event.detail["conflicts"] == [outsider.id_number]


@pytest.mark.django_db
def test_a_run_stopped_half_way_is_still_audited(tmp_path):
    import zipfile

    from louzhang.audit.models import AuditEvent

    # a sheet whose XML breaks off after its sixth row: found only while the rows are read
    whole = xlsx(tmp_path / "whole.xlsx", [["姓名", "身份证号", "住址"], *[
        [f"居民{i}", make_id_number("150202", __import__("datetime").date(1980, 1, 1), i), "34号楼二单元6楼西户"]
        for i in range(1, 6)]])
    path = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(whole) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            data = source.read(member)
            if member.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</sheetData>", b'<row r="9"><c r="A9" t="inlineStr"><is><t>x</row></sheetData>')
            target.writestr(member, data)
    with pytest.raises(ImportFileError, match="row 9 cannot be read"):
        import_residents(path, compound_code=BAOLI)
    event = AuditEvent.objects.filter(object_type="registry.import.residents").latest("id")
    assert event.detail["read"] >= 5


@pytest.mark.django_db
def test_rejection_reasons_are_in_chinese_for_community_staff(tmp_path):
    """Outside the English fixture: what the installation speaks by default."""
    from django.utils import translation

    bad_check = ZHANG[:17] + ("1" if ZHANG[17] != "1" else "2")
    path = xlsx(tmp_path / "zh.xlsx", [
        HEADER,
        [1, "赵错", "男", bad_check, "13812345678", "保利百合", 34, 2, 702, "常住", "", ""],
        [2, "钱服", "男", WANG, "400-810-8888", "保利百合", 34, 2, 702, "常住", "", ""],
    ])
    with translation.override("zh-hans"):
        summary = import_residents(path, rejects_path=tmp_path / "zh-rejects.csv")
    reasons = {r["错误列"]: r["错误原因"] for r in rejects(summary)}
    assert reasons["身份证号"].startswith("身份证号校验位错误（最后一位应为")
    assert reasons["手机号"] == "400-810-8888 是服务号码，不是个人电话"


def test_two_imports_of_the_same_people_at_once_both_succeed(cli_env, tmp_path):
    """Two wardens' offices sending the same list at the same moment: no error, nobody twice."""
    import subprocess
    import sys
    from datetime import date, timedelta

    from tests.conftest import ROOT

    assert run_cli(cli_env, "init").returncode == 0
    assert run_cli(cli_env, "demo").returncode == 0
    path = tmp_path / "same.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["姓名", "身份证号", "小区", "楼号", "单元", "门牌号"])
        for i in range(12_000):
            number = make_id_number("150202", date(1950, 1, 1) + timedelta(days=i % 9000), 500 + i // 9000)
            writer.writerow([f"居民{i}", number, "保利百合", 40 + i % 20, 1, 101 + i % 12])
    runs = [subprocess.Popen([sys.executable, "-m", "louzhang", "import", "residents", str(path), "--json",
                              "--rejects", str(tmp_path / f"r{n}.csv")],
                             env=cli_env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for n in range(2)]
    results = [(r.wait(timeout=300), r.stdout.read(), r.stderr.read()) for r in runs]
    for code, out, err in results:
        assert code == 0, err
        assert json.loads(out)["rejected"] == 0
    count = run_cli(cli_env, "import", "residents", str(path), "--json")
    assert json.loads(count.stdout)["unchanged"] == 12_000  # all there, once each
