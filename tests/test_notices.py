"""Notices (通知、宣传、辟谣) as officers write them: a warden's notice for 保利百合 reaching the
compound's residents' group chats and no other, a district notice waiting for a second
commander, the delivery report, the text to paste into personal WeChat groups, withdrawing,
and the jurisdiction around all of it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext

from louzhang.accounts.models import User
from louzhang.accounts.services import user_create
from louzhang.areas.models import Area
from louzhang.audit.models import AuditEvent
from louzhang.notices.models import Notice
from louzhang.notices.services import NoticeError, notice_decide, notice_publish, notice_withdraw
from louzhang.notifications.models import Channel, Delivery, Notification
from louzhang.notifications.services import broadcast, channel_add
from tests.conftest import (
    BAOLI,
    BAOLI_1,
    BAOLI_34,
    BAOLI_34_2_6W,
    BAOTOU,
    DONGHE,
    FUGUI,
    InlineWorker,
    web_client,
)
from tests.receiver import Receiver


def _area(code: str) -> Area:
    return Area.objects.get(code=code)


def _channel(receiver: Receiver, name: str, area: str, *, roles: tuple[str, ...] = ("resident",),
             kind: str = "wecom") -> Channel:
    url = f"{receiver.url}/sms/{name}" if kind == "sms" else f"{receiver.url}/cgi-bin/webhook/send?key={name}"
    return channel_add(name=name, kind=kind, url=url, area_code=area, roles=roles, actor=None)


def _keys(receiver: Receiver) -> list[str]:
    """The channels that received something, by their robot key (SMS by path)."""
    return sorted(r.query["key"][0] if "key" in r.query else r.path for r in receiver.requests)


def _zh(msgid: str) -> str:
    with translation.override("zh-hans"):
        return gettext(msgid)


def _publish(actor: User, code: str, title: str = "出门戴口罩、不聚餐不串门", body: str = "出门戴口罩。",
             kind: str = Notice.Kind.PUBLICITY) -> Notice:
    return notice_publish(actor=actor, area=_area(code), kind=kind, title=title, body=body)


# --- a warden's notice for their compound ----------------------------------------------------------


def test_a_wardens_notice_for_baoli_reaches_its_residents_groups_and_no_staff_or_other_group(
    receiver: Receiver, warden: User, worker: InlineWorker,
) -> None:
    _channel(receiver, "baoli-residents", BAOLI)
    _channel(receiver, "baoli-34-residents", BAOLI_34)  # a building's group, inside the compound
    _channel(receiver, "baoli-wardens", BAOLI, roles=("warden",))  # staff work only
    _channel(receiver, "donghe-residents", DONGHE)  # above the compound: not its residents
    _channel(receiver, "fugui-residents", FUGUI)
    _channel(receiver, "baoli-sms", BAOLI, kind="sms")  # notices are not texted to residents
    client = web_client(warden)
    response = client.post("/notices/new/", {"area": BAOLI, "kind": "publicity",
                                             "title": "出门戴口罩、不聚餐不串门",
                                             "body": "出门请戴口罩。\n不聚餐、不串门。"})
    notice = Notice.objects.get(title="出门戴口罩、不聚餐不串门", author=warden)
    assert response.status_code == 302 and response["Location"] == f"/notices/{notice.pk}/"
    assert notice.state == Notice.State.PUBLISHED and notice.area.code == BAOLI
    assert notice.published_at is not None

    worker.run()
    assert _keys(receiver) == ["baoli-34-residents", "baoli-residents"]
    link = f"http://localhost:8000/p/{BAOLI}/notices/{notice.pk}/"
    for request in receiver.requests:
        body = request.json()
        assert body == {"msgtype": "text", "text": {
            "content": f"出门戴口罩、不聚餐不串门\n出门请戴口罩。\n不聚餐、不串门。\n{link}"}}
    assert AuditEvent.objects.filter(object_type="notices.notice", object_id=str(notice.pk),
                                     action="create", actor=warden).count() == 1

    html = client.get(f"/notices/{notice.pk}/").content.decode()
    report = re.findall(r'<tr data-delivery="\d+" data-state="(\w+)"><td>([^<]+)</td>', html)
    assert sorted(report) == [("sent", "baoli-34-residents"), ("sent", "baoli-residents")]
    assert "baoli-wardens" not in html and "fugui-residents" not in html


def test_the_notice_page_gives_the_text_to_paste_and_a_qr_code_for_wechat_groups(warden: User) -> None:
    notice = _publish(warden, BAOLI, title="关于快递的通知", body="快递放在东门外，\n请自取。")
    html = web_client(warden).get(f"/notices/{notice.pk}/").content.decode()
    link = f"http://localhost:8000/p/{BAOLI}/notices/{notice.pk}/"
    [text] = re.findall(r'<textarea id="share-1" readonly rows="8">(.*?)</textarea>', html, re.S)
    assert text == f"【关于快递的通知】\n快递放在东门外，\n请自取。\n{link}"
    share = html[html.index(f'data-share="{BAOLI}"'):]
    assert 'data-copy="share-1"' in share and "<svg" in share and "copy.js" in html


def test_a_warden_picks_among_their_compounds_and_buildings_only(warden: User) -> None:
    html = web_client(warden).get("/notices/new/").content.decode()
    options = set(re.findall(r'<option value="([^"]+)"', html))
    assert {BAOLI, BAOLI_34, f"{BAOLI}-7"} <= options
    assert FUGUI not in options and BAOLI_1 not in options and DONGHE not in options


def test_a_failed_notice_comes_back_with_what_was_typed(warden: User) -> None:
    response = web_client(warden).post("/notices/new/", {"area": BAOLI, "kind": "rumour", "title": "",
                                                        "body": "网传的消息不实。"})
    assert response.status_code == 422
    html = response.content.decode()
    assert "网传的消息不实。</textarea>" in html
    assert re.search(r'value="rumour"[^>]*checked', html)
    assert _zh("Write a title.") in html
    assert not Notice.objects.filter(body="网传的消息不实。").exists()


# --- jurisdiction ---------------------------------------------------------------------------------


def test_a_warden_cannot_publish_outside_their_compounds_and_is_not_told_what_exists(warden: User) -> None:
    client = web_client(warden)
    answers = []
    for code in (FUGUI, DONGHE, BAOLI_1, BAOLI_34_2_6W, "NO-SUCH-AREA"):
        response = client.post("/notices/new/", {"area": code, "kind": "publicity", "title": "越界",
                                                 "body": "不应发布"})
        assert response.status_code == 422
        [error] = re.findall(r'<ul class="errorlist"[^>]*><li>(.*?)</li>', response.content.decode())
        answers.append(error)
    assert len(set(answers)) == 1  # the same words for a foreign area and a missing one
    assert not Notice.objects.filter(title="越界").exists()
    for code in (FUGUI, BAOLI_1, DONGHE):
        with pytest.raises(PermissionDenied):
            _publish(warden, code)
    assert Notice.objects.filter(author=warden).count() == Notice.objects.filter(
        author=warden, area__code__startswith=BAOLI).count()


def test_a_notice_of_another_district_is_not_found_for_a_warden(warden: User, warden_jy: User) -> None:
    notice = _publish(warden, BAOLI)
    other = web_client(warden_jy)
    missing = Notice.objects.order_by("-pk").first().pk + 1000  # type: ignore[union-attr]
    for path in (f"/notices/{notice.pk}/", f"/notices/{missing}/"):
        assert other.get(path).status_code == 404
    assert other.post(f"/notices/{notice.pk}/withdraw").status_code == 404
    assert str(notice.pk) not in re.findall(r'data-notice="(\d+)"', other.get("/notices/").content.decode())
    assert Notice.objects.get(pk=notice.pk).state == Notice.State.PUBLISHED


def test_the_notices_pages_are_for_wardens_and_commanders(gate: User, health: User, warden: User) -> None:
    for user in (gate, health):
        client = web_client(user)
        assert client.get("/notices/").status_code == 404
        assert client.get("/notices/new/").status_code == 404
        assert client.get("/me/card/").status_code == 404
        assert 'href="/notices/"' not in client.get("/").content.decode()
    html = web_client(warden).get("/").content.decode()
    assert 'href="/notices/"' in html and 'href="/me/card/"' in html


# --- a district notice: two commanders --------------------------------------------------------------


def test_a_district_notice_waits_for_a_second_commander_and_its_author_cannot_approve_it(
    receiver: Receiver, branch_dh: User, commander: User, station_xnb: User, warden: User,
    worker: InlineWorker,
) -> None:
    _channel(receiver, "baoli-residents", BAOLI)
    author = web_client(branch_dh)
    response = author.post("/notices/new/", {"area": DONGHE, "kind": "policy", "title": "东河区通告",
                                             "body": "即日起各小区实行封闭管理。"})
    notice = Notice.objects.get(title="东河区通告")
    assert response.status_code == 302 and notice.state == Notice.State.PENDING
    assert notice.published_at is None
    worker.run()
    assert receiver.requests == []
    assert "东河区通告" not in Client().get(f"/p/{BAOLI}/").content.decode()
    assert "东河区通告" not in web_client(warden).get("/notices/").content.decode()
    assert Notification.objects.filter(user=commander, about=f"notice:{notice.pk}").exists()

    # its author: no approval form, and an approval posted anyway is refused with the reason
    assert 'id="decide"' not in author.get(f"/notices/{notice.pk}/").content.decode()
    response = author.post(f"/notices/{notice.pk}/decide", {"decision": "approve"})
    assert response.status_code == 422
    assert _zh("You wrote this notice: another commander must approve it.") in response.content.decode()
    with pytest.raises(NoticeError):
        notice_decide(notice=notice, actor=branch_dh, approve=True)
    # a station commander does not command the district
    assert web_client(station_xnb).post(f"/notices/{notice.pk}/decide", {"decision": "approve"}).status_code == 404
    with pytest.raises(PermissionDenied):
        notice_decide(notice=notice, actor=station_xnb, approve=True)
    notice.refresh_from_db()
    assert notice.state == Notice.State.PENDING

    city = web_client(commander)
    listed = re.findall(r'data-notice="(\d+)"', city.get("/notices/").content.decode())
    assert listed[0] == str(notice.pk)  # waiting for the city commander: first
    assert 'id="decide"' in city.get(f"/notices/{notice.pk}/").content.decode()
    response = city.post(f"/notices/{notice.pk}/decide", {"decision": "approve", "note": "同意发布"})
    assert response.status_code == 302
    notice.refresh_from_db()
    assert notice.state == Notice.State.PUBLISHED and notice.decided_by == commander
    assert notice.decision_note == "同意发布" and notice.published_at is not None
    worker.run()
    assert _keys(receiver) == ["baoli-residents"]
    assert "即日起各小区实行封闭管理。" in receiver.requests[0].json()["text"]["content"]
    assert "东河区通告" in Client().get(f"/p/{BAOLI}/").content.decode()
    # the warden of 保利百合 gets the text for their compound's WeChat groups
    html = web_client(warden).get(f"/notices/{notice.pk}/").content.decode()
    assert f"http://localhost:8000/p/{BAOLI}/notices/{notice.pk}/" in html
    assert Notification.objects.filter(user=branch_dh, about=f"notice:{notice.pk}").exists()


def test_two_commanders_deciding_at_once_only_one_wins(receiver: Receiver, branch_dh: User,
                                                       commander: User, worker: InlineWorker) -> None:
    _channel(receiver, "baoli-residents", BAOLI)
    second = user_create(username="commander2", role="commander", area_codes=[BAOTOU])
    notice = _publish(branch_dh, DONGHE, title="东河区通告", kind=Notice.Kind.POLICY)
    seen_by_second = Notice.objects.get(pk=notice.pk)  # both opened the page while it waited
    assert notice_decide(notice=notice, actor=commander, approve=True)
    assert not notice_decide(notice=seen_by_second, actor=second, approve=False, note="不同意")
    notice.refresh_from_db()
    assert notice.state == Notice.State.PUBLISHED and notice.decided_by == commander
    assert notice.decision_note == ""
    assert Delivery.objects.filter(about=f"notice:{notice.pk}").count() == 1
    assert AuditEvent.objects.filter(object_type="notices.notice", object_id=str(notice.pk),
                                     action="change").count() == 1
    worker.run()
    assert len(receiver.requests) == 1


def test_a_refused_notice_is_never_published(branch_dh: User, commander: User) -> None:
    notice = _publish(branch_dh, DONGHE, title="待审通告")
    assert notice_decide(notice=notice, actor=commander, approve=False, note="措辞需修改")
    notice.refresh_from_db()
    assert notice.state == Notice.State.REJECTED and notice.published_at is None
    assert not notice_decide(notice=notice, actor=commander, approve=True)
    assert not Delivery.objects.filter(about=f"notice:{notice.pk}").exists()
    assert "待审通告" not in Client().get(f"/p/{BAOLI}/").content.decode()


def test_a_commander_publishes_at_once_below_the_district(station_xnb: User) -> None:
    notice = _publish(station_xnb, "150202001001", title="百合社区通知")  # 百合社区: a community
    assert notice.state == Notice.State.PUBLISHED


# --- withdrawing ---------------------------------------------------------------------------------------


def test_a_withdrawn_notice_leaves_the_public_pages(warden: User, warden_jy: User, station_xnb: User) -> None:
    notice = _publish(warden, BAOLI, title="停水通知")
    public = Client()
    assert "停水通知" in public.get(f"/p/{BAOLI}/").content.decode()
    with pytest.raises(PermissionDenied):
        notice_withdraw(notice=notice, actor=warden_jy)
    response = web_client(warden).post(f"/notices/{notice.pk}/withdraw")
    assert response.status_code == 302
    notice.refresh_from_db()
    assert notice.state == Notice.State.WITHDRAWN and notice.withdrawn_by == warden
    assert "停水通知" not in public.get(f"/p/{BAOLI}/").content.decode()
    assert public.get(f"/p/{BAOLI}/notices/{notice.pk}/").status_code == 404
    assert not notice_withdraw(notice=notice, actor=station_xnb)  # a commander too late: nothing changes


# --- the interface of the tips app --------------------------------------------------------------------


def test_a_tip_outcome_published_in_a_transaction_that_rolls_back_leaves_nothing(
    receiver: Receiver, warden: User, worker: InlineWorker,
) -> None:
    _channel(receiver, "baoli-residents", BAOLI)
    with pytest.raises(RuntimeError), transaction.atomic():
        notice_publish(actor=warden, area=_area(BAOLI), kind=Notice.Kind.TIP_OUTCOME,
                       title="关于34号楼下车辆的说明", body="经核查，车主是本小区常住居民。", about="tip:999")
        raise RuntimeError("the tip could not be closed")
    assert not Notice.objects.filter(about="tip:999").exists()
    assert not Delivery.objects.filter(message__title="关于34号楼下车辆的说明").exists()
    worker.run()
    assert receiver.requests == []

    notice = notice_publish(actor=warden, area=_area(BAOLI), kind=Notice.Kind.TIP_OUTCOME,
                            title="关于34号楼下车辆的说明", body="经核查，车主是本小区常住居民。", about="tip:999")
    assert notice.about == "tip:999" and notice.state == Notice.State.PUBLISHED
    worker.run()
    assert _keys(receiver) == ["baoli-residents"]


@pytest.mark.parametrize(("title", "body"), [("", "正文"), ("标题", ""), ("长" * 81, "正文"), ("标题", "长" * 2001)])
def test_a_notice_without_a_title_or_text_or_too_long_is_refused_in_words(warden: User, title: str, body: str) -> None:
    with pytest.raises(NoticeError) as refused:
        _publish(warden, BAOLI, title=title, body=body)
    assert str(refused.value)


def test_broadcast_reaches_active_residents_groups_inside_the_area_only(receiver: Receiver, db: Any) -> None:
    inside = _channel(receiver, "baoli-34-residents", BAOLI_34)
    off = _channel(receiver, "baoli-residents-off", BAOLI)
    Channel.objects.filter(pk=off.pk).update(is_active=False)
    _channel(receiver, "baoli-any-staff", BAOLI, roles=())
    _channel(receiver, "fugui-residents", FUGUI)
    deliveries = broadcast(area=_area(BAOLI), title="标题", text="联系 13812345678", link="/p/x/",
                           about="notice:0")
    assert [d.channel_id for d in deliveries] == [inside.pk]
    assert deliveries[0].message == {"title": "标题", "text": "联系 138****5678",
                                     "link": "http://localhost:8000/p/x/", "mentions": []}


def test_script_typed_in_a_notice_reaches_group_chats_as_plain_text(receiver: Receiver, warden: User,
                                                                    worker: InlineWorker) -> None:
    _channel(receiver, "baoli-residents", BAOLI)
    _publish(warden, BAOLI, title="<script>alert(1)</script>",
             body='<img src=x onerror="alert(2)"> 有事打 13812345678')
    worker.run()
    [request] = receiver.requests
    body: dict[str, Any] = request.json()
    assert body["msgtype"] == "text"  # a text message: nothing in it is markup
    content = body["text"]["content"]
    assert content.startswith("<script>alert(1)</script>\n<img src=x onerror=\"alert(2)\">")
    assert "13812345678" not in content and "138****5678" in content
