"""Tips from residents (线索), as the seed tells it: a resident reports a car with Wuhan plates
under building 34 of 保利百合; the warden sees the registry's answer before walking, closes the
tip as unfounded and tells the residents; the reporter reads the outcome by the tracking code.
And what a hostile public does to a form with no log-in."""

from __future__ import annotations

import io
import re
import time
from typing import Any

import pytest
from django.core import signing
from django.test import Client
from django.utils import translation
from PIL import Image

from louzhang.accounts.models import User
from louzhang.areas.models import Area
from louzhang.audit.models import AuditEvent
from louzhang.core.images import image_open
from louzhang.followups.models import FollowUp, State
from louzhang.followups.services import FollowUpError, followup_close
from louzhang.notices.models import Notice
from louzhang.notifications.models import Delivery
from louzhang.notifications.services import channel_add
from louzhang.tips import forms as tip_forms
from louzhang.tips.models import Category, Source, Status, Tip
from louzhang.tips.services import TipError, TipIn, tip_close, tip_receive
from tests.conftest import BAOLI, BAOLI_34, FUGUI, web_client
from tests.receiver import Receiver

pytestmark = pytest.mark.django_db

BUICK = "34号楼下停了一辆鄂A牌照的灰色别克，是不是武汉来的？"


def _stamp(seconds_ago: int = 30) -> str:
    return signing.dumps(int(time.time()) - seconds_ago, salt=tip_forms._SALT)


def _public_post(client: Client, code: str = BAOLI_34, **fields: Any) -> Any:
    data = {"category": "vehicle", "place": "34号楼下停车位", "content": BUICK, "plate": "鄂a 5k2b8",
            "contact_phone": "", "website": "", "stamp": _stamp()}
    address = fields.pop("address", "10.1.2.3")
    data.update(fields)
    return client.post(f"/p/{code}/tip/", data, REMOTE_ADDR=address)


def _tip_of(response: Any) -> Tip:
    assert response.status_code == 302, response.content.decode()[:2000]
    code = re.search(r"/p/t/([A-Z0-9]+)/", response["Location"]).group(1)
    return Tip.objects.get(tracking_code=code)


def _followup(tip: Tip) -> FollowUp:
    return FollowUp.objects.get(rule="tip", subject_type="tip", subject_id=str(tip.pk))


# --- the seed's story ----------------------------------------------------------------------


def test_a_resident_reports_the_wuhan_car_and_reads_the_outcome(warden: User) -> None:
    resident = Client()
    response = _public_post(resident)
    tip = _tip_of(response)
    assert (tip.area.code, tip.category, tip.plate, tip.source) == (BAOLI_34, "vehicle", "鄂A5K2B8", "web")
    followup = _followup(tip)
    assert followup.owner == warden and followup.state == State.OPEN and followup.priority == 2
    assert "鄂A5K2B8" in followup.summary

    tracking = resident.get(response["Location"], follow=False)
    page = tracking.content.decode()
    assert tracking.status_code == 200 and f"{tip.tracking_code[:4]}-{tip.tracking_code[4:]}" in page
    assert 'data-status="new"' in page and "已收到" in page  # Chinese, whatever the phone says

    officer = web_client(warden)
    detail = officer.get(f"/tips/{tip.pk}/").content.decode()
    assert "data-registry-answer" in detail and "湖北省" in detail and "武汉市" in detail
    assert "各卡口无出市记录" in detail  # what the registry shows, before anyone walks

    officer.post(f"/tips/{tip.pk}/verify")
    assert Tip.objects.get(pk=tip.pk).status == Status.VERIFYING
    assert 'data-status="verifying"' in resident.get(response["Location"]).content.decode()

    outcome = "经查，车主系本小区常住居民，2018年起在本小区登记，各卡口无出市记录。请大家放心。"
    closed = officer.post(f"/tips/{tip.pk}/close", {"status": "unfounded", "outcome": outcome,
                                                   "publish": "on", "notice_title": "关于34号楼下鄂A车辆"})
    assert closed.status_code == 302
    tip.refresh_from_db()
    assert tip.status == Status.UNFOUNDED and tip.outcome == outcome and tip.notice is not None
    assert tip.notice.state == Notice.State.PUBLISHED and tip.notice.area.code == BAOLI
    followup.refresh_from_db()
    assert followup.state == State.DONE and outcome in followup.finding

    shown = resident.get(response["Location"]).content.decode()
    assert outcome in shown and 'data-status="unfounded"' in shown
    assert "关于34号楼下鄂A车辆" in resident.get(f"/p/{BAOLI}/").content.decode()

    again = officer.post(f"/tips/{tip.pk}/close", {"status": "confirmed", "outcome": "再关一次"})
    assert again.status_code == 422 and Tip.objects.get(pk=tip.pk).outcome == outcome


