"""The subtree lookup and the Jurisdiction object every page, export and endpoint relies on."""

from __future__ import annotations

import pytest

from louzhang.access.jurisdiction import Jurisdiction, jurisdiction_for, scope
from louzhang.accounts.models import Grant
from louzhang.accounts.services import forget_grants, user_create
from louzhang.areas.models import Area, Level
from louzhang.areas.services import area_create
from louzhang.registry.models import Resident
from tests.conftest import BAOLI, BAOLI_34, BAOTOU, DONGHE, FUGUI, JIUYUAN


def test_minimal_paths_drop_nested_grants():
    j = Jurisdiction.of_paths(["/1/2/", "/1/2/3/", "/1/20/", "/4/"])
    assert j.paths == ("/1/2/", "/1/20/", "/4/")
    assert j.covers("/1/2/3/9/")
    assert not j.covers("/1/")
    assert j.leads_to("/1/") and not j.leads_to("/1/2/")
    assert j.next_steps_below("/1/") == {"/1/2/", "/1/20/"}


@pytest.mark.django_db
def test_subtree_does_not_match_a_sibling_whose_code_extends_the_prefix():
    # "/150202/" must not catch "/1502020/…": the separator closes the prefix
    city = Area.objects.get(code=BAOTOU)
    sibling = area_create(code="1502020", name="假想区", level=Level.DISTRICT, parent=city)
    inside = set(Area.objects.filter(path__subtree=Area.objects.get(code=DONGHE).path)
                 .values_list("code", flat=True))
    assert sibling.code not in inside
    assert DONGHE in inside and BAOLI_34 in inside
    assert JIUYUAN not in inside


@pytest.mark.django_db
def test_like_wildcards_in_codes_are_literal():
    # on PostgreSQL the lookup is a LIKE: "_" and "%" in a code must not act as wildcards
    city = Area.objects.get(code=BAOTOU)
    odd = area_create(code="99_9", name="x", level=Level.DISTRICT, parent=city)
    near = area_create(code="99a9", name="y", level=Level.DISTRICT, parent=city)
    matched = set(Area.objects.filter(path__subtree=odd.path).values_list("code", flat=True))
    assert matched == {odd.code}
    assert near.code not in matched


@pytest.mark.django_db
def test_subtree_uses_an_index_on_sqlite_and_postgresql():
    from django.db import connection

    qs = Area.objects.filter(path__subtree="/150200/150202/", level=Level.HOUSEHOLD)
    plan = qs.explain()
    if connection.vendor == "sqlite":
        assert "USING INDEX" in plan or "USING COVERING INDEX" in plan, plan
    else:
        # small tables may be scanned sequentially by choice; force the planner to show the index
        with connection.cursor() as cursor:
            cursor.execute("SET enable_seqscan = off")
            plan = qs.explain()
            cursor.execute("SET enable_seqscan = on")
        # an index range on path, not a scan with a filter
        assert "Index Cond" in plan and "path" in plan.split("Index Cond", 1)[1], plan


@pytest.mark.django_db
def test_warden_jurisdiction_is_the_union_of_building_grants(warden):
    j = jurisdiction_for(warden)
    assert len(j.paths) == 7
    assert j.covers(Area.objects.get(code=BAOLI_34).path)
    assert not j.covers(Area.objects.get(code=BAOLI).path)  # not the whole compound
    assert j.leads_to(Area.objects.get(code=BAOLI).path)


@pytest.mark.django_db
def test_scope_limits_residents_to_the_grants(warden, warden_jy, commander):
    mine = scope(Resident.objects.all(), warden)
    assert mine.exists()
    assert not mine.filter(household__path__startswith=Area.objects.get(code=FUGUI).path).exists()
    assert set(scope(Resident.objects.all(), warden_jy).values_list("household__parent__parent__parent__code", flat=True)) == {FUGUI}
    assert scope(Resident.objects.all(), commander).count() == Resident.objects.filter(
        household__path__startswith="/150200/").count()


@pytest.mark.django_db
def test_station_grant_covers_the_station_communities(station_kde):
    j = jurisdiction_for(station_kde)
    assert j.covers(Area.objects.get(code="150782101001").path)  # 库都尔社区
    assert not j.covers(Area.objects.get(code="150782001001").path)  # 胜利社区 is the other station's


@pytest.mark.django_db
def test_user_without_grants_sees_nothing():
    user = user_create(username="nobody", role="warden", area_codes=[FUGUI], password=None)
    Grant.objects.filter(user=user).delete()
    forget_grants(user)
    assert scope(Area.objects.all(), user).count() == 0


@pytest.mark.django_db
def test_station_without_communities_covers_nothing(station_kde):
    from louzhang.areas.models import PoliceUnit

    PoliceUnit.objects.get(code="HLBE-YKS-KDE").communities.clear()
    forget_grants(station_kde)
    j = jurisdiction_for(station_kde)
    assert j.is_empty
    assert not j.covers(Area.objects.get(code="150782").path)  # never the whole county


def test_malformed_paths_are_refused_not_treated_as_everything():
    for bad in ["", "/", "150202/", "/150202", "//150202/"]:
        with pytest.raises(ValueError):
            Jurisdiction.of_paths([bad])


@pytest.mark.django_db
def test_database_refuses_a_malformed_path():
    from django.db import IntegrityError, transaction

    for bad in ["", "/", "x/", "/x", "/a//b/"]:
        with pytest.raises(IntegrityError), transaction.atomic():
            Area.objects.create(code=f"bad{len(bad)}{bad}", name="x", level=Level.CITY, path=bad)
