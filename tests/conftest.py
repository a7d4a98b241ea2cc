"""Standing users of the demo city, as in the seed: a 包头 city commander, the 东河区 warden of
保利百合 building 7, a 九原区 warden of 富贵佳园, the 保利百合 gate guard, a 东河区 health liaison …

The demo city is loaded once per test session into the test database; each test runs in a
transaction rolled back at its end. Tests that need real commits (live server, several
processes) load what they need themselves.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.db import connection
from django.test import Client

from louzhang.accounts.models import User
from louzhang.accounts.services import token_create

ROOT = Path(__file__).resolve().parent.parent

#: The stand-in chat platforms and webhook receivers (tests/receiver.py) listen on 127.0.0.1,
#: which no channel may reach unless the operator allows it: the tests allow it explicitly, as
#: an operator would (README, "Configuration") — in this process (the fixture below) and in
#: every `louzhang` they start (the environment). tests/test_channel_policy.py takes it away.
TEST_CHANNEL_ALLOW = ["127.0.0.1/32"]
os.environ["LOUZHANG_CHANNEL_ALLOW"] = ",".join(TEST_CHANNEL_ALLOW)

#: Every `louzhang init` of the session collects its static files into one directory, as
#: installations of one release may: compressed once, then found up to date (half a minute of CPU
#: saved per `init`; tests/test_cli.py checks an installation of its own)
os.environ.setdefault("LOUZHANG_STATIC_ROOT", tempfile.mkdtemp(prefix="louzhang-static-"))

# Area codes from the demo city
BAOTOU = "150200"
DONGHE = "150202"
JIUYUAN = "150207"
DALAT = "150621"
ORDOS = "150600"
BAOLI = "150202001001001"  # 保利百合
FUGUI = "150207001001001"  # 富贵佳园
BAOLI_34 = f"{BAOLI}-34"
BAOLI_34_2_6W = f"{BAOLI}-34-2-0601"  # 34号楼二单元6楼西户
BAOLI_1 = f"{BAOLI}-1"  # not the demo warden's building
FUGUI_1 = f"{FUGUI}-1"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: Any) -> None:
    from django.conf import settings

    settings.VAR_DIR = tmp_path_factory.mktemp("var")
    with django_db_blocker.unblock():
        from louzhang.demo.services import demo_load

        demo_load()


def _user(username: str) -> User:
    return User.objects.get(username=username)


@pytest.fixture
def commander(db: Any) -> User:
    """Commander of 包头市 (city command centre)."""
    return _user("commander")


@pytest.fixture
def warden(db: Any) -> User:
    """Warden of 保利百合 buildings 7 and 31–36, 东河区."""
    return _user("warden")


@pytest.fixture
def warden_jy(db: Any) -> User:
    """Warden of 富贵佳园 buildings 1–6, 九原区."""
    return _user("warden_jy")


@pytest.fixture
def gate(db: Any) -> User:
    return _user("gate")


@pytest.fixture
def health(db: Any) -> User:
    return _user("health")


@pytest.fixture
def checkpoint_officer(db: Any) -> User:
    return _user("checkpoint")


@pytest.fixture
def unit_rep(db: Any) -> User:
    return _user("unit_rep")


@pytest.fixture
def station_kde(db: Any) -> User:
    """Commander of 库都尔派出所 (牙克石市), granted through the station's beat."""
    return _user("station_kde")


@pytest.fixture
def station_xnb(db: Any) -> User:
    """Commander of 西脑包派出所, the station whose beat holds 保利百合 (东河区)."""
    return _user("station_xnb")


@pytest.fixture
def branch_dh(db: Any) -> User:
    """Commander of the 东河区 branch (分局)."""
    return _user("branch_dh")


@pytest.fixture
def receiver() -> Iterator[Any]:
    from tests.receiver import Receiver

    r = Receiver()
    yield r
    r.close()


class InlineWorker:
    """`louzhang worker` run in the test's own process and transaction, one round at a time.

    Tests never commit, so what services queue "on commit" (tasks) is captured and run here,
    before each round of the worker, as a committed transaction would have run it.
    """

    def __init__(self, capture: Any) -> None:
        self._capture = capture
        self._open()

    def _open(self) -> None:
        self._ctx = self._capture(execute=True)
        self._callbacks = self._ctx.__enter__()

    def _flush(self) -> int:
        pending = len(self._callbacks)
        self._ctx.__exit__(None, None, None)
        self._open()
        return pending

    def run(self) -> int:
        """Until nothing is left to do now: queued tasks, due periodic jobs, ready tasks."""
        from louzhang.worker.runner import run_once

        total = 0
        while True:
            queued = self._flush()
            ran = run_once("test-worker")
            total += ran
            if not ran and not queued and not self._callbacks:
                return total

    def close(self) -> None:
        self._ctx.__exit__(None, None, None)


@pytest.fixture
def worker(django_capture_on_commit_callbacks: Any) -> Iterator[InlineWorker]:
    inline = InlineWorker(django_capture_on_commit_callbacks)
    yield inline
    inline.close()


def web_client(user: User) -> Client:
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