def test_the_compounds_residents_group_gets_the_published_outcome_and_the_staff_group_does_not(
    warden: User, receiver: Receiver, worker: Any,
) -> None:
    receiver.script = [(204, {})]
    channel_add(name="保利百合业主群", kind="webhook", url=f"{receiver.url}/residents", area_code=BAOLI,
                roles=["resident"], actor=None)
    channel_add(name="东河区楼长工作群", kind="webhook", url=f"{receiver.url}/wardens", area_code="150202",
                roles=["warden"], actor=None)
    tip = tip_receive(TipIn(area=Area.objects.get(code=BAOLI_34), content=BUICK, category=Category.VEHICLE,
                            plate="鄂A5K2B8", contact_phone="13912345678"), source=Source.WEB).tip
    worker.run()
    staff = [r for r in receiver.requests if r.path == "/wardens"]
    assert len(staff) == 1 and "鄂A5K2B8" in staff[0].body.decode()  # the wardens' group: the new tip
    assert "13912345678" not in staff[0].body.decode()
    receiver.requests.clear()
    tip_close(tip=tip, actor=warden, status=Status.UNFOUNDED, outcome="车主系本小区常住居民，请放心。", publish=True)
    worker.run()
    assert [r.path for r in receiver.requests] == ["/residents"]
    assert "车主系本小区常住居民" in receiver.requests[0].body.decode()
    assert Delivery.objects.filter(about=f"notice:{tip.notice_id}", state="sent").count() == 1


# --- who sees what -------------------------------------------------------------------------


def test_the_reporters_phone_is_seen_only_by_the_owner_of_the_tips_follow_up(
    warden: User, commander: User,
) -> None:
    tip = _tip_of(_public_post(Client(), contact_phone="139 1234 5678"))
    assert tip.contact_phone == "13912345678"
    mine = web_client(warden).get(f"/tips/{tip.pk}/").content.decode()
    assert "13912345678" in mine
    assert AuditEvent.objects.filter(object_type="tips.tip", object_id=str(tip.pk), actor=warden).exists()
    theirs = web_client(commander).get(f"/tips/{tip.pk}/").content.decode()
    assert "13912345678" not in theirs and "139****5678" in theirs
    tracked = Client().get(f"/p/t/{tip.tracking_code}/").content.decode()
    assert "5678" not in tracked and "34号楼下停车位" not in tracked  # nothing personal for the code holder


def test_a_warden_of_another_district_can_neither_see_nor_close_the_tip(warden_jy: User) -> None:
    tip = _tip_of(_public_post(Client()))
    other = web_client(warden_jy)
    assert other.get(f"/tips/{tip.pk}/").status_code == 404
    assert other.post(f"/tips/{tip.pk}/verify").status_code == 404
    assert other.post(f"/tips/{tip.pk}/close", {"status": "unfounded", "outcome": "x"}).status_code == 404
    assert other.get(f"/tips/{tip.pk}/photo.jpg").status_code == 404
    assert tip.tracking_code not in other.get("/tips/?show=all").content.decode()
    assert Tip.objects.get(pk=tip.pk).status == Status.NEW


def test_a_tip_about_the_whole_compound_goes_to_its_lead_warden(warden: User) -> None:
    tip = _tip_of(_public_post(Client(), code=BAOLI, building="", category="gathering",
                               content="小区广场每天晚上有二三十人跳广场舞", plate=""))
    assert tip.area.code == BAOLI and _followup(tip).owner == warden  # 郝志东 leads 保利百合


