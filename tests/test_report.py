"""The daily report (日报): a known day of records, rolled up, read back from the workbook the
command line and the web's worker write; the printable page; who may have it."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, time, timedelta
from decimal import Decimal
from io import BytesIO
from urllib.parse import unquote

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone, translation
from openpyxl import load_workbook

from louzhang.duty.selectors import police_units
from louzhang.gates.models import Gate, GateRecord
from louzhang.stats import selectors
from louzhang.stats.figures import BY_KEY, FIGURES, KEYS, STATES
from louzhang.stats.models import ReportJob
from louzhang.stats.reporting import header, in_groups
from louzhang.stats.rollup import rollup_day
from louzhang.tips.models import Tip
from tests.conftest import BAOLI, BAOTOU, DONGHE, FUGUI, JIUYUAN, ROOT, web_client

#: a day of the emergency long before the demo's records (they are around today)
DAY = settings.LOUZHANG_EMERGENCY_START_DATE + timedelta(days=40)
BEFORE = DAY - timedelta(days=1)
XNB = "station:BT-DH-XNB"  # 西脑包派出所, whose beat holds 保利百合 (东河区)


def _at(day, hour):
    return timezone.make_aware(datetime.combine(day, time(hour)))


@pytest.fixture
def built_day(db, gate):
    """The day before: one gate check at 保利百合. The day: three at 保利百合 (one 38.5 °C), two at
    富贵佳园 (九原区), one tip at 保利百合. Both days rolled up."""
    baoli = Gate.objects.filter(compound__code=BAOLI).first()
    fugui = Gate.objects.filter(compound__code=FUGUI).first()
    records = [(baoli, BEFORE, "36.5"), (baoli, DAY, "36.5"), (baoli, DAY, "38.5"), (baoli, DAY, "36.6"),
               (fugui, DAY, "36.4"), (fugui, DAY, "36.8")]
    for n, (where, day, temperature) in enumerate(records):
        GateRecord.objects.create(gate=where, client_id=f"report-test-{n}", recorded_by=gate,
                                  direction="in", at=_at(day, 9 + n), temperature=Decimal(temperature))
    Tip.objects.create(tracking_code="RPTTEST00001", area=baoli.compound, category="other",
                       content="a gathering in the yard", source="phone", received_at=_at(DAY, 10))
    rollup_day(BEFORE)
    rollup_day(DAY)


def _zh(text):
    with translation.override("zh-hans"):
        return str(text)


def _sheets(content):
    return load_workbook(BytesIO(content))


def _table(sheet):
    """(headers of the figure columns, {line name: figures} with the "other" line, totals row) of
    a sheet of lines."""
    rows = list(sheet.iter_rows(values_only=True))
    heads = rows[3]
    fixed = sum(1 for h in heads if h is None)
    body = [r for r in rows[4:] if r[1] is not None and r[fixed] is not None]
    figures = {r[1]: dict(zip(KEYS_IN_ORDER, r[fixed:], strict=True)) for r in body}
    total = figures.pop(_zh_total())
    return heads[fixed:], figures, total


KEYS_IN_ORDER = [f.key for f in in_groups()]


def _zh_total():
    with translation.override("zh-hans"):
        return translation.pgettext("daily report", "Total")


def _check_workbook(book):
    """The workbook as a bureau's 日报: laid out, printable, data only — and its numbers those of
    the roll-ups."""
    for sheet in book.worksheets:
        assert sheet.page_setup.orientation == "landscape"
        assert str(sheet.page_setup.paperSize) == "9"  # A4
        assert sheet.page_setup.fitToWidth == 1 and sheet.sheet_properties.pageSetUpPr.fitToPage
        assert sheet.print_title_rows in ("$3:$3", "$3:$4")  # the header rows on every printed page
        assert sheet.freeze_panes in ("C4", "C5", "D5")
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, int) and cell.column > 1:  # (the 序号 are centred)
                    assert cell.alignment.horizontal == "right", (sheet.title, cell.coordinate)
        widths = [sheet.column_dimensions[c].width for c in "ABC"]
        assert all(w and w >= 6 for w in widths)


def _summary(sheet):
    rows = list(sheet.iter_rows(values_only=True))
    return rows[0][0], {r[1]: r[2:] for r in rows[3:] if r[1] is not None}


def _check_city_numbers(book):
    from louzhang.areas.models import Area

    place = selectors.area_place(Area.objects.get(code=BAOTOU))
    today, before = selectors.figures(place, DAY), selectors.figures(place, BEFORE)
    summary_sheet, districts, stations = book.worksheets
    title, summary = _summary(summary_sheet)
    assert "包头市" in title
    assert summary_sheet.freeze_panes == "C4"
    to_date = selectors.total(selectors.series(place, settings.LOUZHANG_EMERGENCY_START_DATE, DAY))
    for figure in FIGURES:
        label = _zh(header(figure))
        assert _zh(figure.unit) in label
        day, previous, change, since = summary[label]
        assert (day, previous, change) == (today[figure.key], before[figure.key],
                                           today[figure.key] - before[figure.key]), figure.key
        assert since == (None if figure.key in STATES else to_date[figure.key]), figure.key
        assert all(isinstance(v, int) for v in (day, previous, change))
    # the hand count of the day
    gate_checks = summary[_zh(header(BY_KEY["gate_checks"]))]
    assert gate_checks[:4] == (5, 1, 4, 6)
    assert summary[_zh(header(BY_KEY["gate_fevers"]))][0] == 1
    assert summary[_zh(header(BY_KEY["tips_received"]))][0] == 1

    for sheet, places in ((districts, selectors.children(place)), (stations, selectors.stations_in(place))):
        heads, lines, total = _table(sheet)
        assert list(heads) == [_zh(header(BY_KEY[k])) for k in KEYS_IN_ORDER]
        assert sheet.freeze_panes == "C5"
        for p, figures in zip(places, selectors.figures_of_many(places, DAY), strict=True):
            assert lines[p.name] == figures, p.name
        # the totals row: the sum of the lines above it, and the city's own figures
        for key in KEYS:
            assert total[key] == sum(line[key] for line in lines.values()), key
            assert total[key] == today[key], (sheet.title, key)
            assert all(isinstance(line[key], int) for line in lines.values())
    _heads, lines, _total = _table(districts)
    assert lines["东河区"]["gate_checks"] == 3 and lines["九原区"]["gate_checks"] == 2
    _heads, lines, _total = _table(stations)
    assert lines["西脑包派出所"]["gate_checks"] == 3


# --- the command line --------------------------------------------------------------------------


def test_the_command_writes_the_citys_report_of_a_known_day(built_day, tmp_path, capsys):
    target = tmp_path / "日报.xlsx"
    call_command("report", "daily", "--date", DAY.isoformat(), "--area", BAOTOU, "-o", str(target))
    assert "3 sheets" in capsys.readouterr().out
    book = load_workbook(target)
    with translation.override("zh-hans"):
        assert book.sheetnames == [translation.pgettext("daily report", n) for n in
                                   ("Summary", "Districts", "Police stations")]
    _check_workbook(book)
    _check_city_numbers(book)
    assert [p.name for p in tmp_path.iterdir()] == ["日报.xlsx"]


def test_the_report_is_in_chinese_whoever_asks(built_day, tmp_path):
    """The Chinese of scripts/zh_pending_report.txt (merged into the catalogue by the lead)."""
    target = tmp_path / "r.xlsx"
    with translation.override("en"):
        call_command("report", "daily", "--date", DAY.isoformat(), "--area", DONGHE, "-o", str(target))
    book = load_workbook(target)
    assert book.sheetnames == ["汇总", "街道（乡镇）", "派出所", "社区"]
    summary = book.worksheets[0]
    assert summary["A1"].value == f"东河区疫情防控工作日报（{DAY.year}年{DAY.month}月{DAY.day}日）"
    assert summary["A2"].value.startswith("制表单位：")
    assert "制表时间：" in summary["A2"].value
    assert [c.value for c in summary[3]][:5] == ["类别", "项目", "当日", "前一日", "增减"]
    communities = list(book.worksheets[3].iter_rows(values_only=True))
    assert communities[2][:3] == ("序号", "社区", "街道（乡镇）")
    assert any(r[1] == "合计" for r in communities)


def test_a_station_and_a_compound_have_the_levels_below_them(built_day, tmp_path):
    target = tmp_path / "station.xlsx"
    call_command("report", "daily", "--date", DAY.isoformat(), "--area", XNB, "-o", str(target))
    book = load_workbook(target)
    assert len(book.worksheets) == 3  # summary, communities of the beat, their compounds
    _check_workbook(book)
    compounds = list(book.worksheets[2].iter_rows(values_only=True))
    baoli = next(r for r in compounds if r[1] == "保利百合")
    gate_col = 3 + KEYS_IN_ORDER.index("gate_checks")
    assert baoli[gate_col] == 3
    station = selectors.station_place(next(u for u in police_units().values() if u.code == "BT-DH-XNB"))
    own = selectors.figures(station, DAY)
    total = next(r for r in compounds if r[1] == _zh_total())
    assert total[3:] == tuple(own[k] for k in KEYS_IN_ORDER)  # officers: the station's own, on the "other" line
    target = tmp_path / "compound.xlsx"
    call_command("report", "daily", "--date", DAY.isoformat(), "--area", BAOLI, "-o", str(target))
    assert len(load_workbook(target).worksheets) == 1


def test_bad_arguments_stop_the_command_and_write_nothing(built_day, tmp_path, english):
    target = tmp_path / "r.xlsx"
    for args, words in (
        (["--date", "2020-02-30"], "--date"),
        (["--date", (timezone.localdate() + timedelta(days=1)).isoformat()], "--date"),
        (["--area", "999999"], "999999"),
        (["--area", "station:NOPE"], "NOPE"),
    ):
        with pytest.raises(CommandError) as error:
            call_command("report", "daily", *args, "-o", str(target))
        assert words in str(error.value) and "\n" not in str(error.value)
    with pytest.raises(CommandError, match="several cities"):
        call_command("report", "daily", "-o", str(target))  # the demo has three
    with pytest.raises(CommandError, match="does not exist"):
        call_command("report", "daily", "--area", BAOTOU, "-o", str(tmp_path / "no" / "r.xlsx"))
    with pytest.raises(CommandError, match="folder"):
        call_command("report", "daily", "--area", BAOTOU, "-o", str(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_a_report_that_fails_half_way_leaves_the_old_file_alone(built_day, tmp_path, monkeypatch):
    from louzhang.stats import reporting

    target = tmp_path / "r.xlsx"
    target.write_bytes(b"yesterday's report")

    def broken(handle, report):
        handle.write(b"PK half a workbook")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(reporting, "report_write", broken)
    with pytest.raises(CommandError, match="No space left on device"):
        call_command("report", "daily", "--area", BAOTOU, "-o", str(target))
    assert target.read_bytes() == b"yesterday's report"
    assert [p.name for p in tmp_path.iterdir()] == ["r.xlsx"]


def test_the_command_as_an_operator_runs_it(cli_env, tmp_path):
    """One line on stderr and a non-zero status for each argument that cannot be used."""
    env = cli_env

    def run(*args):
        return subprocess.run([sys.executable, "-m", "louzhang", *args], env=env, capture_output=True,
                              text=True, timeout=180, cwd=ROOT)

    assert run("init").returncode == 0
    target = tmp_path / "out.xlsx"
    for args in (["--date", "yesterday-ish", "-o", str(target)],
                 ["--area", "150200", "-o", str(target)],  # no such area: nothing loaded
                 ["-o", str(tmp_path / "missing" / "out.xlsx")],
                 ["--area", "150200", "-o", str(tmp_path / "out.csv")]):
        result = run("report", "daily", *args)
        assert result.returncode != 0, args
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not target.exists() and not any(p.name.endswith(".part") for p in tmp_path.iterdir())
    assert "default: today" in " ".join(run("report", "daily", "--help").stdout.split())


# --- the web: the page, the download button, the job --------------------------------------------


def test_the_commander_downloads_the_report_written_by_the_worker(built_day, commander, worker):
    client = web_client(commander)
    response = client.post(f"/reports/{BAOTOU}/", {"date": DAY.isoformat()})
    job = ReportJob.objects.get(user=commander)
    assert response.status_code == 302 and response["Location"] == f"/reports/jobs/{job.pk}/"
    assert job.total == 1 + len(selectors.children(selectors.place_for(commander, BAOTOU))) + len(
        selectors.stations_in(selectors.place_for(commander, BAOTOU)))
    assert 'data-state="queued"' in client.get(f"/reports/jobs/{job.pk}/").content.decode()
    assert client.get(f"/reports/jobs/{job.pk}/report.xlsx").status_code == 404  # not yet
    with translation.override("en"):  # the worker's language does not matter
        worker.run()
    page = client.get(f"/reports/jobs/{job.pk}/", headers={"HX-Request": "true"}).content.decode()
    assert 'data-state="done"' in page and "hx-trigger" not in page
    assert f"/reports/jobs/{job.pk}/report.xlsx" in page
    download = client.get(f"/reports/jobs/{job.pk}/report.xlsx")
    assert download.status_code == 200
    disposition = download["Content-Disposition"]
    assert unquote(disposition.split("''", 1)[1]) == f"日报_包头市_{DAY.isoformat()}.xlsx"
    book = _sheets(b"".join(download.streaming_content))
    _check_workbook(book)
    _check_city_numbers(book)
    from louzhang.audit.models import AuditEvent

    event = AuditEvent.objects.filter(object_type="stats.report", actor=commander).latest("id")
    assert event.action == AuditEvent.Action.EXPORT and event.detail["day"] == DAY.isoformat()


def test_the_printable_page_shows_the_same_tables(built_day, branch_dh):
    client = web_client(branch_dh)
    page = client.get(f"/reports/{DONGHE}/", {"date": DAY.isoformat()}).content.decode()
    assert f'data-day="{DAY.isoformat()}"' in page and 'data-action="print"' in page
    assert "<script>" not in page.replace('<script src=', '')  # no inline script (CSP)
    place = selectors.place_for(branch_dh, DONGHE)
    own = selectors.figures(place, DAY)
    assert '<tr data-figure="gate_checks">' in page
    row = page.split('<tr data-figure="gate_checks">', 1)[1].split("</tr>", 1)[0]
    assert f'<td class="num" data-day>{own["gate_checks"]}</td>' in row and own["gate_checks"] == 3
    assert page.count("data-total") == 3  # sub-districts, stations, communities
    assert "stats/report.css" in page
    css = (ROOT / "louzhang/stats/static/stats/report.css").read_text()
    assert "size: A4 landscape" in css


def test_a_bad_day_on_the_page_says_what_is_wrong(commander):
    client = web_client(commander)
    for value in ("2099-01-01", "yesterday", "1999-01-01"):
        response = client.get(f"/reports/{BAOTOU}/", {"date": value})
        assert response.status_code == 400, value
        assert 'role="alert"' in response.content.decode() and "data-total" not in response.content.decode()
    assert client.post(f"/reports/{BAOTOU}/", {"date": "2099-01-01"}).status_code == 400
    assert not ReportJob.objects.exists()


def test_only_the_places_commanders_have_its_report(built_day, commander, station_xnb, branch_dh, warden,
                                                    worker):
    # a station's commander: their station, not the district or the city
    station = web_client(station_xnb)
    assert station.get(f"/reports/{XNB}/").status_code == 200
    assert station.get(f"/reports/{BAOTOU}/").status_code == 404
    assert station.post(f"/reports/{BAOTOU}/", {"date": DAY.isoformat()}).status_code == 404
    assert station.get(f"/reports/{DONGHE}/").status_code == 404
    # a branch's commander: their district, not the next one
    assert web_client(branch_dh).get(f"/reports/{DONGHE}/").status_code == 200
    assert web_client(branch_dh).get(f"/reports/{JIUYUAN}/").status_code == 404
    assert web_client(warden).get(f"/reports/{BAOLI}/").status_code == 404
    assert web_client(commander).get("/reports/station:KDE-NOPE/").status_code == 404
    # another user's job, even in their own jurisdiction
    web_client(commander).post(f"/reports/{DONGHE}/", {"date": DAY.isoformat()})
    job = ReportJob.objects.get(user=commander)
    worker.run()
    for other in (branch_dh, station_xnb, warden):
        assert web_client(other).get(f"/reports/jobs/{job.pk}/").status_code == 404
        assert web_client(other).get(f"/reports/jobs/{job.pk}/report.xlsx").status_code == 404
    assert web_client(commander).get(f"/reports/jobs/{job.pk}/report.xlsx").status_code == 200
    assert web_client(station_xnb).post(f"/reports/{XNB}/", {"date": DAY.isoformat()}).status_code == 302

