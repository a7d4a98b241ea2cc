"""Files from outside, as an attacker or a careless user sends them: decompression bombs, rows
a thousand columns wide, values of megabytes, text in UTF-16 or Latin-1, binary junk, names
with folders and invisible characters. Each is read, or refused whole with one line saying why
(nothing written), through the function, the web upload (the job ends) and the command line."""

from __future__ import annotations

import csv
import html
import random
import re
import string
import struct
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from louzhang.areas.models import Area
from louzhang.audit.models import AuditEvent
from louzhang.demo.city import make_id_number
from louzhang.registry.importing.engine import ImportFileError
from louzhang.registry.importing.residents import import_residents
from louzhang.registry.models import ImportJob, Resident
from tests.conftest import BAOLI, InlineWorker, run_cli, web_client

pytestmark = pytest.mark.usefixtures("english")

HEADER = ["姓名", "身份证号", "小区", "住址"]
MARK = "BOMB-MARK"
SHEET = "xl/worksheets/sheet1.xml"
STRINGS = "xl/sharedStrings.xml"


def person(n: int) -> str:
    return make_id_number("150202", __import__("datetime").date(1971, 2, 3), 600 + n)


def workbook(path: Path, rows: list[list[object]], *, inline: bool = False) -> Path:
    """An XLSX file with its text in a shared-strings table, as Excel writes it (openpyxl
    writes text inline: `inline=True` keeps that)."""
    book = Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path if inline else _shared_strings(path)


def _shared_strings(path: Path) -> Path:
    with zipfile.ZipFile(path) as source:
        parts = {info.filename: source.read(info) for info in source.infolist()}
    strings: list[bytes] = []

    def take(found: re.Match[bytes]) -> bytes:
        strings.append(found.group(1))
        return b't="s"><v>%d</v>' % (len(strings) - 1)

    parts[SHEET] = re.sub(rb't="inlineStr"><is><t>(.*?)</t></is>', take, parts[SHEET])
    parts[STRINGS] = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="http://'
                      b'schemas.openxmlformats.org/spreadsheetml/2006/main" count="%d" uniqueCount="%d">'
                      % (len(strings), len(strings))
                      + b"".join(b"<si><t>%s</t></si>" % text for text in strings) + b"</sst>")
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(b"</Types>", (
        b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
        b'officedocument.spreadsheetml.sharedStrings+xml"/></Types>'))
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(b"</Relationships>", (
        b'<Relationship Id="rIdStrings" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>'))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in parts.items():
            target.writestr(name, data)
    return path


def good_rows() -> list[list[object]]:
    return [HEADER, ["张好", person(1), "保利百合", "34号楼二单元5楼西户"],
            [MARK, person(2), "保利百合", "34号楼二单元5楼东户"]]