def test_a_building_typed_on_the_compound_form_finds_the_building(warden: User) -> None:
    tip = _tip_of(_public_post(Client(), code=BAOLI, building="34号楼"))
    assert tip.area.code == BAOLI_34
    unknown = _tip_of(_public_post(Client(), code=BAOLI, building="99", place="车库"))
    assert unknown.area.code == BAOLI and unknown.place == "99 车库"


def test_the_follow_up_of_a_tip_closes_only_with_the_tip(warden: User) -> None:
    tip = _tip_of(_public_post(Client()))
    followup = _followup(tip)
    with pytest.raises(FollowUpError):
        followup_close(followup=followup, actor=warden, done=True, finding="done")
    page = web_client(warden).get(f"/followups/{followup.pk}/").content.decode()
    assert f'href="/tips/{tip.pk}/"' in page and f"/followups/{followup.pk}/close" not in page


def test_an_officer_enters_a_tip_taken_by_phone(warden: User, warden_jy: User) -> None:
    officer = web_client(warden)
    form = officer.get("/tips/new/").content.decode()
    assert BAOLI_34 in form and FUGUI not in form
    response = officer.post("/tips/new/", {"area": BAOLI_34, "source": "phone", "category": "returnee",
                                           "content": "邻居说34号楼三单元有人从武汉回来", "place": "",
                                           "plate": "", "contact_phone": ""})
    assert response.status_code == 302
    tip = Tip.objects.get(content="邻居说34号楼三单元有人从武汉回来")
    assert tip.source == Source.PHONE and tip.entered_by == warden and _followup(tip).owner == warden
    outsider = web_client(warden_jy).post("/tips/new/", {"area": BAOLI_34, "source": "phone", "category": "other",
                                                         "content": "越权录入"})
    assert outsider.status_code == 422 and not Tip.objects.filter(content="越权录入").exists()


# --- the API ---------------------------------------------------------------------------------


def test_the_api_takes_a_tip_without_a_token_and_answers_with_nothing_personal(warden: User) -> None:
    client = Client()
    response = client.post("/api/v1/tips", {"content": BUICK, "compound": BAOLI, "building": "34",
                                            "category": "vehicle", "plate": "鄂A·5K2B8",
                                            "contact_phone": "13912345678"},
                           content_type="application/json", REMOTE_ADDR="10.9.9.9")
    assert response.status_code == 202, response.content
    code = response.json()["tracking_code"]
    tip = Tip.objects.get(tracking_code=code)
    assert tip.area.code == BAOLI_34 and tip.source == Source.API and tip.plate == "鄂A5K2B8"
    body = client.get(f"/api/v1/tips/{code.lower()}").json()
    assert body["status"] == "new" and body["outcome"] == ""
    assert "13912345678" not in str(body) and "contact_phone" not in body
    tip_close(tip=tip, actor=warden, status=Status.UNFOUNDED, outcome="本小区居民车辆")
    closed = client.get(f"/api/v1/tips/{code}").json()
    assert (closed["status"], closed["outcome"], closed["category"]) == ("unfounded", "本小区居民车辆", "vehicle")
    assert closed["closed_at"] is not None
    assert client.get("/api/v1/tips/ZZZZZZZZ").status_code == 404


@pytest.mark.parametrize(("body", "loc"), [
    ({"content": "x", "compound": "000"}, ["body", "compound"]),
    ({"content": "\u200b \u200b", "compound": BAOLI}, ["body", "content"]),
    ({"content": "车", "compound": BAOLI, "plate": "ABC"}, ["body", "plate"]),
    ({"content": "车", "compound": BAOLI, "contact_phone": "12345"}, ["body", "contact_phone"]),
    ({"content": "车", "compound": BAOLI, "category": "spam"}, ["body", "category"]),
])
def test_the_api_says_which_field_of_a_bad_tip_is_wrong(body: dict[str, str], loc: list[str]) -> None:
    response = Client().post("/api/v1/tips", body, content_type="application/json")
    assert response.status_code == 422 and response["Content-Type"] == "application/problem+json"
    assert loc in [e["loc"] for e in response.json()["errors"]]
    assert not Tip.objects.filter(content__in=["x", "车"]).exists()


