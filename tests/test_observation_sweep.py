"""The observation sweep over simulated days (`observations_sweep(now=...)`): missed check-ins
open a follow-up for the warden and count on it while it is open, the last day asks the health
liaison to release once, running it twice changes nothing; and the household is marked for
the gate rule while the observation runs."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from louzhang.accounts.models import Role, User
from louzhang.followups.models import ACTIVE_STATES, FollowUp
from louzhang.gates.models import HomeObservation
from louzhang.observation.models import OPEN_STATUSES, Observation, ObservationEvent, Status
from louzhang.observation.services import (
    check_in_record,
    observation_close,
    observation_open,
    observations_sweep,
)
from louzhang.registry.models import Resident
from tests.conftest import BAOLI_34_2_6W

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of February 2020, Baotou time."""
    return datetime(2020, 2, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def observation(warden: User) -> Observation:
    """A returnee from Wuhan (last there on 31 January) put under observation on 1 February at
    08:00: observed until 14 February."""
    person = (Resident.objects.filter(household__code=BAOLI_34_2_6W)
              .exclude(observations__status__in=OPEN_STATUSES).first())
    assert person is not None
    with time_machine.travel(_at(1, 8), tick=False):
        observation, _ = observation_open(actor=warden, household=person.household, resident=person,
                                          reason="武汉返回", last_exposure=date(2020, 1, 31), source="visit")
    assert observation.ends_on == date(2020, 2, 14)
    return observation


def _check_in(observation: Observation, at: datetime, actor: User | None = None) -> None:
    check_in_record(observation=observation, at=at, temperature=Decimal("36.5"), actor=actor,
                    via="officer" if actor else "resident", client_id=f"{at:%d-%H%M}")


def _followups(rule: str, observation: Observation) -> list[FollowUp]:
    return list(FollowUp.objects.filter(rule=rule, subject_type="observation", subject_id=str(observation.pk)))


def _state(observation: Observation) -> tuple[int, int, list[tuple[int, int]]]:
    """What a sweep may change: the misses counted, the history, the follow-ups and their repeats."""
    observation.refresh_from_db()
    followups = FollowUp.objects.filter(subject_type="observation", subject_id=str(observation.pk))
    return (observation.missed_count, observation.events.count(),
            sorted(followups.values_list("pk", "repeats")))


def test_a_missed_morning_opens_a_follow_up_for_the_warden(warden: User, observation: Observation) -> None:
    assert observations_sweep(now=_at(1, 11, 55))["missed"] == 0  # the morning is not over
    found = observations_sweep(now=_at(1, 12, 5))
    assert found["missed"] == 1
    [followup] = _followups("check_in_missed", observation)
    assert followup.owner == warden and followup.owner_role == Role.WARDEN
    assert followup.state in ACTIVE_STATES and "02-01 AM" in followup.summary
    observation.refresh_from_db()
    assert observation.missed_count == 1
    assert list(observation.events.filter(kind=ObservationEvent.Kind.MISSED).values_list("note", flat=True)) == ["02-01 AM"]


def test_a_check_in_in_time_is_not_missed(observation: Observation) -> None:
    _check_in(observation, _at(1, 9, 30))  # through the resident's link
    _check_in(observation, _at(1, 19, 10))
    assert observations_sweep(now=_at(1, 12, 5))["missed"] == 0
    assert observations_sweep(now=_at(1, 21, 5))["missed"] == 0
    assert _followups("check_in_missed", observation) == []


def test_a_second_miss_counts_on_the_follow_up_still_open(observation: Observation) -> None:
    observations_sweep(now=_at(1, 12, 5))  # the morning of the 1st missed
    observations_sweep(now=_at(1, 21, 5))  # the evening too, nobody called
    [followup] = _followups("check_in_missed", observation)
    assert followup.repeats == 1
    assert "02-01 PM" in followup.events.order_by("-at", "-pk").first().note  # type: ignore[union-attr]
    observation.refresh_from_db()
    assert observation.missed_count == 2
    # checked in at last (closes it); the next miss is a new follow-up
    _check_in(observation, _at(1, 22))
    observations_sweep(now=_at(2, 12, 5))
    assert [f.state for f in _followups("check_in_missed", observation)] == ["done", "open"]


def test_a_sweep_run_twice_changes_nothing(observation: Observation) -> None:
    observations_sweep(now=_at(2, 12, 5))
    before = _state(observation)
    assert before[0] == 3  # the 1st's morning and evening, the 2nd's morning
    again = observations_sweep(now=_at(2, 12, 5))
    assert again["missed"] == 0 and again["release_due"] == 0
    assert _state(observation) == before
    # a sweep a moment later finds nothing new either
    observations_sweep(now=_at(2, 12, 10))
    assert _state(observation) == before


def test_missed_slots_between_two_sweeps_are_all_counted(observation: Observation) -> None:
    """The worker was down for a day and a half: every slot that fell due meanwhile is missed."""
    found = observations_sweep(now=_at(3, 12, 5))
    assert found["missed"] == 5  # 1st AM and PM, 2nd AM and PM, 3rd AM
    observation.refresh_from_db()
    assert observation.missed_count == 5
    [followup] = _followups("check_in_missed", observation)
    assert "02-01 AM" in followup.summary and "02-03 AM" in followup.summary


def test_the_last_day_asks_the_health_liaison_to_release_once(health: User, observation: Observation) -> None:
    for day in range(1, 14):
        _check_in(observation, _at(day, 9))
        _check_in(observation, _at(day, 18))
        observations_sweep(now=_at(day, 22))
    assert _followups("observation_release", observation) == []
    found = observations_sweep(now=_at(14, 0, 5))
    assert found["release_due"] == 1
    [followup] = _followups("observation_release", observation)
    assert followup.owner == health and followup.owner_role == Role.HEALTH
    assert "2020-02-14" in followup.summary
    # later sweeps of the same day, and of the days after, do not ask again
    for now in (_at(14, 0, 10), _at(14, 12, 5), _at(15, 9)):
        assert observations_sweep(now=now)["release_due"] == 0
    assert len(_followups("observation_release", observation)) == 1
    assert FollowUp.objects.get(pk=followup.pk).repeats == 0
    # released on the last day: the follow-up asking for it is done
    with time_machine.travel(_at(14, 9), tick=False):
        observation_close(actor=health, observation=observation, status=Status.RELEASED)
    followup.refresh_from_db()
    assert followup.state == "done"


def test_the_household_is_marked_for_the_gate_rule_while_observed(health: User, observation: Observation) -> None:
    mark = HomeObservation.objects.get(pk=observation.gate_mark_id)
    assert mark.household_id == observation.household_id and mark.ended_at is None
    assert (mark.starts_on, mark.ends_on) == (date(2020, 2, 1), date(2020, 2, 14))
    with time_machine.travel(_at(14, 10), tick=False):
        observation_close(actor=health, observation=observation, status=Status.RELEASED)
    mark.refresh_from_db()
    assert mark.ended_at is not None
    # a released observation is swept no more
    assert observations_sweep(now=_at(15, 12, 5))["observations"] == Observation.objects.filter(
        status=Status.ACTIVE).count()
    observation.refresh_from_db()
    assert observation.status == Status.RELEASED


def test_a_missed_check_in_nobody_acts_on_climbs_to_the_station_then_the_branch(
        observation: Observation, warden: User, station_xnb: User, branch_dh: User, settings: object) -> None:
    """Day 2: nobody checks in by noon. The warden gets the follow-up (due in two hours); nobody
    calls; the escalation clock reminds the warden, then tells the station commander, then the
    branch — over the simulated afternoon and evening."""
    from louzhang.followups.services import followups_escalate
    from louzhang.notifications.models import Notification

    settings.LOUZHANG_FOLLOWUP_REMIND_AFTER_MINUTES = 0  # type: ignore[attr-defined]
    settings.LOUZHANG_ESCALATE_AFTER_MINUTES = [60, 240]  # type: ignore[attr-defined]
    # the demo city's own open follow-ups would climb too: only this one is watched
    FollowUp.objects.filter(state__in=ACTIVE_STATES).exclude(subject_id=str(observation.pk)).update(
        state="cancelled", closed_at=_at(1, 9))
    _check_in(observation, _at(1, 9))  # day 1: both done
    _check_in(observation, _at(1, 19))
    with time_machine.travel(_at(2, 12, 5), tick=False) as clock:
        observations_sweep(_at(2, 12, 5))
        [missed] = _followups("check_in_missed", observation)
        assert missed.owner == warden
        assert Notification.objects.filter(user=warden, about=missed.about).count() == 1
        clock.move_to(_at(2, 14, 10))  # due at 14:05: the warden is reminded
        assert followups_escalate()["reminded"] == 1
        clock.move_to(_at(2, 15, 10))  # an hour past due: the station
        assert followups_escalate()["escalated"] == 1
        assert Notification.objects.filter(user=station_xnb, about=missed.about).exists()
        clock.move_to(_at(2, 18, 10))  # four hours past due: the branch
        assert followups_escalate()["escalated"] == 1
        assert Notification.objects.filter(user=branch_dh, about=missed.about).exists()
        # the evening deadline passes too: counted on the same follow-up, not a second one
        observations_sweep(_at(2, 21, 5))
        assert [f.repeats for f in _followups("check_in_missed", observation)] == [1]
        observation.refresh_from_db()
        assert observation.missed_count == 2


def test_a_late_check_in_closes_the_missed_check_in_follow_up(observation: Observation, warden: User) -> None:
    _check_in(observation, _at(1, 9))
    _check_in(observation, _at(1, 19))
    with time_machine.travel(_at(2, 12, 5), tick=False):
        observations_sweep(_at(2, 12, 5))
    [missed] = _followups("check_in_missed", observation)
    assert missed.state == "open"
    with time_machine.travel(_at(2, 12, 40), tick=False):
        _check_in(observation, _at(2, 12, 40))  # through the personal link: no officer
    missed.refresh_from_db()
    assert missed.state == "done" and "12:40" in missed.finding and "36.5" in missed.finding
    assert missed.closed_by is None
    # the next miss opens a new one
    with time_machine.travel(_at(3, 12, 5), tick=False):
        observations_sweep(_at(3, 12, 5))
    assert [f.state for f in _followups("check_in_missed", observation)] == ["done", "open"]
