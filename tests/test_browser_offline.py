"""The offline app (issue 15) in a real browser: Debian chromium via Playwright with the network
switched off (`context.set_offline`), against the session's served demo (conftest `server`).

Each test has a browser context of its own (its own service worker, IndexedDB and cookies: a
phone of its own); what reached the server is read from the server's database. Records are made
at 西门 and on households no other browser test uses, and every count is of this test's own
records (by client_id), so the tests hold whatever the other modules recorded."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import PHONE, Served, log_in
from tests.test_worker import _sql

pytestmark = [pytest.mark.browser]

GATE_E = "/gates/150202001001001-E/"
GATE_W = "/gates/150202001001001-W/"


def _today() -> date:
    """Today where the server counts days."""
    return datetime.now(tz=ZoneInfo("Asia/Shanghai")).date()


@pytest.fixture
def device(browser: Any) -> Iterator[Any]:
    """A phone: a browser context of its own (service worker, IndexedDB, cookies)."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    errors: list[str] = []
    outside: list[str] = []
    context.on("weberror", lambda e: errors.append(str(e.error)))
    context.on("request", lambda r: outside.append(r.url)
               if not r.url.startswith(("http://127.0.0.1", "data:", "blob:http://127.0.0.1")) else None)
    yield context
    context.close()
    assert errors == [], f"script errors on the pages: {errors}"
    assert outside == [], f"the app reached outside the server: {outside}"


def _ready(page: Any) -> None:
    """The pack is on the phone, the pages are kept and the service worker runs."""
    page.wait_for_selector("html[data-lz-ready]", state="attached", timeout=30_000)


def _pending(page: Any, n: int) -> None:
    page.wait_for_selector(f'[data-netbar] [data-pending][data-count="{n}"]', state="attached", timeout=30_000)