def test_a_burst_of_tips_from_one_address_is_limited_with_a_clear_answer() -> None:
    client = Client()
    answers = [client.post("/api/v1/tips", {"content": f"第{i}条", "compound": BAOLI},
                           content_type="application/json", REMOTE_ADDR="10.7.7.7").status_code
               for i in range(7)]
    assert answers[:5] == [202] * 5 and answers[5:] == [429, 429]
    limited = client.post("/api/v1/tips", {"content": "再来", "compound": BAOLI},
                          content_type="application/json", REMOTE_ADDR="10.7.7.7")
    assert int(limited["Retry-After"]) > 0 and limited.json()["status"] == 429
    page = _public_post(client, address="10.7.7.7")  # the web form shares the counter
    assert page.status_code == 429 and int(page["Retry-After"]) > 0
    assert "分钟后" in page.content.decode() and BUICK in page.content.decode()  # kept, to send later
    assert _public_post(client, address="10.7.7.8").status_code == 302  # a neighbour is not blocked
    assert Tip.objects.filter(content__startswith="第").count() == 5


# --- a hostile public ----------------------------------------------------------------------


def test_robots_are_turned_away_and_nothing_is_stored() -> None:
    client = Client()
    before = Tip.objects.count()
    filled = _public_post(client, website="http://spam.example")  # the field people never see
    hurried = _public_post(client, stamp=_stamp(seconds_ago=0))  # faster than anybody types
    forged = _public_post(client, stamp="1700000000:forged")
    for response in (filled, hurried, forged):
        assert response.status_code == 422 and "请核对" in response.content.decode()
    assert Tip.objects.count() == before
    assert BUICK in hurried.content.decode()  # what a hurried person typed is kept


def test_script_in_a_tip_stays_text_everywhere(warden: User, receiver: Receiver, worker: Any) -> None:
    receiver.script = [(204, {})]
    channel_add(name="东河区楼长工作群", kind="webhook", url=f"{receiver.url}/wardens", area_code="150202",
                roles=["warden"], actor=None)
    payload = '<script>alert(1)</script><img src=x onerror=alert(2)>'
    tip = _tip_of(_public_post(Client(), content=f"车 {payload}", place="<b>车库</b>"))
    detail = web_client(warden).get(f"/tips/{tip.pk}/").content.decode()
    assert "<script>alert(1)" not in detail and "&lt;script&gt;alert(1)&lt;/script&gt;" in detail
    followup_page = web_client(warden).get(f"/followups/{_followup(tip).pk}/").content.decode()
    assert "<script>alert(1)" not in followup_page and "<img src=x" not in followup_page
    listing = web_client(warden).get("/tips/").content.decode()
    assert "<img src=x" not in listing
    tip_close(tip=tip, actor=warden, status=Status.UNFOUNDED, outcome=f"结果 {payload}", publish=True)
    public = Client().get(f"/p/t/{tip.tracking_code}/").content.decode()
    assert "<script>alert(1)" not in public and "&lt;script&gt;" in public
    assert "<img src=x" not in Client().get(f"/p/{BAOLI}/").content.decode()
    worker.run()
    sent = [r.json() for r in receiver.requests if r.path == "/wardens"]
    assert sent and payload in str(sent[0])  # a JSON string, data to the receiver, never markup we render


def _jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (1200, 900), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (40.0, 39.0, 0.0), 3: "E", 4: (109.0, 50.0, 0.0)}  # GPS
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def test_a_photo_loses_its_location_and_is_shown_only_to_officers(warden: User) -> None:
    original = _jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)
    photo = io.BytesIO(original)
    photo.name = "car.jpg"
    tip = _tip_of(_public_post(Client(), photo=photo))
    assert tip.photo
    with image_open(tip.photo) as kept:
        stored = Image.open(io.BytesIO(kept.read()))
        assert not stored.getexif() and not stored.info.get("exif") and stored.format == "JPEG"
    assert Client().get(f"/tips/{tip.pk}/photo.jpg").status_code == 302  # to the log-in page
    served = web_client(warden).get(f"/tips/{tip.pk}/photo.jpg")
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"


