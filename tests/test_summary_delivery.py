"""The day's summary (每日汇总) of a place goes, at the time its commander chose, to their inbox
and to the commanders' channels bound to the place (a real local HTTP receiver stands in for the
group robot): not before, once a day whatever the rounds of the worker, only for a place the
commander commands."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
import time_machine
from django.http import Http404
from django.utils import timezone

from louzhang.accounts.models import User
from louzhang.notifications.models import Channel, Notification
from louzhang.notifications.services import channel_add
from louzhang.stats.delivery import summaries_send, summary_send, summary_subscribe
from louzhang.stats.figures import BY_KEY
from louzhang.stats.models import SummarySubscription
from louzhang.stats.rollup import rollup_day
from louzhang.stats.selectors import figures, place_for
from tests.conftest import (
    BAOLI,
    BAOLI_34_2_6W,
    BAOTOU,
    DONGHE,
    JIUYUAN,
    InlineWorker,
    api_for,
    web_client,
)
from tests.receiver import Receiver

pytestmark = pytest.mark.django_db


def _at(day: date, hour: int, minute: int, second: int = 0) -> datetime:
    """A local (Asia/Shanghai) moment."""
    return timezone.make_aware(datetime.combine(day, time(hour, minute, second)))


@pytest.fixture
def clock() -> Iterator[Any]:
    """Today at 07:00 local time, standing still until moved."""
    with time_machine.travel(_at(timezone.localdate(), 7, 0), tick=False) as traveller:
        yield traveller


def _channel(receiver: Receiver, key: str, area: str, roles: tuple[str, ...] = ("commander",)) -> Channel:
    return channel_add(name=f"summary-{key}", kind="wecom", url=f"{receiver.url}/cgi-bin/webhook/send?key={key}",
                       area_code=area, roles=roles, actor=None)


def _summaries(receiver: Receiver, place: str = DONGHE) -> list[tuple[str, str]]:
    """(robot key, text) of the requests that carried a summary of `place`."""
    return [(r.query["key"][0], r.json()["text"]["content"]) for r in receiver.requests
            if f"/dashboard/{place}/" in r.json().get("text", {}).get("content", "")]


def _round(worker: InlineWorker) -> None:
    """One round of the worker at the clock's time, and the sending it queued.

    `InlineWorker.run` returns before running what a periodic job queued on commit (its
    captured callbacks are only seen when the capture is closed, at the next call): the second
    call sends the deliveries the first one's `stats.summaries` queued."""
    worker.run()
    worker.run()


def _subscribe(user: User, place: str, at: str) -> Any:
    return web_client(user).post("/summaries/", {"place": place, "at": at})


def test_sent_at_the_chosen_time_to_the_districts_commanders_group_once_a_day(
        receiver: Receiver, branch_dh: User, worker: InlineWorker, clock: Any, settings: Any) -> None:
    settings.LOUZHANG_BASE_URL = "https://lz.gaj.example"
    _channel(receiver, "DH-COMMAND", DONGHE)
    _channel(receiver, "CITY-COMMAND", BAOTOU)  # above the district: not its group
    _channel(receiver, "DH-WARDENS", DONGHE, roles=("warden",))  # the district's, not commanders'
    assert _subscribe(branch_dh, DONGHE, "08:00").status_code == 302
    today = timezone.localdate()

    clock.move_to(_at(today, 7, 59, 30))
    _round(worker)
    assert _summaries(receiver) == []
    assert not Notification.objects.filter(user=branch_dh, about__startswith="summary:").exists()

    clock.move_to(_at(today, 8, 0, 30))
    _round(worker)
    receiver.wait_for(1)
    [(key, text)] = _summaries(receiver)
    assert key == "DH-COMMAND"
    assert "东河区" in text and today.isoformat() in text
    assert "https://lz.gaj.example/dashboard/150202/" in text
    [line] = Notification.objects.filter(user=branch_dh, about=f"summary:{DONGHE}:{today.isoformat()}")
    assert line.link == "/dashboard/150202/" and "东河区" in line.title

    for later in (_at(today, 8, 2), _at(today, 12, 0), _at(today, 23, 59)):  # more rounds: nothing more
        clock.move_to(later)
        _round(worker)
    assert len(_summaries(receiver)) == 1

    clock.move_to(_at(today + timedelta(days=1), 8, 0, 30))  # the next day, again once
    _round(worker)
    receiver.wait_for(2)
    assert [k for k, _ in _summaries(receiver)] == ["DH-COMMAND", "DH-COMMAND"]
    assert (today + timedelta(days=1)).isoformat() in _summaries(receiver)[1][1]