def _until(page: Any, expression: str, timeout: float = 30) -> None:
    """Wait until a promise of the page's script resolves true (the queue lives in IndexedDB,
    which a page reads only asynchronously)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"still false after {timeout} s: {expression}"
        page.wait_for_timeout(200)


def _passes(server: Served, n: int, *, observed: bool = False) -> list[tuple[str, str]]:
    """(pass code, household code) of households of 保利百合, under home observation or not."""
    today = _today().isoformat()
    under = (f"SELECT household_id FROM gates_homeobservation WHERE ended_at IS NULL "
             f"AND ends_on >= '{today}' AND starts_on <= '{today}'")
    rows = _sql(server.env, "SELECT p.code, a.code FROM gates_householdpass p JOIN areas_area a "
                            "ON a.id = p.household_id WHERE a.code LIKE '150202001001001-%' "
                            f"AND p.revoked_at IS NULL AND p.household_id {'' if observed else 'NOT'} IN ({under}) "
                            "ORDER BY a.code DESC")
    assert len(rows) >= n
    return [(str(c), str(h)) for c, h in rows[:n]]


def _gate_records(server: Served, client_ids: list[str]) -> int:
    quoted = ",".join(f"'{c}'" for c in client_ids)
    [(n,)] = _sql(server.env, f"SELECT COUNT(*) FROM gates_gaterecord WHERE client_id IN ({quoted})")
    return int(n)


def _client_ids(page: Any) -> list[str]:
    return list(page.evaluate("LZ.mine().then(rs => rs.map(r => r.client_id))"))


def _words(page: Any, selector: str, key: str, **values: str) -> str:
    """A sentence of the page as its script writes it (the words come from the page itself)."""
    text = str(page.get_attribute(selector, f"data-w-{key}"))
    for name, value in values.items():
        text = text.replace(f"%({name})s", value)
    return text


def _record(page: Any, code: str, temperature: str, button: str = "进") -> None:
    page.fill("#pass_code", code)
    page.fill("#temperature", temperature)
    page.get_by_role("button", name=button, exact=True).click()
    page.wait_for_function("() => document.querySelector('#pass_code').value === ''")


def test_a_gate_guard_records_ten_checks_offline_and_they_are_stored_once_back_online(
        server: Served, device: Any) -> None:
    passes = _passes(server, 10)
    fever_household = passes[3][1]
    page = device.new_page()
    log_in(page, server, "gate")
    page.goto(server.url + GATE_W)
    _ready(page)
    device.set_offline(True)
    for i, (code, _household) in enumerate(passes):
        _record(page, code.lower(), "38.6" if i == 3 else "36.4")
        if i == 3:  # the guard is told the truth: kept here, follow-up when sent
            said = page.locator("main .messages li.warning").first.inner_text()
            assert said == _words(page, "[data-gate-form]", "queued-fever", t="38.6")
    _pending(page, 10)
    client_ids = _client_ids(page)
    assert len(client_ids) == 10 and all(c.startswith("gate-") for c in client_ids)
    page.close()

    # the tab is closed; the guard opens the page again, still without signal
    page = device.new_page()
    page.goto(server.url + GATE_W)
    assert page.locator("[data-gate-form]").count() == 1  # the kept page, from the phone
    _pending(page, 10)
    assert page.get_attribute("[data-netbar]", "data-state") == "offline"
    assert _gate_records(server, client_ids) == 0

    device.set_offline(False)
    _pending(page, 0)
    assert _gate_records(server, client_ids) == 10
    [(fevers,)] = _sql(server.env, "SELECT COUNT(*) FROM followups_followup WHERE kind = 'fever' "
                                   f"AND subject_id = '{fever_household}'")
    assert fevers == 1
    page.wait_for_selector("main .messages li.warning")
    assert _words(page, "[data-gate-form]", "fever", t="38.6") in page.locator("main .messages").inner_text()
    assert page.get_attribute("[data-netbar]", "data-state") == "online"
    assert page.locator("[data-netbar] [data-last-sync]").inner_text() != page.get_attribute("#lz-words", "data-w-never-synced")


def test_the_same_queue_sent_from_two_tabs_at_once_is_stored_once(server: Served, device: Any) -> None:
    passes = _passes(server, 15)[10:]
    first = device.new_page()
    log_in(first, server, "gate")
    first.goto(server.url + GATE_W)
    _ready(first)
    device.set_offline(True)
    for code, _household in passes:
        _record(first, code, "36.5", button="出")
    second = device.new_page()
    second.goto(server.url + GATE_W)
    _pending(first, 5)
    _pending(second, 5)
    client_ids = _client_ids(first)

    device.set_offline(False)  # both tabs see the connection return and sync at once
    _pending(first, 0)
    _pending(second, 0)
    assert _gate_records(server, client_ids) == 5
    # one tab sent them and tells the guard; the other does not claim them
    first.wait_for_timeout(500)
    stored = _words(first, "[data-gate-form]", "stored-many", n="5")
    told = [stored in p.locator("main").inner_text() for p in (first, second)]
    assert sorted(told) == [False, True]

    # a crash after sending, before the answers were kept: the same records go again
    first.evaluate("""async () => {
        for (const r of await LZ.mine()) { r.state = 'waiting'; r.answer = null; await LZ.put('queue', r); }
    }""")
    answers = first.evaluate("Promise.all([LZ.sync(), LZ.sync()]).then(() => LZ.mine())"
                             ".then(rs => rs.map(r => r.answer.status))")
    assert answers == ["duplicate"] * 5
    assert _gate_records(server, client_ids) == 5


def test_a_visit_made_offline_in_a_stairwell_syncs_with_its_findings(server: Served, device: Any) -> None:
    page = device.new_page()
    log_in(page, server, "warden")
    page.goto(server.url + "/field/visit/")
    _ready(page)
    # the last household of the list: the other browser tests visit 34号楼二单元6楼西户
    household = page.evaluate("LZ.pack().then(p => p.households.filter("
                              "h => h.members.length >= 2 && !h.code.endsWith('-34-2-0601')).pop())")
    assert household, "the warden's pack lists households with their members"
    device.set_offline(True)
    page.reload()  # the kept page, without signal
    page.select_option("#fv-household", household["code"])
    members = page.locator("[data-member]")
    assert members.count() == len(household["members"])
    # one column on the phone: the members' check-boxes wrap, nothing wider than the screen
    assert page.evaluate("document.documentElement.scrollWidth") <= page.evaluate("window.innerWidth")
    ill = members.nth(0)
    ill.locator("[data-symptom][value=fever]").check()
    ill.locator("[data-symptom][value=cough]").check()
    ill.locator("[data-region]").fill("武汉市")
    ill.locator("[data-from]").fill((_today() - timedelta(days=20)).isoformat())
    ill.locator("[data-to]").fill((_today() - timedelta(days=9)).isoformat())
    ill.locator("[data-returned]").fill((_today() - timedelta(days=8)).isoformat())
    page.select_option("#fv-mode", "in_person")
    page.get_by_role("button", name=page.locator("[data-field-visit] button[type=submit]").inner_text()).click()
    _pending(page, 1)
    [client_id] = _client_ids(page)
    assert client_id.startswith("visit-")
    assert _sql(server.env, f"SELECT id FROM screening_visit WHERE client_id = '{client_id}'") == []

    device.set_offline(False)
    _pending(page, 0)
    [(visit_id,)] = _sql(server.env, f"SELECT id FROM screening_visit WHERE client_id = '{client_id}'")
    findings = dict(_sql(server.env, "SELECT resident_id, symptoms || '|' || key_region FROM screening_finding "
                                     f"WHERE visit_id = {visit_id}"))
    ill_resident = household["members"][0]["resident"]
    symptoms, region = findings[ill_resident].split("|")
    assert set(symptoms.replace(",", " ").split()) >= {"fever", "cough"} and region == "武汉市"
    assert set(findings) == {m["resident"] for m in household["members"]}


def test_a_pass_of_a_household_under_observation_scanned_offline_warns_the_guard(server: Served, device: Any) -> None:
    [(code, household)] = _passes(server, 1, observed=True)
    [(plain, _other)] = _passes(server, 1)
    page = device.new_page()
    log_in(page, server, "gate")
    page.goto(server.url + GATE_E)
    _ready(page)
    # the phone holds no pass code and no household, only keyed hashes of the codes
    pack = str(page.evaluate("LZ.pack().then(p => JSON.stringify(p))"))
    assert code not in pack and plain not in pack and "号楼" not in pack and household not in pack
    assert '"hash"' in pack and '"under_observation":true' in pack
    device.set_offline(True)
    _record(page, plain, "36.6", button="出")  # a household not under observation: no warning
    said = page.locator("main .messages").inner_text()
    assert _words(page, "[data-gate-form]", "queued", t="36.6") in said
    assert _words(page, "[data-gate-form]", "queued-breach") not in said
    _record(page, " " + code.lower(), "36.6", button="出")  # recognised as typed: spaces, lower case
    said = page.locator("main .messages").inner_text()
    assert _words(page, "[data-gate-form]", "queued-breach") in said
    # nothing said to be done that was not: no follow-up claimed before the server answered
    assert _words(page, "[data-gate-form]", "breach") not in said
    assert "号楼" not in said  # the household is not named: the server alone knows it
    _pending(page, 2)


def test_log_out_wipes_the_pack_and_the_pages_but_warns_for_waiting_records(server: Served, device: Any) -> None:
    [(code, _household)] = _passes(server, 16)[15:]
    page = device.new_page()
    log_in(page, server, "gate")
    page.goto(server.url + GATE_W)
    _ready(page)
    assert page.evaluate("LZ.pack().then(p => p.user.username)") == "gate"
    assert page.evaluate("caches.has('lz-pages')")
    device.set_offline(True)
    _record(page, code, "36.5")
    # a record waiting: log-out asks first, and the officer stays
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.locator("form[data-logout] button").click()
    page.wait_for_timeout(300)
    assert page.url == server.url + GATE_W
    assert page.evaluate("LZ.pack().then(p => p !== null)")
    device.set_offline(False)
    _pending(page, 0)
    page.locator("form[data-logout] button").click()  # nothing waiting: no question
    page.wait_for_url("**/accounts/login/**")
    assert page.evaluate("LZ.get('pack', 'gate').then(p => p === undefined)")
    assert not page.evaluate("caches.has('lz-pages')")
    assert page.evaluate("LZ.get('meta', 'pages:gate').then(p => p === undefined)")
    # the records stay (sent ones, listed for a day)
    assert page.evaluate("LZ.all('queue').then(rs => rs.length)") == 1


def test_a_session_ended_offline_sends_the_queue_after_logging_in_again_as_the_same_officer(
        server: Served, device: Any) -> None:
    passes = _passes(server, 19)[16:]
    page = device.new_page()
    log_in(page, server, "gate")
    page.goto(server.url + GATE_W)
    _ready(page)
    device.set_offline(True)
    for code, _household in passes:
        _record(page, code, "36.7")
    client_ids = _client_ids(page)
    assert page.evaluate("LZ.get('pack', 'gate').then(p => p !== undefined)")
    device.clear_cookies()  # the session ends while the phone has no signal
    device.set_offline(False)
    page.wait_for_selector("[data-netbar] [data-session-ended]:not([hidden])")
    _pending(page, 3)
    assert _gate_records(server, client_ids) == 0
    # the server said 401: the pack and the kept pages are gone, the queue stays
    _until(page, "LZ.get('pack', 'gate').then(p => p === undefined)")
    assert not page.evaluate("caches.has('lz-pages')")
    assert page.evaluate("LZ.get('meta', 'pages:gate').then(p => p === undefined)")
    assert page.evaluate("LZ.mine().then(rs => rs.filter(r => r.state === 'waiting').length)") == 3

    # another officer on the same phone sees only a count, and sends nothing of them
    log_in(page, server, "warden")
    _ready(page)
    assert page.locator("[data-netbar] [data-others]").is_visible()
    assert "3" in page.locator("[data-netbar] [data-others]").inner_text()
    _pending(page, 0)
    assert _gate_records(server, client_ids) == 0
    page.locator("form[data-logout] button").click()
    page.wait_for_url("**/accounts/login/**")

    # the guard logs in again: the queue is sent as the guard
    page.fill("#id_username", "gate")
    page.fill("#id_password", server.logins["gate"])
    page.get_by_role("button", name="登录").click()
    _pending(page, 0)
    _until(page, "LZ.mine().then(rs => rs.length === 3 && rs.every(r => r.state === 'sent'))")
    assert _gate_records(server, client_ids) == 3
    [(recorder,)] = _sql(server.env, "SELECT DISTINCT u.username FROM gates_gaterecord r JOIN accounts_user u "
                                     f"ON u.id = r.recorded_by_id WHERE r.client_id IN ('{client_ids[0]}')")
    assert recorder == "gate"
    assert page.locator("[data-netbar] [data-session-ended]").is_hidden()


def test_the_app_is_installable_and_every_asset_is_local(server: Served, device: Any) -> None:
    page = device.new_page()
    manifest = page.request.get(server.url + "/manifest.webmanifest").json()
    assert manifest["name"] == "楼长" and manifest["display"] == "standalone" and manifest["start_url"] == "/"
    purposes = {(i["sizes"], i["purpose"]) for i in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("192x192", "maskable"), ("512x512", "maskable")} <= purposes
    for icon in manifest["icons"]:
        assert icon["src"].startswith("/static/")
        assert page.request.get(server.url + icon["src"]).headers["content-type"] == "image/png"
    worker = page.request.get(server.url + "/sw.js")
    assert worker.headers["service-worker-allowed"] == "/"
    assert "no-cache" in worker.headers["cache-control"]
    [assets] = re.findall(r"const ASSETS = (\[.*?\]);", worker.text())
    assert json.loads(assets) and all(a.startswith("/static/") for a in json.loads(assets))
    assert re.search(r'const VERSION = "[0-9a-f]{16}"', worker.text())


def test_a_rejected_record_is_corrected_and_sent_again_under_its_client_id(server: Served, device: Any) -> None:
    [(code, _household)] = _passes(server, 20)[19:]
    page = device.new_page()
    log_in(page, server, "gate")
    page.goto(server.url + GATE_W)
    _ready(page)
    device.set_offline(True)
    _record(page, "ZZZZ9999", "36.8")  # a code mistyped in the dark: not on any pass
    [client_id] = _client_ids(page)
    # a record waiting longer than the set time is flagged
    page.evaluate("""async () => {
        const [r] = await LZ.mine(); r.created -= 31 * 60 * 1000; await LZ.put('queue', r); await LZ.refresh();
    }""")
    assert page.locator("[data-netbar] [data-stale]").is_visible()
    device.set_offline(False)
    page.wait_for_selector("[data-netbar] [data-rejected]:not([hidden])")
    _pending(page, 0)
    assert _gate_records(server, [client_id]) == 0
    page.wait_for_selector("main .messages li.error")  # the server's reason, on the page

    page.goto(server.url + "/field/queue/")
    item = page.locator(f'[data-queue-list] li[data-client-id="{client_id}"]')
    item.wait_for()
    assert item.get_attribute("data-state") == "rejected"
    item.locator("a").click()
    page.wait_for_function("() => document.querySelector('#pass_code').value === 'ZZZZ9999'")
    assert page.input_value("#temperature") == "36.8"
    page.fill("#pass_code", code)
    page.get_by_role("button", name="进", exact=True).click()
    _until(page, f"LZ.get('queue', '{client_id}').then(r => r.state === 'sent')")
    assert _gate_records(server, [client_id]) == 1
    assert page.locator("[data-netbar] [data-rejected]").is_hidden()


def test_a_checkpoint_inspection_made_offline_is_stored_when_the_connection_returns(
        server: Served, device: Any) -> None:
    page = device.new_page()
    log_in(page, server, "checkpoint")
    page.goto(server.url + "/checkpoints/DLT-CP1/")
    _ready(page)
    device.set_offline(True)
    page.reload()
    page.fill("#plate", "鄂a·54321")
    page.fill("#origin", "武汉市")
    page.fill("#temperatures", "36.5 36.9")
    page.get_by_role("button", name="放行").click()
    _pending(page, 1)
    assert page.locator("main .messages li.warning").count() == 1  # a key region, from the pack
    [client_id] = _client_ids(page)
    device.set_offline(False)
    _pending(page, 0)
    [(plate, occupants)] = _sql(server.env, "SELECT v.plate, (SELECT COUNT(*) FROM checkpoints_occupant o "
                                            "WHERE o.inspection_id = v.id) FROM checkpoints_vehicleinspection v "
                                            f"WHERE v.client_id = '{client_id}'")
    assert plate == "鄂A54321" and occupants == 2


def test_a_wardens_pack_is_wiped_when_the_server_says_the_session_ended_and_the_queue_stays(
        server: Served, device: Any) -> None:
    page = device.new_page()
    log_in(page, server, "warden")
    page.goto(server.url + "/field/visit/")
    _ready(page)
    household = page.evaluate("LZ.pack().then(p => p.households.filter(h => h.members.length).pop())")
    assert household["members"][0]["name"]  # names in full, as the warden's pages show them
    device.set_offline(True)
    page.select_option("#fv-household", household["code"])
    page.select_option("#fv-mode", "nobody_home")
    page.get_by_role("button", name=page.locator("[data-field-visit] button[type=submit]").inner_text()).click()
    _pending(page, 1)
    device.clear_cookies()  # the session ends
    device.set_offline(False)  # back online: the pack's refresh is answered 401
    page.wait_for_selector("[data-netbar] [data-session-ended]:not([hidden])")
    _until(page, "LZ.get('pack', 'warden').then(p => p === undefined)")
    assert not page.evaluate("caches.has('lz-pages')")
    assert page.evaluate("LZ.mine().then(rs => rs.map(r => r.state))") == ["waiting"]
    # a sync answered 401 wipes it too (a pack put back as if kept from before)
    page.evaluate("LZ.put('pack', {username: 'warden', data: {households: []}, etag: null, fetched: 0})")
    page.evaluate("LZ.sync()")
    _until(page, "LZ.get('pack', 'warden').then(p => p === undefined)")
    assert page.evaluate("LZ.mine().then(rs => rs.map(r => r.state))") == ["waiting"]
