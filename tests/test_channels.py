"""Delivery channels against a real local HTTP server: the exact request each platform
documents, signatures, retries, rate limits, pacing, dead letters and "send again"."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from louzhang.accounts.models import User
from louzhang.areas.models import Area
from louzhang.followups.models import ACTIVE_STATES, FollowUp, State
from louzhang.followups.services import followup_open, followups_escalate
from louzhang.notifications.models import Channel, Delivery, DeliveryAttempt
from louzhang.notifications.services import ChannelError, channel_add, channel_test
from louzhang.notifications.transports.base import Message
from louzhang.notifications.transports.wecom import WeCom
from tests.conftest import BAOLI, BAOLI_34_2_6W, DONGHE, FUGUI_1, InlineWorker, web_client
from tests.receiver import Receiver

OK_WECOM = (200, {"errcode": 0, "errmsg": "ok"})


def _fever(subject: str = "h1", area: str = BAOLI_34_2_6W, summary: str = "保利百合 东门 38.4 °C 访客") -> FollowUp:
    followup, _ = followup_open(
        rule="test_fever", kind="task", subject_type="household", subject_id=subject,
        area=Area.objects.get(code=area), summary=summary, action="请核实",
        due_in=timedelta(hours=1),
    )
    return followup


def _channel(kind: str, url: str, *, secret: str = "", roles: tuple[str, ...] = ("warden",),
             area: str = DONGHE, options: dict[str, Any] | None = None) -> Channel:
    return channel_add(name=f"{kind}-{area}-{len(url)}-{','.join(roles)}", kind=kind, url=url,
                       area_code=area, roles=roles, secret=secret, options=options, actor=None)


def test_wecom_text_exact_payload_at_the_warden_and_no_personal_numbers(receiver: Receiver, warden: User, worker: InlineWorker) -> None:
    _channel("wecom", f"{receiver.url}/cgi-bin/webhook/send?key=KEY-1")
    followup = _fever(summary="34号楼 访客 13812345678 150202198001011236 发热 38.4 °C")
    worker.run()
    [request] = receiver.requests
    assert request.path == "/cgi-bin/webhook/send" and request.query == {"key": ["KEY-1"]}
    assert request.headers["Content-Type"] == "application/json"
    body = request.json()
    assert set(body) == {"msgtype", "text"} and body["msgtype"] == "text"
    assert body["text"]["mentioned_mobile_list"] == [warden.phone]
    content = body["text"]["content"]
    assert "【任务】34号楼 访客" in content and "38.4 °C" in content
    assert "地点：东河区 保利百合 34号楼 二单元 6楼西户" in content
    assert "处置：请核实" in content and f"负责人：{warden.display_name}" in content
    assert content.endswith(f"http://localhost:8000/followups/{followup.pk}/")
    assert "13812345678" not in content and "150202198001011236" not in content
    assert "138****5678" in content
    delivery = Delivery.objects.get(about=followup.about)
    assert delivery.state == Delivery.State.SENT and delivery.attempts == 1


def test_wecom_caps_text_at_2048_and_markdown_at_4096_bytes() -> None:
    long = Message(title="标题", text="长" * 3000, mentions=("13800000000",))
    text = WeCom(url="http://x/send?key=k").build(long, uid="u", recipient="", now_ms=0)
    import json

    content = json.loads(text.body)["text"]["content"]
    assert len(content.encode()) <= 2048 and content.endswith("…")
    md = WeCom(url="http://x/send?key=k", options={"format": "markdown"}).build(long, uid="u", recipient="", now_ms=0)
    body = json.loads(md.body)
    assert body["msgtype"] == "markdown" and "mentioned_mobile_list" not in json.dumps(body)
    assert 4000 < len(body["markdown"]["content"].encode()) <= 4096


def test_dingtalk_signed_url_and_at_mobile_in_text(receiver: Receiver, warden: User, worker: InlineWorker) -> None:
    secret = "SEC0123456789abcdef"
    _channel("dingtalk", f"{receiver.url}/robot/send?access_token=TOKEN", secret=secret)
    _fever()
    worker.run()
    [request] = receiver.requests
    assert request.path == "/robot/send" and request.query["access_token"] == ["TOKEN"]
    timestamp = request.query["timestamp"][0]
    expected = base64.b64encode(hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(),
                                         hashlib.sha256).digest()).decode()
    assert request.query["sign"] == [expected]  # parse_qs undid the URL encoding
    assert abs(int(timestamp) - timezone.now().timestamp() * 1000) < 60_000
    body = request.json()
    assert body["msgtype"] == "text"
    assert body["at"] == {"atMobiles": [warden.phone], "isAtAll": False}
    assert f"@{warden.phone}" in body["text"]["content"]


def test_feishu_signed_body(receiver: Receiver, warden: User, worker: InlineWorker) -> None:
    receiver.script = [(200, {"code": 0, "msg": "success", "data": {}})]
    secret = "feishu-secret"
    _channel("feishu", f"{receiver.url}/open-apis/bot/v2/hook/HOOK-ID", secret=secret)
    _fever()
    worker.run()
    [request] = receiver.requests
    assert request.path == "/open-apis/bot/v2/hook/HOOK-ID"
    body = request.json()
    expected = base64.b64encode(hmac.new(f"{body['timestamp']}\n{secret}".encode(), b"",
                                         hashlib.sha256).digest()).decode()
    assert body["sign"] == expected
    assert body["msg_type"] == "text" and "38.4 °C" in body["content"]["text"]
    assert abs(int(body["timestamp"]) - timezone.now().timestamp()) < 60


def test_webhook_hmac_signed_body_with_a_stable_delivery_id(receiver: Receiver, warden: User, worker: InlineWorker) -> None:
    receiver.script = [(204, {})]
    _channel("webhook", f"{receiver.url}/hooks/louzhang", secret="hook-secret")
    followup = _fever()
    worker.run()
    [request] = receiver.requests
    body = request.body
    timestamp = request.headers["X-Louzhang-Timestamp"]
    mac = hmac.new(b"hook-secret", timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert request.headers["X-Louzhang-Signature"] == f"sha256={mac}"
    data = request.json()
    delivery = Delivery.objects.get(about=followup.about)
    assert data["id"] == request.headers["X-Louzhang-Delivery"] == str(delivery.uid)
    assert data["link"].endswith(f"/followups/{followup.pk}/")
    assert delivery.state == Delivery.State.SENT


def test_sms_goes_to_the_owners_phone(receiver: Receiver, warden: User, worker: InlineWorker) -> None:
    receiver.script = [(200, {"ok": True})]
    _channel("sms", f"{receiver.url}/sms/send", secret="s")
    _fever()
    worker.run()
    [request] = receiver.requests
    body = request.json()
    assert body["to"] == warden.phone and "38.4 °C" in body["text"] and len(body["text"]) <= 300


def test_500_timeout_and_rate_limit_are_retried_and_the_message_arrives_once(
    receiver: Receiver, warden: User, worker: InlineWorker, settings: Any,
) -> None:
    settings.LOUZHANG_DELIVERY_TIMEOUT_SECONDS = 0.5
    receiver.hang_seconds = 2
    receiver.script = [(500, {}), "hang", (200, {"errcode": 45009, "errmsg": "api freq out of limit"}), OK_WECOM]
    _channel("wecom", f"{receiver.url}/cgi-bin/webhook/send?key=K")
    with time_machine.travel(timezone.now(), tick=True) as clock:
        followup = _fever()
        worker.run()
        delivery = Delivery.objects.get(about=followup.about)
        for _ in range(6):  # the worker wakes up again and again, later and later
            clock.shift(timedelta(minutes=2))
            worker.run()
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.SENT
    outcomes = list(DeliveryAttempt.objects.filter(delivery=delivery).order_by("id").values_list("outcome", flat=True))
    assert outcomes == ["retry", "retry", "rate_limited", "sent"]
    assert len(receiver.requests) == 4  # nothing after the success
    assert delivery.failures == 2  # the rate limit does not count as a failure


def test_a_bad_key_is_not_retried_and_a_commander_sends_it_again(
    receiver: Receiver, warden: User, commander: User, worker: InlineWorker,
) -> None:
    receiver.script = [(200, {"errcode": 93000, "errmsg": "invalid webhook url"}), OK_WECOM]
    _channel("wecom", f"{receiver.url}/cgi-bin/webhook/send?key=OLD")
    followup = _fever()
    worker.run()
    worker.run()
    delivery = Delivery.objects.get(about=followup.about)
    assert delivery.state == Delivery.State.DEAD and len(receiver.requests) == 1
    assert "93000" in delivery.last_error

    client = web_client(commander)
    page = client.get("/deliveries/").content.decode()
    assert f'data-delivery="{delivery.pk}"' in page
    assert client.post(f"/deliveries/{delivery.pk}/send-again").status_code == 302
    worker.run()
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.SENT and len(receiver.requests) == 2
    # a warden has no deliveries page and cannot resend
    assert web_client(warden).post(f"/deliveries/{delivery.pk}/send-again").status_code == 404


def test_dingtalk_lock_pauses_the_channel_for_ten_minutes(receiver: Receiver, warden: User, worker: InlineWorker) -> None:
    receiver.script = [(200, {"errcode": 130101, "errmsg": "send too fast"}), (200, {"errcode": 0, "errmsg": "ok"})]
    channel = _channel("dingtalk", f"{receiver.url}/robot/send?access_token=T", secret="s")
    with time_machine.travel(timezone.now(), tick=True) as clock:
        _fever("a")
        worker.run()
        channel.refresh_from_db()
        assert channel.paused_until is not None
        assert timedelta(minutes=9) < channel.paused_until - timezone.now() <= timedelta(minutes=10)
        _fever("b")
        clock.shift(timedelta(minutes=5))
        worker.run()
        assert len(receiver.requests) == 1  # nothing while the robot is locked
        clock.shift(timedelta(minutes=6))
        worker.run()
    assert len(receiver.requests) == 3
    assert not Delivery.objects.exclude(state=Delivery.State.SENT).filter(channel=channel).exists()


def test_wecom_paced_to_twenty_a_minute(receiver: Receiver, worker: InlineWorker, db: None) -> None:
    channel = _channel("wecom", f"{receiver.url}/cgi-bin/webhook/send?key=K")
    with time_machine.travel(timezone.now(), tick=True) as clock:
        for _ in range(23):
            channel_test(channel=channel)
        worker.run()
        worker.run()
        assert len(receiver.requests) == 20
        waiting = Delivery.objects.filter(channel=channel, state=Delivery.State.PENDING)
        assert waiting.count() == 3
        first = DeliveryAttempt.objects.filter(channel=channel).earliest("started_at").started_at
        assert all(d.next_attempt_at >= first + timedelta(seconds=60) for d in waiting)
        clock.shift(timedelta(seconds=61))
        worker.run()
    assert len(receiver.requests) == 23
    assert len({r.body for r in receiver.requests}) == 1  # the same test message each time


def test_a_follow_up_is_announced_only_where_its_area_and_the_owners_role_match(
    receiver: Receiver, warden: User, warden_jy: User, station_xnb: User, worker: InlineWorker, settings: Any,
) -> None:
    wardens_group = _channel("webhook", f"{receiver.url}/donghe-wardens", roles=("warden",))
    station_group = _channel("webhook", f"{receiver.url}/station-group", roles=("commander",), area=BAOLI)
    _channel("webhook", f"{receiver.url}/fugui-only", roles=("warden",), area=FUGUI_1)
    settings.LOUZHANG_ESCALATE_AFTER_MINUTES = [60]
    # the demo city's own open follow-ups (a tip waiting for the warden …) would be reminded too
    FollowUp.objects.filter(state__in=ACTIVE_STATES).update(state=State.CANCELLED, closed_at=timezone.now())
    # at nine in the morning (local): the two hours below cross no check-in deadline of the demo's
    # home observations, whose missed check-ins would be announced to the wardens too
    morning = timezone.localtime().replace(hour=9, minute=0, second=0, microsecond=0)
    with time_machine.travel(morning, tick=True) as clock:
        _fever()
        worker.run()
        assert [r.path for r in receiver.requests] == ["/donghe-wardens"]
        clock.shift(timedelta(hours=2, minutes=5))
        followups_escalate()
        worker.run()
    paths = [r.path for r in receiver.requests]
    # the reminder to the warden, then the escalation to the station commander
    assert paths.count("/donghe-wardens") == 2 and paths.count("/station-group") == 1
    assert "/fugui-only" not in paths
    assert Delivery.objects.filter(channel=wardens_group).count() == 2
    assert Delivery.objects.filter(channel=station_group).count() == 1


def test_channel_add_refuses_what_would_never_work(db: None) -> None:
    with pytest.raises(ChannelError, match="unknown channel kind"):
        channel_add(name="x", kind="wechat", url="https://a/b", area_code=DONGHE, actor=None)
    with pytest.raises(ChannelError, match="http"):
        channel_add(name="x", kind="wecom", url="ftp://a/b", area_code=DONGHE, actor=None)
    with pytest.raises(ChannelError, match="unknown area"):
        channel_add(name="x", kind="wecom", url="https://a/b", area_code="999999", actor=None)
    with pytest.raises(ChannelError, match="signing secret"):
        channel_add(name="x", kind="dingtalk", url="https://a/b?access_token=t", area_code=DONGHE, actor=None)
    with pytest.raises(ChannelError, match="unknown role"):
        channel_add(name="x", kind="wecom", url="https://a/b", area_code=DONGHE, roles=["boss"], actor=None)
    with pytest.raises(ChannelError, match="format"):
        channel_add(name="x", kind="wecom", url="https://a/b", area_code=DONGHE, options={"format": "html"}, actor=None)


def test_channels_page_is_for_commanders_of_the_area(commander: User, warden: User, warden_jy: User) -> None:
    assert web_client(warden).get("/channels/").status_code == 404
    client = web_client(commander)
    response = client.post("/channels/", {"name": "东河区楼长工作群", "kind": "wecom",
                                          "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=SECRETKEY",
                                          "area": DONGHE, "roles": ["warden"]})
    assert response.status_code == 302
    page = client.get("/channels/").content.decode()
    assert "东河区楼长工作群" in page and "SECRETKEY" not in page
    channel = Channel.objects.get(name="东河区楼长工作群")
    assert channel.roles == ["warden"] and channel.area.code == DONGHE


def test_a_residents_group_never_gets_staff_work(receiver: Receiver, warden: User, worker: InlineWorker) -> None:
    residents = _channel("webhook", f"{receiver.url}/baoli-residents", roles=("resident",), area=BAOLI)
    staff = channel_add(name="东河区全体", kind="webhook", url=f"{receiver.url}/all-staff", area_code=DONGHE, actor=None)
    _fever()
    worker.run()
    assert [r.path for r in receiver.requests] == ["/all-staff"]
    assert not Delivery.objects.filter(channel=residents).exists()
    assert staff.roles == []
    with pytest.raises(ChannelError, match="residents only"):
        channel_add(name="mixed", kind="webhook", url=f"{receiver.url}/x", area_code=BAOLI,
                    roles=["resident", "warden"], actor=None)


def test_a_channel_switched_off_sends_nothing_more(receiver: Receiver, warden: User, commander: User, worker: InlineWorker) -> None:
    channel = _channel("webhook", f"{receiver.url}/leaked")
    _fever()
    client = web_client(commander)
    assert client.post(f"/channels/{channel.pk}/toggle", {"active": "off"}).status_code == 302
    worker.run()
    assert receiver.requests == []
    delivery = Delivery.objects.get(channel=channel)
    assert delivery.state == Delivery.State.DEAD and delivery.last_error == "channel switched off"
    _fever("another")
    assert Delivery.objects.filter(channel=channel).count() == 1  # none queued on a channel that is off
    assert web_client(warden).post(f"/channels/{channel.pk}/toggle", {"active": "on"}).status_code == 404


def test_wecom_too_long_is_sent_again_shorter_not_as_it_was(receiver: Receiver, worker: InlineWorker, db: None) -> None:
    receiver.script = [(200, {"errcode": 40058, "errmsg": "content exceed max length"}), OK_WECOM]
    channel = _channel("wecom", f"{receiver.url}/cgi-bin/webhook/send?key=K")
    delivery = channel_test(channel=channel)
    Delivery.objects.filter(pk=delivery.pk).update(message={"title": "通知", "text": "长" * 1500, "link": ""})
    worker.run()
    first, second = (len(r.json()["text"]["content"].encode()) for r in receiver.wait_for(2))
    assert first > 2000 and second <= 1024
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.SENT


def test_feishu_paced_to_five_a_second(receiver: Receiver, worker: InlineWorker, db: None) -> None:
    receiver.script = [(200, {"code": 0, "msg": "success"})]
    channel = _channel("feishu", f"{receiver.url}/open-apis/bot/v2/hook/X", secret="s")
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for _ in range(7):
            channel_test(channel=channel)
        worker.run()
        assert len(receiver.requests) == 5  # the clock stands still: a sixth would break 5/s
        clock.shift(timedelta(seconds=2.5))  # past the pace and the next outbox sweep
        worker.run()
    assert len(receiver.requests) == 7


def test_every_channel_kind_has_a_transport() -> None:
    from louzhang.notifications.models import ChannelKind
    from louzhang.notifications.transports import TRANSPORTS

    assert set(TRANSPORTS) == set(ChannelKind.values)
