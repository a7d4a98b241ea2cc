"""Key regions across cities: 包头's command centre keeps 包头's list, 鄂尔多斯's keeps its own,
the operator keeps the list for every city; each checkpoint matches the operator's list and its
own city's, and nobody reads or ends another city's."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from louzhang.accounts.models import User
from louzhang.accounts.services import user_create
from louzhang.areas.models import Area
from louzhang.checkpoints.key_regions import key_region_add, key_regions_for_area
from louzhang.checkpoints.models import Checkpoint, KeyRegion
from louzhang.screening.services import key_region_named
from tests.conftest import BAOLI_34_2_6W, ORDOS, api_for, web_client

pytestmark = pytest.mark.django_db

BAOTOU = "150200"


@pytest.fixture
def ordos_commander(db: Any) -> User:
    return user_create(username="commander_ordos", role="commander", area_codes=[ORDOS],
                       display_name="鄂尔多斯市局指挥中心值班长", check_password=False)


@pytest.fixture
def operator(db: Any) -> User:
    return User.objects.create_superuser(username="operator", password="op-secret-123456")


@pytest.fixture
def baotou_checkpoint(db: Any) -> Checkpoint:
    return Checkpoint.objects.create(code="BT-CP1", name="包头东出口检查站", area=Area.objects.get(code="150202"))


def _region(client: Any, name: str, plate: str, **extra: str) -> Any:
    return client.post("/key-regions/", {"name": name, "plate_prefixes": plate, "starts_on": "2020-02-01",
                                         "risk": "high", **extra})


def _flagged(user: User, checkpoint: str, plate: str, n: int) -> bool:
    [result] = api_for(user).post("/vehicle-checks", {
        "client_id": f"kr-{checkpoint}-{n}", "checkpoint": checkpoint, "at": "2020-02-03T10:00:00+08:00",
        "plate": plate, "origin": "", "disposition": "pass", "occupants": [{"temperature": 36.5}],
    }).json()["results"]
    assert result["status"] == "created", result
    return bool(result["key_region"])


def test_the_regions_there_were_are_the_operators(db: None) -> None:
    seeded = KeyRegion.objects.filter(name__in=["湖北省", "武汉市"])
    assert seeded.count() == 2 and all(r.city is None for r in seeded)


def test_each_city_keeps_its_own_list_and_checkpoints_match_their_own(
    commander: User, ordos_commander: User, checkpoint_officer: User, baotou_checkpoint: Checkpoint,
) -> None:
    assert _region(web_client(commander), "温州市", "浙C").status_code == 302
    assert _region(web_client(ordos_commander), "台州市", "浙J").status_code == 302
    wenzhou, taizhou = KeyRegion.objects.get(name="温州市"), KeyRegion.objects.get(name="台州市")
    assert (wenzhou.city.code, taizhou.city.code) == (BAOTOU, ORDOS)
    # 包头's checkpoint: 包头's list and the operator's (湖北); 达拉特旗 (鄂尔多斯): its own and the operator's
    assert _flagged(commander, "BT-CP1", "浙C11111", 1) is True
    assert _flagged(commander, "BT-CP1", "浙J11111", 2) is False
    assert _flagged(checkpoint_officer, "DLT-CP1", "浙C22222", 3) is False
    assert _flagged(checkpoint_officer, "DLT-CP1", "浙J22222", 4) is True
    assert _flagged(commander, "BT-CP1", "鄂B33333", 5) is True
    assert _flagged(checkpoint_officer, "DLT-CP1", "鄂B44444", 6) is True


def test_a_commander_neither_reads_nor_ends_another_citys_list(commander: User, ordos_commander: User) -> None:
    _region(web_client(commander), "温州市", "浙C")
    wenzhou = KeyRegion.objects.get(name="温州市")
    ordos = web_client(ordos_commander)
    page = ordos.get("/key-regions/").content.decode()
    assert f'data-region="{wenzhou.pk}"' not in page and "武汉市" in page  # the operator's list: read
    ordos.post("/key-regions/", {"end": wenzhou.pk})
    wenzhou.refresh_from_db()
    assert wenzhou.ends_on is None
    # nor adds to it: 包头 is not among the lists offered
    assert _region(ordos, "宁波市", "浙B", city=BAOTOU).status_code == 200
    assert not KeyRegion.objects.filter(name="宁波市").exists()
    # and the operator's list is the operator's: no city's commander ends 湖北省 for every city
    hubei = KeyRegion.objects.get(name="湖北省")
    for client in (web_client(commander), ordos):
        assert client.post("/key-regions/", {"end": hubei.pk}).status_code == 404
    hubei.refresh_from_db()
    assert hubei.ends_on is None


def test_a_district_reads_its_citys_list_and_changes_nothing(commander: User, branch_dh: User) -> None:
    _region(web_client(commander), "温州市", "浙C")
    wenzhou = KeyRegion.objects.get(name="温州市")
    branch = web_client(branch_dh)
    page = branch.get("/key-regions/").content.decode()
    assert f'data-region="{wenzhou.pk}"' in page and 'name="starts_on"' not in page
    assert branch.post("/key-regions/", {"end": wenzhou.pk}).status_code == 404
    assert _region(branch, "宁波市", "浙B").status_code == 404
    with pytest.raises(PermissionDenied):
        key_region_add(actor=branch_dh, name="宁波市", division_prefixes=[], plate_prefixes=["浙B"],
                       starts_on=date(2020, 2, 1))


def test_only_the_operator_keeps_the_list_for_every_city(commander: User, operator: User,
                                                         checkpoint_officer: User,
                                                         baotou_checkpoint: Checkpoint) -> None:
    assert _region(web_client(commander), "杭州市", "浙A", city="*").status_code == 200
    with pytest.raises(PermissionDenied):
        key_region_add(actor=commander, name="杭州市", division_prefixes=[], plate_prefixes=["浙A"],
                       starts_on=date(2020, 2, 1), operator_wide=True)
    assert not KeyRegion.objects.filter(name="杭州市").exists()
    client = web_client(operator)
    assert 'value="*"' in client.get("/key-regions/").content.decode()
    assert _region(client, "杭州市", "浙A", city="*").status_code == 302
    hangzhou = KeyRegion.objects.get(name="杭州市")
    assert hangzhou.city is None
    assert _flagged(commander, "BT-CP1", "浙A11111", 1) and _flagged(checkpoint_officer, "DLT-CP1", "浙A22222", 2)
    # the operator may also keep one city's list, and end anything
    assert _region(client, "台州市", "浙J", city=ORDOS).status_code == 302
    assert KeyRegion.objects.get(name="台州市").city.code == ORDOS
    assert client.post("/key-regions/", {"end": hangzhou.pk}).status_code == 302
    hangzhou.refresh_from_db()
    assert hangzhou.ends_on is not None


def test_a_returnee_is_matched_against_the_operators_list_and_the_households_city(
    commander: User, ordos_commander: User,
) -> None:
    key_region_add(actor=commander, name="温州市", division_prefixes=["3303"], plate_prefixes=[],
                   starts_on=date(2020, 2, 1))
    key_region_add(actor=ordos_commander, name="台州市", division_prefixes=["3310"], plate_prefixes=[],
                   starts_on=date(2020, 2, 1))
    household = Area.objects.get(code=BAOLI_34_2_6W)  # 包头
    on = date(2020, 2, 3)
    assert key_region_named("浙江省温州市", on, household).name == "温州市"
    assert key_region_named("浙江省台州市", on, household) is None
    assert key_region_named("湖北省孝感市", on, household).name == "湖北省"
    assert {r.name for r in key_regions_for_area(household, on)} >= {"温州市", "湖北省", "武汉市"}
    assert "台州市" not in {r.name for r in key_regions_for_area(household, on)}
