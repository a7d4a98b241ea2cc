"""The public pages' rate limit counts a sliding window: a burst is not forgiven at the turn of
a minute, and the wait it answers is the time until a request would pass again."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.core.cache import cache

from louzhang.core.public import Rate, rate_wait

RATE = Rate(5, 60)
START = datetime(2020, 1, 28, 9, 0, 0, tzinfo=UTC)  # at the start of a fixed window


@pytest.fixture(autouse=True)
def _clean_cache() -> Any:
    cache.clear()
    yield
    cache.clear()


def _at(seconds: float) -> Any:
    return time_machine.travel(START.timestamp() + seconds, tick=False)


def test_a_burst_across_the_turn_of_the_minute_is_still_one_burst() -> None:
    with _at(59.5):
        assert [rate_wait("t", "a", RATE) for _ in range(5)] == [0] * 5
    with _at(60.5):  # a new fixed window: a fixed-window counter would start again at zero
        wait = rate_wait("t", "a", RATE)
    assert wait > 0


def test_the_wait_answered_is_when_a_request_passes_again() -> None:
    with _at(10):
        for _ in range(5):
            assert rate_wait("t", "b", RATE) == 0
        wait = rate_wait("t", "b", RATE)  # the sixth: refused
    assert 0 < wait <= 2 * 60 + 1
    with _at(10 + wait + 1):
        assert rate_wait("t", "b", RATE) == 0


def test_requests_spread_over_the_window_pass_and_addresses_count_alone() -> None:
    for second in range(0, 600, 20):  # three a minute: well under five
        with _at(second):
            assert rate_wait("t", "c", RATE) == 0
    with _at(700):
        for _ in range(5):
            assert rate_wait("t", "d", RATE) == 0
        assert rate_wait("t", "d", RATE) > 0
        assert rate_wait("t", "e", RATE) == 0