def test_two_workers_rounds_send_it_once(branch_dh: User, clock: Any) -> None:
    subscription = summary_subscribe(user=branch_dh, place_key=DONGHE, at=time(8, 0))
    today = timezone.localdate()
    clock.move_to(_at(today, 8, 0, 5))
    assert summary_send(subscription_id=subscription.pk) is True
    # another worker that had read the subscription as due before the first claimed it
    assert summary_send(subscription_id=subscription.pk) is False
    assert summaries_send() == 0
    assert Notification.objects.filter(user=branch_dh, about__startswith="summary:").count() == 1
    subscription.refresh_from_db()
    assert subscription.last_sent_on == today


def test_two_commanders_of_a_place_one_message_in_their_group(
        receiver: Receiver, commander: User, branch_dh: User, worker: InlineWorker, clock: Any) -> None:
    _channel(receiver, "DH-COMMAND", DONGHE)
    summary_subscribe(user=commander, place_key=DONGHE, at=time(8, 0))
    summary_subscribe(user=branch_dh, place_key=DONGHE, at=time(8, 0))
    clock.move_to(_at(timezone.localdate(), 8, 1))
    _round(worker)
    receiver.wait_for(1)
    assert len(_summaries(receiver)) == 1
    for user in (commander, branch_dh):  # each inbox has it
        assert Notification.objects.filter(user=user, about__startswith=f"summary:{DONGHE}:").count() == 1


def test_the_figures_are_the_dashboards(gate: User, branch_dh: User, clock: Any) -> None:
    from louzhang.gates.models import HouseholdPass

    code = HouseholdPass.objects.get(household__code=BAOLI_34_2_6W).code
    answer = api_for(gate).post("/gate-checks", {"client_id": "summary-1", "gate": f"{BAOLI}-E", "direction": "in",
                                                 "at": timezone.localtime().isoformat(), "temperature": 38.6,
                                                 "pass_code": code})
    assert answer.status_code == 200
    rollup_day(timezone.localdate())
    subscription = summary_subscribe(user=branch_dh, place_key=DONGHE, at=time(6, 30))
    clock.move_to(_at(timezone.localdate(), 20, 0))  # first summary tomorrow: 06:30 had passed at 07:00
    assert summaries_send() == 0
    clock.move_to(_at(timezone.localdate() + timedelta(days=1), 6, 30))
    rollup_day(timezone.localdate())
    assert summary_send(subscription_id=subscription.pk) is True
    line = Notification.objects.get(user=branch_dh, about__startswith="summary:")
    counted = figures(place_for(branch_dh, DONGHE), timezone.localdate())
    lines = line.body.splitlines()
    fevers = next(i for i, text in enumerate(lines) if text.startswith(str(BY_KEY["fevers"].label)))
    assert lines[fevers].split(": ")[1].split(" ")[0] == str(counted["fevers"])
    on_post = lines[0].split(": ")[1].split(" ")
    assert on_post[:3] == [str(counted["officers_on_post"]), "/", str(counted["officers"])]