class ApiClient:
    """The API as a device uses it: bearer token, JSON."""

    def __init__(self, token: str | None) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(f"/api/v1{path}", params, headers=self.headers)

    def post(self, path: str, body: Any) -> Any:
        return self.client.post(f"/api/v1{path}", body, content_type="application/json",
                                headers=self.headers)


def api_for(user: User) -> ApiClient:
    _, plain = token_create(user=user)
    return ApiClient(plain)


# --- the command line, run as an operator runs it -------------------------------------------


@contextmanager
def isolated_env(var_dir: Path) -> Iterator[dict[str, str]]:
    """Environment for running `louzhang` against a database of its own.

    SQLite: a file under `var_dir`. PostgreSQL (when the suite runs on it): a fresh database on
    the same server, dropped afterwards.
    """
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["LOUZHANG_VAR_DIR"] = str(var_dir)
    pg_name = None
    params = connection.settings_dict
    conninfo = (
        f"host={params['HOST']} port={params['PORT'] or 5432} user={params['USER']} dbname=postgres"
        + (f" password={params['PASSWORD']}" if params.get("PASSWORD") else "")
    )
    if connection.vendor == "postgresql":
        import psycopg

        pg_name = f"lz_cli_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{pg_name}"')
        credentials = params["USER"] + (f":{quote(params['PASSWORD'])}" if params.get("PASSWORD") else "")
        env["DATABASE_URL"] = f"postgres://{credentials}@{params['HOST']}:{params['PORT'] or 5432}/{pg_name}"
    else:
        env.pop("DATABASE_URL", None)
    try:
        yield env
    finally:
        if pg_name:
            import psycopg

            with psycopg.connect(conninfo, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


@pytest.fixture
def cli_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    with isolated_env(tmp_path / "var") as env:
        yield env


@contextmanager
def served(env: dict[str, str], workers: int = 2) -> Iterator[str]:
    """`louzhang serve` on a free port of this machine; yields its base URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "louzhang", "serve", "--port", str(port), "--workers", str(workers)],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(url + "/api/v1/health", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise AssertionError("louzhang serve did not start") from None
                time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


def run_cli(env: dict[str, str], *args: str, stdin: str | None = None,
            timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """`louzhang ARGS` in a process of its own; give creating and loading a database a longer
    `timeout` on a busy machine."""
    return subprocess.run(
        [sys.executable, "-m", "louzhang", *args], env=env, input=stdin, capture_output=True,
        text=True, timeout=timeout, cwd=ROOT,
    )


def cli_shell(env: dict[str, str], code: str) -> str:
    """The last line `louzhang shell -c CODE` prints."""
    result = run_cli(env, "shell", "-c", code)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


@pytest.fixture
def english() -> Iterator[None]:
    """Messages in English (the msgids), for tests that match on their wording; the default
    language, Simplified Chinese, is tested where users read it (tests/test_i18n.py …)."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _channels_may_reach_the_test_receiver(settings: Any) -> None:
    settings.LOUZHANG_CHANNEL_ALLOW = list(TEST_CHANNEL_ALLOW)


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Rate-limit counters live in the cache: each test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield


# --- the demo city served, one per session, for the browser tests ----------------------------

CHROMIUM = "/usr/bin/chromium"
PHONE = {"width": 390, "height": 844}
#: the served demo's worker rolls the figures up this often (the dashboard's live test waits on it)
SERVED_STATS_REFRESH_SECONDS = 5


class Served:
    def __init__(self, url: str, logins: dict[str, str], env: dict[str, str]) -> None:
        self.url = url
        self.logins = logins
        self.env = env


@pytest.fixture(scope="session")
def server(tmp_path_factory: Any) -> Iterator[Served]:
    """`louzhang init`, `demo`, `worker` and `serve` on a database of their own, once per session:
    the browser tests of every module share it (each test is written to hold whatever the others
    recorded before it)."""
    with isolated_env(tmp_path_factory.mktemp("served")) as env:
        env["LOUZHANG_STATS_REFRESH_SECONDS"] = str(SERVED_STATS_REFRESH_SECONDS)
        assert run_cli(env, "init").returncode == 0
        assert run_cli(env, "demo").returncode == 0
        logins = json.loads((Path(env["LOUZHANG_VAR_DIR"]) / "demo_logins.json").read_text())
        worker = subprocess.Popen([sys.executable, "-m", "louzhang", "worker"], env=env, cwd=ROOT,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            with served(env) as url:
                yield Served(url, logins, env)
        finally:
            worker.terminate()
            worker.wait(timeout=30)


# Playwright's sync API keeps an event loop current in this thread while it runs, and Django
# refuses database access under a running loop: so a module's browser lives as long as the
# module (a launch takes about a second), and browser modules use no database fixture.


@pytest.fixture(scope="module")
def playwright() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Any) -> Iterator[Any]:
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--no-first-run"],
    )
    yield browser
    browser.close()


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    page = context.new_page()
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url)
            if not r.url.startswith(("http://127.0.0.1", "data:", "blob:http://127.0.0.1")) else None)
    yield page
    context.close()
    assert outside == [], f"the page reached outside the server: {outside}"


def log_in(page: Any, server: Served, username: str) -> None:
    page.goto(server.url + "/")
    assert "/accounts/login/" in page.url
    page.fill("#id_username", username)
    page.fill("#id_password", server.logins[username])
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(server.url + "/")
