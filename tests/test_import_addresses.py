"""One flat, written in the ways communities write it, is one household; a flat written as a
room number on a floor recorded by sides (or the other way round) is not silently added twice."""

from __future__ import annotations

import csv
from datetime import date

import pytest

from louzhang.areas.models import Area, Level
from louzhang.demo.city import make_id_number
from louzhang.registry.addresses import parse_address, recorded_local
from louzhang.registry.importing.residents import import_residents
from louzhang.registry.models import Resident
from tests.conftest import BAOLI

pytestmark = pytest.mark.usefixtures("english")


def person(n: int) -> str:
    return make_id_number("150202", date(1975, 5, 5), 800 + n)


def residents_file(path, addresses):
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["姓名", "身份证号", "小区", "住址"])
        for n, address in enumerate(addresses):
            writer.writerow([f"居民{n}", person(n), "保利百合", address])
    return path


def rejected(summary):
    with open(summary.rejects_file, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("written", ["34-2-601", "34—2—601", "34－2－0601", "34/2/601", "34号楼-2-601室",
                                     "34号楼二单元601", "34栋2单元601室", " 34 - 2 - 601 "])
def test_the_same_room_written_differently_is_one_address(written):
    assert parse_address(written).local_code == "0611" and parse_address(written).building == "34"


@pytest.mark.parametrize("written", ["34-2-6楼西户", "34号楼二单元6楼西户", "34栋2单元6层西", "34-2-六楼西"])
def test_the_same_side_written_differently_is_one_address(written):
    assert parse_address(written).local_code == "0601"


def test_a_household_code_says_its_floor_and_how_it_is_named():
    assert recorded_local(f"{BAOLI}-34-2-0601") == (6, True)  # 6楼西户
    assert recorded_local(f"{BAOLI}-34-2-0611") == (6, False)  # 601室
    assert recorded_local(f"{BAOLI}-34-2-12105") == (12, False)  # 1295室
    assert recorded_local(f"{BAOLI}-34-2-0607") is None and recorded_local("odd-code") is None


@pytest.mark.django_db
def test_a_room_number_on_a_floor_recorded_by_sides_is_rejected_not_added(tmp_path, warden):
    """34号楼二单元 is recorded as 6楼西户/6楼东户: 34-2-601 may be either, so it is not guessed."""
    households = Area.objects.filter(level=Level.HOUSEHOLD).count()
    summary = import_residents(residents_file(tmp_path / "a.csv", ["34-2-601", "34号楼二单元602室", "34-2-6楼西户"]),
                               actor=warden)
    assert (summary.created, summary.rejected) == (1, 2)
    assert Area.objects.filter(level=Level.HOUSEHOLD).count() == households  # no 601室 beside 6楼西户
    reasons = [r["错误原因"] for r in rejected(summary)]
    assert all("6楼东户、6楼西户" in reason and "registered twice" in reason for reason in reasons)
    assert [r["住址"] for r in rejected(summary)] == ["34-2-601", "34号楼二单元602室"]
    assert Resident.objects.get(id_number=person(2)).household.code == f"{BAOLI}-34-2-0601"


@pytest.mark.django_db
def test_a_floor_recorded_by_room_numbers_matches_every_spelling_and_refuses_a_side(tmp_path, warden):
    first = import_residents(residents_file(tmp_path / "a.csv", ["35号楼一单元601室"]), actor=warden)
    # building 35's units exist in the demo with sides on floors 1-6: use floor 7, recorded by number
    assert first.rejected == 1 and "6楼" in rejected(first)[0]["错误原因"]
    made = import_residents(residents_file(tmp_path / "b.csv", ["35号楼一单元701室"]), actor=warden)
    assert made.created == 1
    household = Resident.objects.get(id_number=person(0)).household
    assert (household.name, household.code) == ("701室", f"{BAOLI}-35-1-0711")
    households = Area.objects.filter(level=Level.HOUSEHOLD).count()
    again = import_residents(residents_file(tmp_path / "c.csv", [
        "35号楼一单元701室", "35-1-701", "35—1—0701", "35栋1单元701", "35号楼一单元7楼西户", "35-1-702"]),
        actor=warden)
    assert Area.objects.filter(level=Level.HOUSEHOLD).count() == households + 1  # only 702室
    assert {Resident.objects.get(id_number=person(n)).household_id for n in range(4)} == {household.pk}
    assert again.rejected == 1 and rejected(again)[0]["住址"] == "35号楼一单元7楼西户"
    assert "701室" in rejected(again)[0]["错误原因"]


@pytest.mark.django_db
def test_one_file_does_not_add_a_flat_both_ways(tmp_path):
    """A new building: the first way a floor is written is how it is recorded."""
    summary = import_residents(residents_file(tmp_path / "a.csv", ["38-1-501", "38号楼一单元5楼东户", "38-1-5楼东户",
                                                                   "38-1-4楼东户"]))
    assert (summary.created, summary.rejected) == (2, 2)
    names = set(Area.objects.filter(code__startswith=f"{BAOLI}-38-1-").values_list("name", flat=True))
    assert names == {"501室", "4楼东户"}