def test_the_page_shows_the_preview_and_says_truly_where_it_goes(receiver: Receiver, branch_dh: User, clock: Any) -> None:
    page = web_client(branch_dh)
    assert _subscribe(branch_dh, DONGHE, "08:00").status_code == 302
    html = page.get("/summaries/").content.decode()
    assert "data-no-channel" in html and 'data-channels=""' in html
    assert "data-summary-text" in html and "东河区" in html
    assert f'data-next="{timezone.localdate().isoformat()} 08:00"' in html
    _channel(receiver, "DH-COMMAND", DONGHE)
    html = page.get("/summaries/").content.decode()
    assert "data-no-channel" not in html and 'data-channels="summary-DH-COMMAND"' in html
    preview = page.get("/summaries/preview/", {"place": DONGHE})
    assert preview.status_code == 200 and 'data-channels="summary-DH-COMMAND"' in preview.content.decode()


def test_a_time_already_past_today_starts_tomorrow(receiver: Receiver, branch_dh: User,
                                                   worker: InlineWorker, clock: Any) -> None:
    _channel(receiver, "DH-COMMAND", DONGHE)
    today = timezone.localdate()
    clock.move_to(_at(today, 9, 0))
    assert _subscribe(branch_dh, DONGHE, "08:00").status_code == 302
    html = web_client(branch_dh).get("/summaries/").content.decode()
    assert f'data-next="{(today + timedelta(days=1)).isoformat()} 08:00"' in html
    clock.move_to(_at(today, 9, 1))
    _round(worker)
    assert _summaries(receiver) == []
    # moved to later today: it goes today after all
    assert _subscribe(branch_dh, DONGHE, "10:00").status_code == 302
    clock.move_to(_at(today, 10, 0, 30))
    _round(worker)
    receiver.wait_for(1)
    assert len(_summaries(receiver)) == 1


def test_stopped_it_sends_nothing(receiver: Receiver, branch_dh: User, commander: User,
                                  worker: InlineWorker, clock: Any) -> None:
    _channel(receiver, "DH-COMMAND", DONGHE)
    subscription = summary_subscribe(user=branch_dh, place_key=DONGHE, at=time(8, 0))
    # somebody else's summary cannot be stopped (nor told to exist)
    assert web_client(commander).post(f"/summaries/{subscription.pk}/stop/").status_code == 404
    assert web_client(branch_dh).post(f"/summaries/{subscription.pk}/stop/").status_code == 302
    assert not SummarySubscription.objects.get(pk=subscription.pk).active
    clock.move_to(_at(timezone.localdate(), 8, 1))
    _round(worker)
    assert _summaries(receiver) == []
    assert "data-no-summaries" in web_client(branch_dh).get("/summaries/").content.decode()


def test_a_commander_cannot_subscribe_outside_their_jurisdiction(station_xnb: User, warden: User,
                                                                  branch_dh: User) -> None:
    answer = _subscribe(station_xnb, JIUYUAN, "08:00")
    assert answer.status_code == 200  # the form again, with its error
    assert not SummarySubscription.objects.filter(user=station_xnb).exists()
    for place in (JIUYUAN, DONGHE, BAOTOU):  # the other district; the district and city above
        with pytest.raises(Http404):
            summary_subscribe(user=station_xnb, place_key=place, at=time(8, 0))
        assert web_client(station_xnb).get("/summaries/preview/", {"place": place}).status_code == 404
    with pytest.raises(Http404):
        summary_subscribe(user=branch_dh, place_key="station:HLBE-YKS-KDE", at=time(8, 0))
    # a warden commands nothing: no page
    assert web_client(warden).get("/summaries/").status_code == 404
    with pytest.raises(Http404):
        summary_subscribe(user=warden, place_key=BAOLI, at=time(8, 0))
    # the station's commander may take their own station (its beat is one community: the
    # station stands for it, and its figures count the station's officers too)
    assert _subscribe(station_xnb, "station:BT-DH-XNB", "08:00").status_code == 302
