"""Area paths: the one value that knows how a path is built, so nothing splits one by hand."""

from __future__ import annotations

import pytest

from louzhang.core.paths import AreaPath

HOUSEHOLD = AreaPath("/150200/150202/150202001/150202001001/150202001001001/B34/U2/H0601/")


def test_a_path_is_built_from_codes_and_reads_back_its_shape() -> None:
    path = AreaPath.of("150200", "150202")
    assert path == "/150200/150202/" and path.depth == 2 and path.code == "150202"
    assert path.child("150202001") == "/150200/150202/150202001/"


def test_the_ancestor_at_a_level_is_a_prefix_of_the_path() -> None:
    assert HOUSEHOLD.depth == 8
    assert HOUSEHOLD.ancestor(5) == "/150200/150202/150202001/150202001001/150202001001001/"
    assert HOUSEHOLD.ancestor(8) == HOUSEHOLD and HOUSEHOLD.ancestor(9) == HOUSEHOLD
    assert HOUSEHOLD.ancestors() == [HOUSEHOLD.ancestor(d) for d in range(1, 8)]
    assert AreaPath.of("150200").ancestors() == []


def test_contains_is_by_whole_codes_not_by_characters() -> None:
    district = AreaPath.of("150200", "150202")
    assert district.contains(HOUSEHOLD) and district.contains(district)
    assert not district.contains("/150200/1502021/")  # a code that merely starts alike
    assert not HOUSEHOLD.contains(district)


def test_a_step_towards_a_granted_area_is_the_next_child_on_the_way() -> None:
    city = AreaPath.of("150200")
    assert city.step_towards(HOUSEHOLD) == "/150200/150202/"
    assert city.step_towards(city) is None
    assert city.step_towards("/150600/150621/") is None


@pytest.mark.parametrize("code", ["", "a/b"])
def test_a_code_may_not_be_empty_or_hold_the_separator(code: str) -> None:
    with pytest.raises(ValueError):
        AreaPath.of("150200", code)