def test_a_file_that_is_not_a_picture_is_refused_and_nothing_is_stored() -> None:
    fake = io.BytesIO(b"MZ\x90\x00 not a picture at all")
    fake.name = "photo.jpg"
    before = Tip.objects.count()
    response = _public_post(Client(), photo=fake)
    assert response.status_code == 422 and "图片" in response.content.decode()
    assert Tip.objects.count() == before


def test_public_pages_are_chinese_unlisted_and_never_cached() -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    form = client.get(f"/p/{BAOLI_34}/tip/")
    assert form.status_code == 200 and "反映情况" in form.content.decode()
    assert form["X-Robots-Tag"].startswith("noindex") and "no-cache" in form["Cache-Control"]
    for page in (form, client.get(f"/p/{BAOLI_34}/"), client.get("/p/t/")):
        html = page.content.decode()
        # one small request on a poor connection: no script, no stylesheet or picture from anywhere
        assert len(page.content) < 16_000, len(page.content)
        assert "<script" not in html and 'rel="stylesheet"' not in html and "http://" not in html
    assert client.get("/p/t/").status_code == 200
    assert client.get(f"/p/{BAOLI}-34-1-0302/tip/").status_code == 404  # a household is no public place
    assert client.get("/p/150202/tip/").status_code == 404


def test_a_tracking_code_is_found_however_it_is_typed_and_guessing_is_slowed() -> None:
    tip = _tip_of(_public_post(Client()))
    client = Client()
    typed = f"{tip.tracking_code[:4].lower()} - {tip.tracking_code[4:].lower()}"
    assert client.get("/p/t/", {"code": typed})["Location"] == f"/p/t/{tip.tracking_code}/"
    with translation.override("zh-hans"):
        missing = client.get("/p/t/", {"code": "ABCD-EFGH"}, REMOTE_ADDR="10.5.5.5")
    assert missing.status_code == 404 and "没有" in missing.content.decode()
    answers = [client.get(f"/p/t/ZZZZ{i:04d}/", REMOTE_ADDR="10.5.5.6").status_code for i in range(31)]
    assert answers[-1] == 429 and set(answers[:30]) == {404}


def test_a_tip_needs_words_and_a_compound() -> None:
    area = Area.objects.get(code=BAOLI)
    with pytest.raises(TipError) as blank:
        tip_receive(TipIn(area=area, content=" \u200b\u200d "), source=Source.WEB)
    assert blank.value.field == "content"
    with pytest.raises(TipError) as district:
        tip_receive(TipIn(area=Area.objects.get(code="150202"), content="有人聚集"), source=Source.WEB)
    assert district.value.field == "compound"


def test_the_tips_spreadsheet_keeps_formulas_as_text_and_masks_the_reporter(warden: User, warden_jy: User) -> None:
    from openpyxl import load_workbook

    hostile = ['=HYPERLINK("http://evil.example","点我")', "=cmd|' /C calc'!A0", "@SUM(1+1)"]
    tip = _tip_of(_public_post(Client(), content=hostile[0], place=hostile[1], plate="",
                               contact_phone="13912345678", address="10.3.3.3"))
    tip_close(tip=tip, actor=warden, status=Status.REFERRED, outcome=hostile[2])
    response = web_client(warden).get("/tips/export.xlsx?show=all")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    header = [c.value for c in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == tip.tracking_code)
    cells = {header[i]: c for i, c in enumerate(row)}
    for name, text in (("反映内容", hostile[0]), ("具体位置", hostile[1]), ("处理结果", hostile[2])):
        assert cells[name].value == text and cells[name].data_type == "s"  # text, never a formula
    assert cells["反映人电话"].value == "139****5678"
    assert AuditEvent.objects.filter(actor=warden, action="export", object_type="tips.tip").exists()
    theirs = load_workbook(io.BytesIO(web_client(warden_jy).get("/tips/export.xlsx?show=all").content)).active
    assert tip.tracking_code not in [r[0].value for r in theirs.iter_rows(min_row=2)]


