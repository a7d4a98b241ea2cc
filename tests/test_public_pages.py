"""The residents' side of notices and cards, as a resident's phone sees it: the public page of a
compound or a building (no log-in, Chinese, rate-limited per address), one notice, a warden's
card and photo (亮身份), and the stairwell poster an officer prints (楼长公示)."""

from __future__ import annotations

import re
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
import segno
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext
from PIL import ExifTags, Image

from louzhang.accounts.models import User
from louzhang.areas.models import Area
from louzhang.core.public import Rate
from louzhang.demo.notices import PUBLICITY_TITLE, RUMOUR_TITLE, demo_notices
from louzhang.notices import views
from louzhang.notices.models import Notice, WardenCard
from louzhang.notices.services import CardText, card_save, notice_decide, notice_publish
from tests.conftest import (
    BAOLI,
    BAOLI_1,
    BAOLI_34,
    BAOLI_34_2_6W,
    DONGHE,
    FUGUI,
    FUGUI_1,
    web_client,
)


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    """Pictures go to a folder of the test's own."""
    folder = tmp_path / "media"
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(folder)}}}
    return folder


def _zh(msgid: str) -> str:
    with translation.override("zh-hans"):
        return gettext(msgid)


def _publish(actor: User, code: str, title: str, body: str = "正文。") -> Notice:
    return notice_publish(actor=actor, area=Area.objects.get(code=code), kind=Notice.Kind.PUBLICITY,
                          title=title, body=body)


