"""Who answers for an area, remembered for one batch: the answers are the same as without the
memo, and a batch asks the database once per compound, not once per household."""

from __future__ import annotations

from typing import Any

import pytest

from louzhang.access.holders import holders_over, owner_for
from louzhang.areas.models import Area, Level
from louzhang.core.memo import remembered
from louzhang.core.paths import AreaPath
from tests.conftest import BAOLI, FUGUI

pytestmark = pytest.mark.django_db


def _households(compound: str, n: int) -> list[Area]:
    """`n` households spread over the compound's buildings."""
    every = list(Area.objects.filter(code__startswith=f"{compound}-", level=Level.HOUSEHOLD).order_by("code"))
    return every[::max(1, len(every) // n)][:n]


def _answers(areas: list[Area]) -> list[Any]:
    return [(owner_for(a), sorted((h.holding.grant_id, h.level) for h in holders_over(a, ["warden", "health", "commander"])))
            for a in areas]


def test_remembered_answers_are_the_same_answers(django_assert_max_num_queries: Any) -> None:
    areas = _households(BAOLI, 6) + _households(FUGUI, 3)
    plain = _answers(areas)
    with remembered():
        assert _answers(areas) == plain


def test_a_batch_reads_a_compounds_grants_once(django_assert_num_queries: Any) -> None:
    first, *others = _households(BAOLI, 8)
    with remembered():
        owner_for(first)
        assert len({AreaPath(h.path).ancestor(Level.BUILDING) for h in others}) > 1  # several buildings
        with django_assert_num_queries(0):  # every other household of the compound: no query
            for household in others:
                owner_for(household)
