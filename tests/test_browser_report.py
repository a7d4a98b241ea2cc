"""The daily report (日报) in a real browser: the city commander opens the page, prints it and
downloads the workbook the worker writes, on a desk's screen; the same page on a phone."""

from __future__ import annotations

import os
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from tests.conftest import PHONE, Served, log_in

pytestmark = [pytest.mark.browser]
DESK = {"width": 1366, "height": 900}
SHOTS = os.environ.get("LOUZHANG_SCREENSHOTS")


@pytest.fixture
def desk(browser: Any) -> Any:
    context = browser.new_context(viewport=DESK, locale="zh-CN", accept_downloads=True)
    # what the print button does, seen without a print dialog
    context.add_init_script("window.print = function () { window.__printed = (window.__printed || 0) + 1; };")
    page = context.new_page()
    yield page
    context.close()


def test_the_commander_prints_and_downloads_the_citys_report(server: Served, desk: Any) -> None:
    log_in(desk, server, "commander")
    desk.goto(server.url + "/reports/150200/")
    report = desk.locator("article.report")
    assert report.get_attribute("data-place") == "150200"
    assert "包头市" in desk.locator(".report-title").inner_text()
    # numbers right-aligned, the summary and a table per level with its totals row
    assert desk.locator(".report-sheet").count() == 3
    assert desk.locator("tfoot tr[data-total]").count() == 2
    align = desk.locator("tr[data-figure=households] td[data-day]").evaluate("e => getComputedStyle(e).textAlign")
    assert align == "right"
    if SHOTS:
        desk.screenshot(path=f"{SHOTS}/report-desk.png", full_page=True)
    desk.locator("[data-action=print]").click()
    assert desk.evaluate("window.__printed") == 1
    # printed: no menu bar or buttons, the tables only
    desk.emulate_media(media="print")
    assert not desk.locator("header.topbar").is_visible()
    assert not desk.locator(".report-actions").is_visible()
    assert desk.locator(".report-title").is_visible()
    pdf = desk.pdf(prefer_css_page_size=True)
    assert pdf.startswith(b"%PDF")
    if SHOTS:
        Path(f"{SHOTS}/report.pdf").write_bytes(pdf)
    desk.emulate_media(media="screen")
    # the download button: the worker writes it, the page follows its progress, then the link
    desk.locator("[data-download]").click()
    desk.wait_for_url("**/reports/jobs/*/")
    link = desk.locator("a.report-link")
    link.wait_for(timeout=60_000)
    with desk.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename.startswith("日报_包头市_") and download.suggested_filename.endswith(".xlsx")
    book = load_workbook(BytesIO(Path(download.path()).read_bytes()))
    assert len(book.worksheets) == 3


def test_the_station_commander_reads_the_report_on_a_phone(server: Served, phone: Any) -> None:
    log_in(phone, server, "station_xnb")
    phone.goto(server.url + "/reports/station:BT-DH-XNB/")
    assert phone.locator("article.report").get_attribute("data-place") == "station:BT-DH-XNB"
    # the wide tables scroll inside their box; the page itself is no wider than the phone
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    if SHOTS:
        phone.screenshot(path=f"{SHOTS}/report-phone.png", full_page=True)
    assert phone.goto(server.url + "/reports/150200/").status == 404
