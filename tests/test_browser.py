"""The web UI in a real browser (Debian chromium via Playwright) on a phone-sized screen,
against `louzhang serve` on a database of its own, as an officer would use it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CHROMIUM, PHONE, Served, log_in, run_cli

# No database fixture here: the server has its own database, and Playwright's event loop must not
# meet the test database connection.
pytestmark = [pytest.mark.browser]


def test_warden_walks_from_home_to_a_household(server: Served, phone: Any) -> None:
    log_in(phone, server, "warden")
    assert phone.locator("h1").inner_text() == "我的工作"
    body = phone.locator("main").inner_text()
    assert "保利百合" in body and "34号楼" in body and "富贵佳园" not in body
    # nothing wider than the phone: no sideways scrolling on the home page
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.get_by_role("link", name="34号楼").first.click()
    phone.get_by_role("link", name="二单元").first.click()
    phone.get_by_role("link", name="6楼西户").first.click()
    assert "家庭成员" in phone.locator("main").inner_text()
    # the warden sees ID numbers of their own building in full (18 characters, no stars)
    id_cells = phone.locator("[data-field=id_number]").all_inner_texts()
    assert id_cells and all(len(c) == 18 and "*" not in c for c in id_cells)


def test_gate_staff_sees_masked_numbers(server: Served, phone: Any) -> None:
    log_in(phone, server, "gate")
    phone.goto(server.url + "/areas/150202001001001-34-2-0601/")
    id_cells = phone.locator("[data-field=id_number]").all_inner_texts()
    assert id_cells and all("**********" in c for c in id_cells)


def test_commander_sees_today_figures_and_switches_to_english(server: Served, phone: Any) -> None:
    log_in(phone, server, "commander")
    assert "包头市" in phone.locator("main").inner_text()
    phone.wait_for_selector("#dashboard-today [data-figure]")
    phone.get_by_role("button", name="English").click()
    phone.wait_for_load_state()
    assert phone.locator("h1").inner_text() == "My work"


def test_foreign_area_is_not_found_in_the_browser(server: Served, phone: Any) -> None:
    log_in(phone, server, "warden_jy")
    response = phone.goto(server.url + "/areas/150202001001001/")
    assert response.status == 404


def test_warden_uploads_a_spreadsheet_and_watches_it_import(server: Served, phone: Any, tmp_path: Path) -> None:
    from tests.test_import_residents import HEADER, WANG, ZHANG, xlsx

    bad = ZHANG[:17] + ("1" if ZHANG[17] != "1" else "2")
    path = xlsx(tmp_path / "34号楼登记表.xlsx", [
        HEADER,
        # floor 7 (no such floor in the demo's 34号楼: new flats, written by room number)
        [1, "张建国", "男", ZHANG, "13812345678", "保利百合", 34, 1, 701, "常住", "", ""],
        [2, "王武", "男", WANG, "", "保利百合", 34, 1, 702, "租户", "", ""],
        [3, "赵错", "男", bad, "", "保利百合", 34, 1, 702, "常住", "", ""],
    ])
    log_in(phone, server, "warden")
    phone.get_by_role("link", name="导入表格").click()
    phone.select_option("#kind", "residents")
    phone.set_input_files("#file", str(path))
    phone.get_by_role("button", name="上传并导入").click()
    phone.wait_for_selector('#import-progress[data-state="done"]', timeout=60_000)  # the worker did it
    assert phone.locator('[data-count="created"]').inner_text() == "2"
    assert phone.locator('[data-count="rejected"]').inner_text() == "1"
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    with phone.expect_download() as download:
        phone.locator("a.rejects-link").click()
    content = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert "身份证号校验位错误" in content and "赵错" in content


def test_gate_staff_record_a_fever_on_a_phone(server: Served, phone: Any) -> None:
    from tests.test_worker import _sql

    [(code,)] = _sql(server.env, "SELECT p.code FROM gates_householdpass p JOIN areas_area a "
                                 "ON a.id = p.household_id WHERE a.code = '150202001001001-34-2-0601'")
    log_in(phone, server, "gate")
    phone.get_by_role("link", name="保利百合 东门").click()
    # the day's counts before: other tests of the session record at this gate too
    checks, fevers = map(int, re.search(r"测温 (\d+) 人次 · 发热 (\d+)",
                                        phone.locator("[data-today]").inner_text()).groups())
    phone.fill("#pass_code", code.lower())  # typed on a phone keyboard, small letters
    phone.fill("#temperature", "36,6")  # a comma from a Chinese keypad
    phone.get_by_role("button", name="进", exact=True).click()
    assert "已登记 36.6 °C" in phone.locator(".messages").inner_text()
    assert phone.evaluate("document.activeElement.id") == "pass_code"  # ready for the next person
    phone.fill("#pass_code", code)
    phone.fill("#temperature", "38.4")
    phone.get_by_role("button", name="出", exact=True).click()
    alert = phone.locator(".messages .warning")
    assert "发热 38.4 °C" in alert.inner_text()
    assert phone.locator(".gate-latest li.fever").first.inner_text().startswith("38.4 °C")
    assert f"今日：测温 {checks + 2} 人次 · 发热 {fevers + 1}" in phone.locator("[data-today]").inner_text()
    # no sideways scrolling, buttons big enough for gloves
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    box = phone.get_by_role("button", name="进", exact=True).bounding_box()
    assert box["height"] >= 56 and box["width"] >= 120


def test_a_checkpoint_officer_inspects_a_wuhan_car_at_night(server: Served, phone: Any) -> None:
    log_in(phone, server, "checkpoint")
    phone.get_by_role("link", name="达拉特旗进城检查站（24小时）").click()
    phone.fill("#plate", "鄂a·12345")
    phone.fill("#origin", "武汉市")
    phone.fill("#destination", "150202001001001")
    phone.fill("#temperatures", "36.5 36.8")
    phone.get_by_role("button", name="放行").click()
    warning = phone.locator(".messages .warning").inner_text()
    assert "鄂A12345 来自重点地区（武汉市）：已为 保利百合 生成跟进任务" in warning
    assert phone.locator(".gate-latest li.fever").first.inner_text().startswith("鄂A12345 湖北省武汉市 · 放行")
    assert "今日：检查车辆 1 · 重点地区 1" in phone.locator("[data-today]").inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_checkpoint_form_refused_keeps_what_was_typed(server: Served, phone: Any) -> None:
    """A mistyped plate at night: the page says what is wrong, keeps everything else, and the
    cursor waits in the plate field; the destination may be the compound's name."""
    log_in(phone, server, "checkpoint")
    phone.get_by_role("link", name="达拉特旗进城检查站（24小时）").click()
    phone.fill("#plate", "鄂AI2345")  # I is never used on plates
    phone.fill("#origin", "湖北省孝感市")
    phone.fill("#destination", "保利百合")
    phone.fill("#temperatures", "36,6 36.9")
    phone.get_by_role("button", name="劝返").click()
    assert "未登记" in phone.locator("[role=alert]").first.inner_text()
    assert "I 和 O" in phone.locator("#plate_error").inner_text()
    assert phone.input_value("#origin") == "湖北省孝感市" and phone.input_value("#destination") == "保利百合"
    assert phone.input_value("#temperatures") == "36,6 36.9" and phone.input_value("#plate") == "鄂AI2345"
    assert phone.evaluate("document.activeElement.id") == "plate"
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.fill("#plate", "鄂K12345")
    phone.get_by_role("button", name="劝返").click()
    assert "鄂K12345 来自重点地区（湖北省）。" in phone.locator(".messages .warning").inner_text()
    assert phone.input_value("#plate") == "" and phone.input_value("#destination") == ""