def rewrite(path: Path, member: str, change) -> Path:
    """`path` with one member's bytes changed (packed as tightly as zip can)."""
    out = path.with_name(f"re-{path.name}")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == member:
                data = change(data)
            target.writestr(info.filename, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    out.replace(path)
    return path


def declare_size(path: Path, member: str, size: int) -> Path:
    """A zip whose directory lies about how large `member` unpacks."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
    struct.pack_into("<I", data, info.header_offset + 22, size)  # the local header
    at = data.find(b"PK\x01\x02")
    while at >= 0:  # the central directory's entry
        length = struct.unpack_from("<H", data, at + 28)[0]
        if bytes(data[at + 46:at + 46 + length]) == member.encode():
            struct.pack_into("<I", data, at + 24, size)
        at = data.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(data))
    return path


def shared(value: bytes):
    return lambda data: data.replace(MARK.encode(), value)


def many_members(path: Path) -> Path:
    with zipfile.ZipFile(path, "a") as archive:
        for n in range(2_100):
            archive.writestr(f"xl/media/p{n}.xml", "<a/>")
    return path


def bzip2(path: Path) -> Path:
    out = path.with_name(f"bz-{path.name}")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info), compress_type=zipfile.ZIP_BZIP2)
    out.replace(path)
    return path


RANDOM_TEXT = "".join(random.Random(7).choices(string.ascii_letters, k=300 * 1024)).encode()

#: (what, make the file from a good one, what the refusal says)
BOMBS = [
    ("one shared string of 30 MB", lambda p: rewrite(p, STRINGS, shared(b"A" * (30 * 1024 * 1024))),
     "decompression bomb"),
    ("an inline string of 30 MB", lambda p: rewrite(workbook(p, good_rows(), inline=True), SHEET,
                                                    shared(b"A" * (30 * 1024 * 1024))),
     "decompression bomb"),
    ("a value of 300 KB that packs poorly", lambda p: rewrite(p, STRINGS, shared(RANDOM_TEXT)),
     "value longer than 256 KB"),
    ("a sheet that says it is smaller than it is", lambda p: declare_size(p, SHEET, 200), "damaged"),
    ("a sheet that says it unpacks to 3 GB", lambda p: declare_size(p, SHEET, 3 * 1024**3),
     "unpacks to more than 2048 MB"),
    ("2,100 parts", many_members, "parts"),
    ("XML with entities", lambda p: rewrite(p, SHEET, lambda d: d.replace(
        b"<worksheet", b'<!DOCTYPE w [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><worksheet', 1)),
     "document type"),
    ("members packed with bzip2", bzip2, "packed in a way"),
]


@pytest.fixture
def no_openpyxl(monkeypatch):
    """openpyxl must not be reached for a refused file: the checks come before it."""
    import openpyxl

    def refuse(*args, **kwargs):
        raise AssertionError("openpyxl opened a file that should have been refused")

    monkeypatch.setattr(openpyxl, "load_workbook", refuse)


@pytest.mark.django_db
@pytest.mark.parametrize(("what", "make", "says"), BOMBS, ids=[b[0] for b in BOMBS])
def test_a_bomb_is_refused_before_openpyxl_opens_it(tmp_path, no_openpyxl, what, make, says):
    path = make(workbook(tmp_path / "炸弹.xlsx", good_rows()))
    people, areas = Resident.objects.count(), Area.objects.count()
    with pytest.raises(ImportFileError, match=says) as refused:
        import_residents(path, rejects_path=tmp_path / "rejects.csv")
    message = str(refused.value)
    assert message.startswith("炸弹.xlsx: ") and "\n" not in message and len(message) < 300
    assert (Resident.objects.count(), Area.objects.count()) == (people, areas)
    assert not (tmp_path / "rejects.csv").exists()


@pytest.mark.django_db
def test_a_good_xlsx_still_passes_the_checks(tmp_path):
    summary = import_residents(workbook(tmp_path / "好.xlsx", good_rows()))
    assert (summary.created, summary.rejected) == (2, 0)


@pytest.mark.django_db
def test_a_sheet_claiming_every_column_and_row_is_read_as_it_is(tmp_path):
    """A dimension of A1:XFD1048576 does not make every row 16,384 cells wide."""
    path = rewrite(workbook(tmp_path / "宽.xlsx", good_rows()), SHEET,
                   lambda d: re.sub(rb'<dimension ref="A1:D3" ?/>', b'<dimension ref="A1:XFD1048576"/>', d))
    assert b"XFD1048576" in zipfile.ZipFile(path).read(SHEET)
    assert import_residents(path).created == 2


def rejected_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_oversized_rows_are_rejected_on_their_own_and_echoed_short(tmp_path, kind):
    long_name = "长" * 40_000
    wide = ["王宽", person(3), "保利百合", "34号楼二单元4楼西户"] + [""] * 296 + ["列300"]
    rows = [HEADER, ["张好", person(1), "保利百合", "34号楼二单元5楼西户"],
            [long_name, person(2), "保利百合", "34号楼二单元5楼东户"], wide]
    if kind == "xlsx":  # openpyxl cuts what it writes at 32,767 characters: the text goes in after
        rows[2][0] = MARK
        path = rewrite(workbook(tmp_path / "大.xlsx", rows), STRINGS, shared(long_name.encode()))
    else:
        path = tmp_path / "大.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows(rows)
    summary = import_residents(path, rejects_path=tmp_path / "rejects.csv")
    assert (summary.created, summary.rejected) == (1, 2)
    rejected = rejected_rows(tmp_path / "rejects.csv")
    assert "40,000 characters" in rejected[0]["错误原因"] and rejected[0]["错误列"] == "column 1"
    assert rejected[0]["姓名"] == "长" * 200 + "…"  # never the 40,000 in full
    assert "beyond column 256" in rejected[1]["错误原因"] and rejected[1]["姓名"] == "王宽"
    assert (tmp_path / "rejects.csv").stat().st_size < 10_000


@pytest.mark.django_db
def test_a_csv_value_too_long_to_read_refuses_the_file_before_anything_is_written(tmp_path):
    path = tmp_path / "长.csv"
    path.write_text("\n".join([",".join(HEADER), f"张好,{person(1)},保利百合,34号楼二单元5楼西户",
                               f"{'x' * 200_000},{person(2)},保利百合,34号楼二单元5楼东户"]), encoding="utf-8")
    with pytest.raises(ImportFileError, match="row 3 holds a value longer than"):
        import_residents(path, rejects_path=tmp_path / "rejects.csv")
    assert not Resident.objects.filter(id_number=person(1)).exists()
    assert not (tmp_path / "rejects.csv").exists()


# --- text files in other encodings ---------------------------------------------------------


def text_file(path: Path, encoding: str, sep: str = "\t") -> Path:
    lines = [sep.join(HEADER), sep.join(["张好", person(1), "保利百合", "34号楼二单元5楼西户"]),
             sep.join(["李好", person(4), "保利百合", "34号楼二单元5楼东户"])]
    path.write_bytes("".join(f"{line}\r\n" for line in lines).encode(encoding))
    return path


READABLE = [
    ("UTF-16 LE with BOM, tab-separated (Excel's Unicode text)", "utf-16", "\t"),
    ("UTF-16 BE with BOM", "utf-16-be", "\t"),
    ("UTF-8 with BOM, tab-separated", "utf-8-sig", "\t"),
    ("GB18030, semicolons", "gb18030", ";"),
]


def encoded(path: Path, encoding: str, sep: str) -> Path:
    if encoding == "utf-16-be":  # with its BOM, as Excel on a Mac writes it
        text_file(path, "utf-16-be", sep)
        path.write_bytes(b"\xfe\xff" + path.read_bytes())
        return path
    return text_file(path, encoding, sep)


@pytest.mark.django_db
@pytest.mark.parametrize(("what", "encoding", "sep"), READABLE, ids=[r[0] for r in READABLE])
def test_text_excel_writes_is_read(tmp_path, what, encoding, sep):
    summary = import_residents(encoded(tmp_path / "名单.csv", encoding, sep))
    assert (summary.created, summary.rejected) == (2, 0)
    assert Resident.objects.get(id_number=person(4)).name == "李好"


UNREADABLE = [
    ("Latin-1", "Name;Ausweis;Straße\nMüller;é;ç\n".encode("latin-1"), "not in UTF-8, GB18030 or UTF-16"),
    ("a picture", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 40, "not a text file"),
    ("random bytes", random.Random(3).randbytes(100_000).replace(b"\x00", b"\x01"), "not in UTF-8"),
    ("UTF-16 without its BOM", "姓名\t身份证号\n".encode("utf-16-le"), "not a text file"),
    ("UTF-16 cut in half", "\ufeff姓名\t身份证号\t小区\t住址\n张三".encode("utf-16-le")[:-1], "not in UTF-8, GB18030 or UTF-16"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("what", "data", "says"), UNREADABLE, ids=[u[0] for u in UNREADABLE])
def test_text_that_cannot_be_read_is_refused_in_one_line(tmp_path, what, data, says):
    path = tmp_path / "名单.csv"
    path.write_bytes(data)
    with pytest.raises(ImportFileError, match=says) as refused:
        import_residents(path, compound_code=BAOLI, rejects_path=tmp_path / "rejects.csv")
    assert str(refused.value).startswith("名单.csv") and "\n" not in str(refused.value)
    assert not (tmp_path / "rejects.csv").exists()


# --- through the web upload: every job ends --------------------------------------------------


def upload(client, name: str, data: bytes, kind: str = "residents"):
    return client.post("/imports/", {"kind": kind, "file": SimpleUploadedFile(name, data)})


def bomb(tmp_path: Path) -> bytes:
    return BOMBS[0][1](workbook(tmp_path / "b.xlsx", good_rows())).read_bytes()


@pytest.mark.django_db
def test_every_upload_ends_done_or_failed_with_the_reason_on_its_page(warden, worker: InlineWorker, tmp_path):
    client = web_client(warden)
    failing = {
        "炸弹.xlsx": bomb(tmp_path),
        "谎报.xlsx": declare_size(workbook(tmp_path / "l.xlsx", good_rows()), SHEET, 200).read_bytes(),
        "latin1.csv": UNREADABLE[0][1],
        "图片.csv": UNREADABLE[1][1],
        "随机.xlsx": UNREADABLE[2][1],
    }
    for name, data in failing.items():
        assert upload(client, name, data).status_code == 302
    readable = encoded(tmp_path / "unicode.csv", "utf-16", "\t").read_bytes()
    upload(client, "Unicode 文本.csv", readable)
    worker.run()
    for job in ImportJob.objects.filter(user=warden):
        page = client.get(f"/imports/{job.pk}/").content.decode()
        if job.original_name == "Unicode 文本.csv":
            assert (job.state, job.created, job.rejected) == ("done", 2, 0)
            continue
        assert job.state == "failed", (job.original_name, job.error)
        assert job.error.startswith(job.original_name) and "upload" not in job.error
        assert "\n" not in job.error and len(job.error) < 300
        assert html.escape(job.error) in page and 'data-state="failed"' in page
    assert ImportJob.objects.filter(user=warden, state="failed").count() == len(failing)


@pytest.mark.django_db
def test_the_users_own_file_name_is_kept_cleaned(warden, worker: InlineWorker, tmp_path):
    client = web_client(warden)
    rows = "\n".join([",".join(HEADER), f"张好,{person(1)},保利百合,34号楼二单元5楼西户"]).encode()
    upload(client, "C:\\fakepath\\34号楼\u202e居民\u200b.csv", rows)
    upload(client, "../../etc/" + "很长" * 200 + ".csv", b"no,header\n1,2\n")
    worker.run()
    done, failed = ImportJob.objects.filter(user=warden).order_by("pk")
    assert done.original_name == "34号楼居民.csv" and done.state == "done"
    assert "34号楼居民.csv" in client.get(f"/imports/{done.pk}/").content.decode()
    event = AuditEvent.objects.filter(object_type="registry.import.residents").latest("id")
    assert event.summary.startswith("34号楼居民.csv: 1 created") and event.detail["file"] == "34号楼居民.csv"
    assert len(failed.original_name) <= 100 and failed.original_name.endswith("….csv")
    assert "/" not in failed.original_name and failed.original_name.startswith("很长")
    assert failed.state == "failed" and failed.error.startswith(failed.original_name)
    assert "upload" not in failed.error


@pytest.mark.parametrize(("sent", "kept"), [
    ("C:\\fakepath\\名单.csv", "名单.csv"),
    ("../../名单.xlsx", "名单.xlsx"),
    ("名\u0000单\r\n.csv", "名单.csv"),
    ("\u202egpj.csv", "gpj.csv"),
    ("   ", "upload"),
    ("a" * 300 + ".xlsx", "a" * 94 + "….xlsx"),
])
def test_upload_names_lose_folders_control_characters_and_length(sent, kept):
    from louzhang.registry.imports import upload_name

    assert upload_name(sent) == kept


# --- the command line: one line, a non-zero exit, nothing written ------------------------------


def test_the_command_line_reads_unicode_text_and_refuses_the_rest_in_one_line(cli_env, tmp_path):
    assert run_cli(cli_env, "init").returncode == 0
    assert run_cli(cli_env, "demo").returncode == 0
    for encoding in ("utf-16", "utf-16-be"):
        path = encoded(tmp_path / f"{encoding}.csv", encoding, "\t")
        result = run_cli(cli_env, "import", "residents", str(path), "--json")
        assert result.returncode == 0, result.stderr
        assert result.stdout.count('"rejected": 0') == 1
    hostile = {
        "炸弹.xlsx": bomb(tmp_path),
        "谎报.xlsx": declare_size(workbook(tmp_path / "l.xlsx", good_rows()), SHEET, 200).read_bytes(),
        "latin1.csv": UNREADABLE[0][1],
        "图片.csv": UNREADABLE[1][1],
        "半个.csv": UNREADABLE[4][1],
    }
    for name, data in hostile.items():
        path = tmp_path / name
        path.write_bytes(data)
        result = run_cli(cli_env, "import", "residents", str(path), "--rejects", str(tmp_path / "r.csv"))
        assert result.returncode == 1, (name, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr, result.stderr
        assert name in result.stderr and result.stdout == ""
        assert not (tmp_path / "r.csv").exists()


def test_a_table_of_texts_too_large_to_hold_is_refused(tmp_path):
    """openpyxl reads the shared strings whole: they have a limit of their own."""
    from louzhang.core.archives import ArchiveError, check_xlsx

    path = rewrite(workbook(tmp_path / "多.xlsx", good_rows()), STRINGS, shared(RANDOM_TEXT[:5000]))
    check_xlsx(path)
    with pytest.raises(ArchiveError, match="table of texts unpacks to more than"):
        check_xlsx(path, strings_bytes=4000)