def _notices_on(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<article class="notice" data-notice="(\d+)"', html)]


def _photo_with_gps() -> bytes:
    """A phone photo that says where it was taken and with which camera."""
    image = Image.new("RGB", (900, 1200), (200, 30, 30))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "HUAWEI-P30"
    exif[ExifTags.Base.GPSInfo] = {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (40.0, 39.0, 12.5),
                                   ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (109.0, 50.0, 3.0)}
    out = BytesIO()
    image.save(out, "JPEG", exif=exif)
    data = out.getvalue()
    assert Image.open(BytesIO(data)).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the test means it
    return data


def _card(user: User, **fields: Any) -> WardenCard:
    published = fields.pop("published", True)
    return card_save(actor=user, published=published, text=CardText(**{"display_name": user.display_name, **fields}))


# --- the public page of a compound or a building -------------------------------------------------------


def test_the_public_page_shows_the_compounds_notices_newest_first_and_those_above_it(
    warden: User, warden_jy: User, branch_dh: User, commander: User,
) -> None:
    first = _publish(warden, BAOLI, "第一条：戴口罩")
    district = _publish(branch_dh, DONGHE, "东河区：封闭管理")
    notice_decide(notice=district, actor=commander, approve=True)
    latest = _publish(warden, BAOLI, "第三条：少出门")
    building = _publish(warden, BAOLI_34, "34号楼：电梯消毒")
    elsewhere = _publish(warden_jy, FUGUI, "富贵佳园：停水")
    html = Client().get(f"/p/{BAOLI}/").content.decode()
    shown = _notices_on(html)
    assert shown.index(latest.pk) < shown.index(district.pk) < shown.index(first.pk)
    assert building.pk not in shown and elsewhere.pk not in shown  # a building's notice is on its own page
    html = Client().get(f"/p/{BAOLI_34}/").content.decode()
    shown = _notices_on(html)
    assert shown.index(building.pk) < shown.index(latest.pk) < shown.index(district.pk) < shown.index(first.pk)
    assert elsewhere.pk not in shown
    assert "保利百合 · 34号楼" in html


def test_the_public_page_links_to_reporting_and_following_a_tip(db: Any) -> None:
    html = Client().get(f"/p/{BAOLI_34}/").content.decode()
    assert f'href="/p/{BAOLI_34}/tip/" data-action="report"' in html
    assert 'href="/p/t/" data-action="track"' in html


def test_the_public_page_is_chinese_unlisted_uncached_and_without_script(db: Any) -> None:
    response = Client(HTTP_ACCEPT_LANGUAGE="en").get(f"/p/{BAOLI}/")
    assert response.status_code == 200
    assert response["Content-Language"] == "zh-Hans" and response["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    html = response.content.decode()
    assert "<script" not in html and 'rel="stylesheet"' not in html
    assert "保利百合" in html and "民警楼长为您服务" in html  # in Chinese, whatever the phone asks


@pytest.mark.parametrize("code", [DONGHE, "150202001001", BAOLI_34_2_6W, "NO-SUCH-AREA"])
def test_only_a_compound_or_a_building_has_a_public_page(db: Any, code: str) -> None:
    response = Client().get(f"/p/{code}/")
    assert response.status_code == 404
    assert response["Content-Language"] == "zh-Hans"


def test_the_public_page_answers_429_after_a_burst_from_one_address(db: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(views, "PAGE_RATE", Rate(5, 60))
    phone = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(5):
        assert phone.get(f"/p/{BAOLI}/").status_code == 200
    response = phone.get(f"/p/{BAOLI_34}/")
    assert response.status_code == 429 and 0 < int(response["Retry-After"]) <= 2 * 60 + 1
    assert "请求过于频繁" in response.content.decode()
    assert Client(REMOTE_ADDR="203.0.113.8").get(f"/p/{BAOLI}/").status_code == 200


def test_the_public_page_reads_a_handful_of_rows(warden: User, django_assert_num_queries: Any) -> None:
    """The place, its wardens' grants and accounts, the lead warden, the cards, the notices."""
    _card(warden, badge_number="150342")
    for n in range(5):
        _publish(warden, BAOLI, f"通知{n}")
    for code in (BAOLI, BAOLI_34):
        with django_assert_num_queries(6):
            assert Client().get(f"/p/{code}/").status_code == 200


def test_html_typed_in_a_notice_is_inert_on_the_public_pages(warden: User) -> None:
    notice = _publish(warden, BAOLI, "<script>alert(1)</script>",
                      '<img src=x onerror="alert(2)">\n<a href="javascript:alert(3)">点我</a>\n第三行')
    for path in (f"/p/{BAOLI}/", f"/p/{BAOLI}/notices/{notice.pk}/"):
        html = Client().get(path).content.decode()
        assert "<script>alert" not in html and "<img src=x" not in html and '<a href="javascript' not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;\n&lt;a href" in html  # lines kept (pre-wrap)


def test_one_notice_is_on_the_page_of_each_compound_it_concerns_and_no_other(warden: User, warden_jy: User) -> None:
    notice = _publish(warden, BAOLI, "保利百合：门禁调整")
    assert "保利百合：门禁调整" in Client().get(f"/p/{BAOLI_34}/notices/{notice.pk}/").content.decode()
    assert Client().get(f"/p/{FUGUI}/notices/{notice.pk}/").status_code == 404
    assert Client().get(f"/p/{BAOLI}/notices/{notice.pk + 1000}/").status_code == 404


# --- wardens' cards ----------------------------------------------------------------------------------


def test_a_card_starts_from_the_account_and_shows_nothing_until_published(warden_jy: User) -> None:
    client = web_client(warden_jy)
    html = client.get("/me/card/").content.decode()
    assert re.search(rf'name="display_name"[^>]*value="{warden_jy.display_name}"', html)
    assert re.search(rf'name="duty_phone"[^>]*value="{warden_jy.phone}"', html)
    assert not WardenCard.objects.filter(user=warden_jy).exists()
    assert warden_jy.display_name not in Client().get(f"/p/{FUGUI}/").content.decode()

    response = client.post("/me/card/", {"display_name": "吕警官", "badge_number": "150388",
                                         "unit_name": "", "title": "", "duty_phone": "", "motto": ""})
    assert response.status_code == 302
    card = WardenCard.objects.get(user=warden_jy)
    assert not card.published
    assert "吕警官" not in Client().get(f"/p/{FUGUI}/").content.decode()

    client.post("/me/card/", {"display_name": "吕警官", "badge_number": "150388", "unit_name": "",
                              "title": "", "duty_phone": "", "motto": "", "published": "on"})
    html = Client().get(f"/p/{FUGUI_1}/").content.decode()
    section = html[html.index('id="wardens"'):html.index('id="notices"')]
    assert "吕警官" in section and "150388" in section
    fields = set(re.findall(r'data-field="(\w+)"', section))
    assert fields == {"display_name", "badge_number"}  # only what was filled in
    assert warden_jy.display_name not in html and warden_jy.phone not in html  # nothing from the account


def test_the_building_page_shows_its_own_warden_and_the_compound_page_all_of_them(warden: User) -> None:
    other = User.objects.filter(grants__area__code=BAOLI_1, grants__role="warden").first()
    assert other is not None and other != warden
    _card(warden, motto="有事请@我")
    _card(other, motto="一号楼楼长")
    compound = Client().get(f"/p/{BAOLI}/").content.decode()
    assert "有事请@我" in compound and "一号楼楼长" in compound
    assert compound.index("有事请@我") < compound.index("一号楼楼长")  # the lead warden first
    building = Client().get(f"/p/{BAOLI_34}/").content.decode()
    assert "有事请@我" in building and "一号楼楼长" not in building


def test_a_card_field_typed_with_html_is_inert(warden: User) -> None:
    _card(warden, motto='<b onclick="x()">加粗</b>')
    html = Client().get(f"/p/{BAOLI}/").content.decode()
    assert "<b onclick" not in html and "&lt;b onclick=&quot;x()&quot;&gt;加粗&lt;/b&gt;" in html


def test_a_card_photo_keeps_no_location_or_camera_data(warden_jy: User, media: Path) -> None:
    client = web_client(warden_jy)
    upload = SimpleUploadedFile("me.jpg", _photo_with_gps(), content_type="image/jpeg")
    response = client.post("/me/card/", {"display_name": "吕建平", "title": "社区民警", "badge_number": "",
                                         "unit_name": "", "duty_phone": "", "motto": "",
                                         "photo": upload, "published": "on"})
    assert response.status_code == 302
    card = WardenCard.objects.get(user=warden_jy)
    response = Client().get(f"/p/cards/{card.pk}/photo.jpg")
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    data = response.content
    assert b"HUAWEI" not in data and b"Exif" not in data
    image = Image.open(BytesIO(data))
    assert image.format == "JPEG" and max(image.size) <= 600
    assert not image.getexif() and "exif" not in image.info
    assert f'src="/p/cards/{card.pk}/photo.jpg"' in Client().get(f"/p/{FUGUI}/").content.decode()
    assert list(media.rglob("*.jpg")) == [media / card.photo]


def test_a_card_photo_is_public_only_while_the_card_is_published(warden_jy: User, media: Path) -> None:
    client = web_client(warden_jy)
    upload = SimpleUploadedFile("me.jpg", _photo_with_gps(), content_type="image/jpeg")
    client.post("/me/card/", {"display_name": "吕建平", "photo": upload})
    card = WardenCard.objects.get(user=warden_jy)
    assert card.photo and not card.published
    assert Client().get(f"/p/cards/{card.pk}/photo.jpg").status_code == 404
    assert client.get("/me/card/photo.jpg").status_code == 200  # its owner sees the preview
    assert web_client(User.objects.get(username="warden")).get("/me/card/photo.jpg").status_code == 404


def test_a_file_that_is_not_a_picture_is_refused_with_what_was_typed(warden_jy: User, media: Path) -> None:
    upload = SimpleUploadedFile("me.jpg", b"<?php echo 'not a picture'; ?>", content_type="image/jpeg")
    response = web_client(warden_jy).post("/me/card/", {"display_name": "吕警官", "motto": "随叫随到",
                                                        "photo": upload, "published": "on"})
    assert response.status_code == 422
    html = response.content.decode()
    assert 'value="随叫随到"' in html
    assert _zh("This file is not a picture we can read.") in html
    assert not WardenCard.objects.filter(user=warden_jy).exists()
    assert not list(media.rglob("*"))


def test_a_card_photo_larger_than_the_limit_is_refused(warden_jy: User, media: Path, monkeypatch: Any) -> None:
    from louzhang.notices import forms

    monkeypatch.setattr(forms, "CARD_PHOTO_MAX_BYTES", 1000)
    upload = SimpleUploadedFile("me.jpg", _photo_with_gps(), content_type="image/jpeg")
    response = web_client(warden_jy).post("/me/card/", {"display_name": "吕警官", "photo": upload})
    assert response.status_code == 422 and not WardenCard.objects.filter(user=warden_jy).exists()


# --- the stairwell poster ------------------------------------------------------------------------------


def test_the_stairwell_poster_has_the_card_and_a_qr_code_of_the_public_page(warden: User) -> None:
    _card(warden, badge_number="150342", unit_name="西脑包派出所")
    response = web_client(warden).get(f"/areas/{BAOLI_34}/poster/")
    assert response.status_code == 200
    html = response.content.decode()
    link = f"http://localhost:8000/p/{BAOLI_34}/"
    qr = segno.make_qr(link, error="m").svg_inline(scale=1, border=4, omitsize=True)
    assert qr in html and "<svg" in html  # the code encodes exactly the public address
    assert "size: A4" in html and link in html
    assert "150342" in html and "西脑包派出所" in html
    assert _zh("Warden notice board") in html
    assert web_client(warden).get(f"/areas/{BAOLI}/poster/").status_code == 200  # their compound


def test_the_poster_is_not_found_outside_the_jurisdiction(warden: User, warden_jy: User, gate: User) -> None:
    assert web_client(warden_jy).get(f"/areas/{BAOLI_34}/poster/").status_code == 404
    client = web_client(warden)
    for code in (FUGUI, FUGUI_1, BAOLI_1, BAOLI_34_2_6W, DONGHE, "NO-SUCH-AREA"):
        assert client.get(f"/areas/{code}/poster/").status_code == 404
    assert web_client(gate).get(f"/areas/{BAOLI}/poster/").status_code == 404
    assert Client().get(f"/areas/{BAOLI_34}/poster/").status_code == 302  # log-in first


def test_the_building_page_links_to_its_poster_for_its_warden(warden: User) -> None:
    html = web_client(warden).get(f"/areas/{BAOLI_34}/").content.decode()
    assert f'href="/areas/{BAOLI_34}/poster/"' in html and f'href="/p/{BAOLI_34}/"' in html


# --- the demo ---------------------------------------------------------------------------------------


def test_the_demo_warden_shows_his_card_and_notices_on_baolis_page(db: Any) -> None:
    demo_notices()
    assert demo_notices() == 0  # idempotent
    html = Client().get(f"/p/{BAOLI}/").content.decode()
    assert "郝志东" in html and "西脑包派出所" in html
    assert PUBLICITY_TITLE in html and RUMOUR_TITLE in html
    assert Notice.objects.filter(title__in=[PUBLICITY_TITLE, RUMOUR_TITLE]).count() == 2