def _pass_of(server: Served, household: str) -> str:
    from tests.test_worker import _sql

    [(code,)] = _sql(server.env, "SELECT p.code FROM gates_householdpass p JOIN areas_area a "
                                 f"ON a.id = p.household_id WHERE a.code = '{household}'")
    return str(code)


def _card_photo(browser: Any, server: Served, building: str, code: str, path: Path) -> Path:
    """A photo of a printed pass card: the warden's pass sheet for the building, the card's
    QR code captured as an image."""
    context = browser.new_context(device_scale_factor=3, locale="zh-CN")
    try:
        page = context.new_page()
        log_in(page, server, "warden")
        page.goto(f"{server.url}/areas/{building}/passes/")
        page.locator(f"[data-pass='{code}'] svg").screenshot(path=str(path))
    finally:
        context.close()
    return path


def _camera_clip(picture: Path, path: Path, *, width: int = 640, height: int = 480) -> Path:
    """A YUV4MPEG2 clip of `picture` held in front of the camera (grey levels in the middle of
    the frame), which Chromium plays as its fake camera."""
    from PIL import Image

    card = Image.open(picture).convert("L")
    card.thumbnail((height * 3 // 4, height * 3 // 4))
    frame = Image.new("L", (width, height), 200)
    frame.paste(card, ((width - card.width) // 2, (height - card.height) // 2))
    luma = frame.tobytes()
    chroma = bytes([128]) * (width // 2 * height // 2)
    with path.open("wb") as clip:
        clip.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(10):
            clip.write(b"FRAME\n" + luma + chroma + chroma)
    return path


def test_gate_staff_scan_a_pass_from_a_photo_on_plain_http(server: Served, browser: Any, phone: Any,
                                                           tmp_path: Path) -> None:
    """On a plain-HTTP intranet the browser gives no live camera: the Scan button opens the
    phone's camera app, and the photo of the printed card is decoded on the phone."""
    code = _pass_of(server, "150202001001001-34-2-0601")
    photo = _card_photo(browser, server, "150202001001001-34", code, tmp_path / "card.png")
    log_in(phone, server, "gate")
    phone.get_by_role("link", name="保利百合 东门").click()
    phone.wait_for_function("() => !document.querySelector('[data-scan]').hidden")  # a function: no eval under the CSP
    # what a phone's camera app hands back: a photo of the card
    phone.locator("[data-scan-photo]").set_input_files(str(photo))
    phone.wait_for_function(f"() => document.querySelector('#pass_code').value === '{code}'")
    assert phone.evaluate("document.activeElement.id") == "temperature"
    phone.keyboard.type("36.7")
    phone.get_by_role("button", name="进", exact=True).click()
    assert "已登记 36.7 °C" in phone.locator(".messages").inner_text()
    # a photo without a code says so, and nothing is filled in
    phone.locator("[data-scan-photo]").set_input_files(
        {"name": "blank.png", "mimeType": "image/png", "buffer": _blank_png()})
    # the photo is decoded on the phone, asynchronously: wait for its verdict
    phone.wait_for_function("() => document.querySelector('[data-scan-status]').innerText.includes('没有找到出入证码')")
    assert phone.input_value("#pass_code") == ""


def test_gate_staff_scan_a_pass_with_the_live_camera(server: Served, playwright: Any, browser: Any,
                                                     tmp_path: Path) -> None:
    """Where the page may use the camera (HTTPS, or the server itself as here), Scan shows the
    camera and reads the card as soon as it is in view. Chromium's fake camera plays a clip of
    the printed card."""
    code = _pass_of(server, "150202001001001-34-2-0602")
    photo = _card_photo(browser, server, "150202001001001-34", code, tmp_path / "card.png")
    clip = _camera_clip(photo, tmp_path / "card.y4m")
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
        "--no-sandbox", "--disable-gpu", "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={clip}"])
    try:
        context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
        context.grant_permissions(["camera"], origin=server.url)
        page = context.new_page()
        log_in(page, server, "gate")
        page.get_by_role("link", name="保利百合 东门").click()
        page.get_by_role("button", name="扫码").click()
        page.wait_for_function(f"() => document.querySelector('#pass_code').value === '{code}'", timeout=15000)
        # the camera is switched off once the code is read, and the temperature is next
        assert page.locator("[data-scan-panel]").is_hidden()
        assert page.evaluate("document.activeElement.id") == "temperature"
        assert page.evaluate("document.querySelector('[data-scan-panel] video').srcObject") is None
    finally:
        browser.close()


def _blank_png() -> bytes:
    """A white picture: a photo with no code in it."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("L", (200, 200), 255).save(out, format="PNG")
    return out.getvalue()


def test_a_visitors_fever_at_baoli_reaches_the_district_wardens_robot_and_a_wardens_inbox(
        server: Served, phone: Any) -> None:
    """The seed's compound event: a visitor at 保利百合's gate at 38.6 °C. The gate page says
    who was told; the 东河区 wardens' group robot gets it (once), masked; the lead warden has it
    in their inbox and can open the follow-up."""
    from tests.receiver import Receiver

    robot = Receiver()
    try:
        added = run_cli(server.env, "channel", "add", "东河区楼长工作群", "--kind", "wecom",
                        "--url", f"{robot.url}/cgi-bin/webhook/send?key=k", "--area", "150202",
                        "--role", "warden")
        assert added.returncode == 0, added.stderr
        log_in(phone, server, "gate")
        phone.get_by_role("link", name="保利百合 东门").click()
        phone.fill("#temperature", "38.6")
        phone.locator("details.visitor summary").click()
        phone.fill("#visitor_name", "王小明")
        phone.fill("#visitor_phone", "13912345678")
        phone.get_by_role("button", name="进", exact=True).click()
        said = phone.locator(".messages").inner_text()
        assert "郝志东" in said, said  # the lead warden 保利百合's station commander named
        robot.wait_for(1, timeout=60)
        text = json.dumps([r.json() for r in robot.requests], ensure_ascii=False)
        assert "38.6" in text and "保利百合" in text
        assert "王小明" not in text and "13912345678" not in text  # masked before it left
    finally:
        robot.close()
    phone.context.clear_cookies()  # the warden's phone now
    log_in(phone, server, "warden")
    phone.goto(server.url + "/inbox/")
    line = phone.locator("li", has_text="38.6").first
    assert "保利百合" in line.inner_text()
    line.get_by_role("link").first.click()
    assert "/followups/" in phone.url and "38.6" in phone.locator("main").inner_text()


def test_a_member_of_an_observed_household_going_out_raises_the_breach(server: Served, phone: Any) -> None:
    """34号楼一单元3楼东户 is under home observation in the demo (a returnee from Wuhan found at
    a visit): one of them going out through the gate is a breach, said at once."""
    code = _pass_of(server, "150202001001001-34-1-0302")
    log_in(phone, server, "gate")
    phone.get_by_role("link", name="保利百合 东门").click()
    phone.fill("#pass_code", code)
    phone.fill("#temperature", "36.5")
    phone.get_by_role("button", name="出", exact=True).click()
    warning = phone.locator(".messages").inner_text()
    assert "居家观察" in warning, warning


def test_a_resident_reports_the_wuhan_car_and_the_warden_answers_the_whole_compound(
    server: Served, browser: Any,
) -> None:
    """The seed's story end to end, on phones: the stairwell poster's address, the tip form, the
    tracking code; the warden's follow-up with the registry's answer, closed as unfounded and
    published; the compound's residents' group robot (a local receiver) gets the notice."""
    import time

    from tests.receiver import Receiver

    receiver = Receiver(script=[(204, {})])
    added = run_cli(server.env, "channel", "add", "保利百合业主群", "--kind", "webhook",
                    "--url", f"{receiver.url}/residents", "--area", "150202001001001", "--role", "resident")
    assert added.returncode == 0, added.stderr
    resident_context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="en-US")
    warden_context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    try:
        resident = resident_context.new_page()
        resident.goto(server.url + "/p/150202001001001-34/")  # what the poster's QR code opens
        resident.locator("[data-action=report]").click()
        assert "向楼长反映情况" in resident.locator("h1").inner_text()  # Chinese on an English phone
        resident.get_by_label("重点地区车辆").check()
        resident.fill("#place", "34号楼下停车位")
        resident.fill("#content", "楼下停了一辆鄂A牌照的灰色别克，好几天没动了 <script>alert(1)</script>")
        resident.fill("#plate", "鄂a 5k2b8")
        time.sleep(3.2)  # a person takes a few seconds to type; a robot that posts at once is refused
        resident.get_by_role("button", name="提交给楼长").click()
        resident.wait_for_selector("[data-code]")
        code = resident.locator("[data-code]").inner_text()
        assert resident.locator("[data-status]").inner_text() == "已收到"

        warden = warden_context.new_page()
        log_in(warden, server, "warden")
        warden.goto(server.url + "/followups/")
        warden.get_by_role("link", name=re.compile("鄂A5K2B8")).first.click()
        warden.locator("[data-tip]").click()
        answer = warden.locator("[data-registry-answer]").inner_text()
        assert "湖北省" in answer and "各卡口无出市记录" in answer and "保利百合" in answer
        assert "<script>alert(1)</script>" in warden.locator("[data-field=content]").inner_text()
        warden.get_by_role("button", name="我来核查").click()
        warden.get_by_label("经核查，情况不实").check()
        warden.fill("#outcome", "经核查，该车车主是本小区常住居民，2018年在本小区登记，各卡口无出市记录。请大家放心。")
        warden.get_by_label("向本小区居民公开发布结果").check()
        warden.fill("#notice_title", "关于34号楼下鄂A牌照车辆的说明")
        warden.get_by_role("button", name="办结线索").click()
        assert "已向本小区居民公开" in warden.locator("main").inner_text()

        deadline = time.monotonic() + 30  # the worker delivers to the residents' group
        while not receiver.requests and time.monotonic() < deadline:
            time.sleep(0.2)
        assert [r.path for r in receiver.requests] == ["/residents"]
        assert "关于34号楼下鄂A牌照车辆的说明" in receiver.requests[0].body.decode()

        resident.goto(server.url + "/p/t/")
        resident.fill("#code", code.lower())
        resident.get_by_role("button", name="查询").click()
        assert resident.locator("[data-status]").inner_text() == "经核查，情况不实"
        assert "常住居民" in resident.locator("[data-outcome]").inner_text()
        resident.goto(server.url + "/p/150202001001001/")
        assert "关于34号楼下鄂A牌照车辆的说明" in resident.locator("main").inner_text()
        assert resident.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        resident_context.close()
        warden_context.close()
        receiver.close()


def test_a_station_raises_level_one_and_its_commander_reports_back_on_post(server: Served, phone: Any) -> None:
    """库都尔派出所 raises its town's community to level one; the station's officers are recalled;
    孟庆国 (the station commander, an officer too) taps 收到 and 已到岗 on the phone, and the
    station's on-post count goes up by one."""
    log_in(phone, server, "station_kde")
    phone.goto(server.url + "/officers/")
    phone.locator("[data-officer='150782101'] a").click()  # 孟庆国 himself, going off duty at night
    phone.select_option("#status", "off_duty")
    phone.get_by_role("button", name="保存").click()
    assert phone.locator("h1 [data-field=status]").inner_text() == "休班"
    phone.goto(server.url + "/on-post/?area=150782101001")
    before = int(phone.locator("[data-rate] [data-on-post]").inner_text())
    phone.select_option("#level", "1")
    phone.fill("#hours", "12")
    phone.get_by_role("button", name="设置响应级别").click()
    assert "召回" in phone.locator("main").inner_text()
    phone.goto(server.url + "/me/recall/")
    phone.get_by_role("button", name="收到").click()
    phone.get_by_role("button", name="已到岗").click()
    assert phone.locator("[data-recall] [data-state=on_post]").count() == 1
    phone.goto(server.url + "/on-post/?area=150782101001")
    assert int(phone.locator("[data-rate] [data-on-post]").inner_text()) == before + 1
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_unit_representative_of_fugui_logs_a_disinfection_and_the_warden_sees_it(
    server: Served, browser: Any,
) -> None:
    """A unit of 富贵佳园 not yet disinfected today: its warden hands the representative's
    personal link over; the representative taps 已消杀 on their phone (no log-in); the warden's
    coverage shows the round."""
    warden_context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    rep_context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    try:
        warden = warden_context.new_page()
        log_in(warden, server, "warden_jy")
        warden.goto(server.url + "/disinfection/?area=150207001001001")
        unit = warden.locator("[data-unit]:has([data-done='0'])").first  # not yet done today
        code = unit.get_attribute("data-unit")
        done_before = int(unit.locator("[data-done]").get_attribute("data-done"))
        warden.goto(server.url + f"/disinfection/units/{code}/")
        link = warden.locator("[data-link]").first.input_value()
        assert "/d/" in link

        rep = rep_context.new_page()
        rep.goto(server.url + link[link.index("/d/"):])
        assert "单元消杀" in rep.locator("h1").inner_text()
        rep.get_by_role("button", name="已消杀").click()
        assert rep.locator(".messages").count() == 1

        warden.goto(server.url + "/disinfection/?area=150207001001001")
        row = warden.locator(f"[data-unit='{code}']")
        assert int(row.locator("[data-done]").get_attribute("data-done")) == done_before + 1
    finally:
        warden_context.close()
        rep_context.close()
