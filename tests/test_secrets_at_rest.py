"""Channel secrets at rest: a robot's address (its key in the query) and a signing secret are
stored encrypted with the data key, kept outside the database; the worker still delivers with
them; a missing or wrong key is said plainly, and nothing is sent; rotation re-encrypts every
secret with a new key, crash-safe, and the old key then reads nothing."""

from __future__ import annotations

import hashlib
import hmac
import io
import logging
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.core import checks
from django.core.management import call_command
from django.db import connection

from louzhang.accounts.models import User
from louzhang.core import crypto
from louzhang.core.crypto import PREFIX, DataKeyError, check_data_key, read_key_file, write_key_file
from louzhang.notifications.models import Channel, Delivery
from louzhang.notifications.services import DATA_KEY_WAIT, channel_add, channel_test, outbox_sweep
from tests.conftest import DONGHE, InlineWorker, isolated_env, run_cli, web_client
from tests.receiver import Receiver

ROBOT_KEY = "ROBOTKEY-7f3a9c"
WEBHOOK_SECRET = "whsec-42b1e0d9"


@pytest.fixture
def key_file(settings: Any, tmp_path: Path) -> Iterator[Path]:
    """The data key kept in a file of this test's own (made on first need)."""
    path = tmp_path / "data.key"
    settings.LOUZHANG_DATA_KEY = ""
    settings.LOUZHANG_DATA_KEY_FILE = str(path)
    crypto.forget_key()
    yield path
    crypto.forget_key()


def _raw(name: str) -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT url, secret FROM notifications_channel WHERE name = %s", [name])
        url, secret = cursor.fetchone()
    return url, secret


def _channels(receiver: Receiver) -> tuple[Channel, Channel]:
    wecom = channel_add(name="东河区楼长工作群", kind="wecom", area_code=DONGHE, roles=["warden"],
                        url=f"{receiver.url}/cgi-bin/webhook/send?key={ROBOT_KEY}", actor=None)
    hook = channel_add(name="东河区 webhook", kind="webhook", area_code=DONGHE, roles=["warden"],
                       url=f"{receiver.url}/hook", secret=WEBHOOK_SECRET, actor=None)
    return wecom, hook


def _delivered(receiver: Receiver, worker: InlineWorker, *channels: Channel) -> None:
    """A test message on each channel arrives with the channel's own key and signature."""
    receiver.requests.clear()
    deliveries = [channel_test(channel=c) for c in channels]
    worker.run()
    assert [Delivery.objects.get(pk=d.pk).state for d in deliveries] == [Delivery.State.SENT] * len(channels)
    by_path = {r.path: r for r in receiver.requests}
    if "/cgi-bin/webhook/send" in by_path:
        assert by_path["/cgi-bin/webhook/send"].query == {"key": [ROBOT_KEY]}
    if "/hook" in by_path:
        request = by_path["/hook"]
        expected = hmac.new(WEBHOOK_SECRET.encode(), request.headers["X-Louzhang-Timestamp"].encode()
                            + b"." + request.body, hashlib.sha256).hexdigest()
        assert request.headers["X-Louzhang-Signature"] == f"sha256={expected}"
    assert len(receiver.requests) == len(channels)


def test_a_channel_added_on_the_page_is_stored_without_its_key_and_still_delivers(
        key_file: Path, receiver: Receiver, commander: User, worker: InlineWorker) -> None:
    client = web_client(commander)
    response = client.post("/channels/", {
        "name": "东河区 webhook", "kind": "webhook", "url": f"{receiver.url}/hook?token={ROBOT_KEY}",
        "secret": WEBHOOK_SECRET, "area": DONGHE, "roles": ["warden"]})
    assert response.status_code == 302
    url, secret = _raw("东河区 webhook")
    for stored in (url, secret):
        assert stored.startswith(PREFIX)
        assert ROBOT_KEY not in stored and WEBHOOK_SECRET not in stored and "127.0.0.1" not in stored
    # the key was made on first need, for the owner only, outside the database
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    [key] = read_key_file(key_file)
    assert Fernet(key).decrypt(url[len(PREFIX):].encode()).decode() == f"{receiver.url}/hook?token={ROBOT_KEY}"
    # the list shows the address as before: host and path, never the token
    page = client.get("/channels/").content.decode()
    assert f"{receiver.url}/hook?…" in page and ROBOT_KEY not in page and WEBHOOK_SECRET not in page
    channel = Channel.objects.get(name="东河区 webhook")
    assert channel.url == url  # loaded as stored: decrypted only where it is sent
    assert channel.plain_url() == f"{receiver.url}/hook?token={ROBOT_KEY}"
    assert channel.plain_secret() == WEBHOOK_SECRET
    receiver.requests.clear()
    channel_test(channel=channel)
    worker.run()
    [request] = receiver.requests
    assert request.path == "/hook" and request.query == {"token": [ROBOT_KEY]}
    expected = hmac.new(WEBHOOK_SECRET.encode(), request.headers["X-Louzhang-Timestamp"].encode()
                        + b"." + request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Louzhang-Signature"] == f"sha256={expected}"


def test_a_wecom_robot_added_by_service_keeps_its_key_out_of_the_table(
        key_file: Path, receiver: Receiver, worker: InlineWorker, db: None) -> None:
    wecom, hook = _channels(receiver)
    url, secret = _raw(wecom.name)
    assert ROBOT_KEY not in url and "webhook/send" not in url and secret == ""
    assert WEBHOOK_SECRET not in _raw(hook.name)[1]
    # the same secret encrypts differently every time: equal secrets do not show as equal
    assert Channel.objects.get(pk=wecom.pk).plain_url() == wecom.plain_url() == wecom.url
    _delivered(receiver, worker, wecom, hook)


def test_a_missing_key_is_said_plainly_and_nothing_is_sent_nor_a_new_key_made(
        key_file: Path, receiver: Receiver, worker: InlineWorker, db: None,
        caplog: pytest.LogCaptureFixture) -> None:
    wecom, _hook = _channels(receiver)
    key_file.rename(key_file.with_name("elsewhere.key"))
    delivery = channel_test(channel=wecom)
    with caplog.at_level(logging.ERROR, logger="louzhang.notifications"):
        worker.run()
    assert receiver.requests == []
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.PENDING and delivery.attempts == 0
    assert not key_file.exists()  # never a new key while encrypted secrets are stored
    [line] = [r.getMessage() for r in caplog.records if f"delivery {delivery.pk} waits" in r.getMessage()]
    assert f"the key file {key_file} is missing" in line and "LOUZHANG_DATA_KEY_FILE" in line
    assert delivery.last_error == DATA_KEY_WAIT
    [warning] = check_data_key()
    assert warning.id == "louzhang.W101" and warning.level == checks.WARNING
    assert "LOUZHANG_DATA_KEY_FILE" in warning.msg
    loaded = Channel.objects.get(pk=wecom.pk)  # loading needs no key …
    with pytest.raises(DataKeyError, match="is missing, but 3 encrypted secrets are stored"):
        loaded.plain_url()  # … sending does
    # the key put back: the outbox sweep queues the delivery that waited, and it is sent
    key_file.with_name("elsewhere.key").rename(key_file)
    Delivery.objects.filter(pk=delivery.pk).update(enqueued_at=None)
    assert outbox_sweep() == 1
    worker.run()
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.SENT and receiver.requests[0].query == {"key": [ROBOT_KEY]}


def test_a_wrong_key_is_said_plainly_and_nothing_is_sent(
        key_file: Path, receiver: Receiver, worker: InlineWorker, db: None,
        caplog: pytest.LogCaptureFixture) -> None:
    wecom, _hook = _channels(receiver)
    write_key_file(key_file, [Fernet.generate_key().decode()])
    delivery = channel_test(channel=wecom)
    with caplog.at_level(logging.ERROR, logger="louzhang.notifications"):
        worker.run()
    assert receiver.requests == []
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.PENDING and delivery.attempts == 0
    assert any("not the key they were encrypted with" in r.getMessage() for r in caplog.records)
    [warning] = check_data_key()
    assert warning.id == "louzhang.W102" and str(key_file) in warning.msg and "3 of 3" in warning.msg
    write_key_file(key_file, ["not a key"])
    with pytest.raises(DataKeyError, match="not a data key"):
        Channel.objects.get(pk=wecom.pk).plain_url()


def test_rotation_keeps_every_channel_working_and_the_old_key_reads_nothing(
        key_file: Path, receiver: Receiver, worker: InlineWorker, db: None) -> None:
    wecom, hook = _channels(receiver)
    [old] = read_key_file(key_file)
    before = [_raw(wecom.name)[0], *_raw(hook.name)]
    call_command("keys", "rotate", stdout=open(os.devnull, "w"))  # noqa: SIM115
    [new] = read_key_file(key_file)
    assert new != old and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    after = [_raw(wecom.name)[0], *_raw(hook.name)]
    for stored in after:
        assert stored not in before
        with pytest.raises(InvalidToken):
            Fernet(old).decrypt(stored[len(PREFIX):].encode())
        Fernet(new).decrypt(stored[len(PREFIX):].encode())
    _delivered(receiver, worker, wecom, hook)
    assert check_data_key() == []


def test_a_rotation_cut_short_leaves_everything_readable_and_runs_again(
        key_file: Path, receiver: Receiver, worker: InlineWorker, db: None) -> None:
    """The state a rotation killed half-way leaves: the file holds the new key and the old,
    one channel is under the new key, the other under the old."""
    wecom, hook = _channels(receiver)
    [old] = read_key_file(key_file)
    halfway = Fernet.generate_key().decode()
    write_key_file(key_file, [halfway, old])
    url = _raw(wecom.name)[0]
    turned = MultiFernet([Fernet(halfway), Fernet(old)]).rotate(url[len(PREFIX):].encode()).decode()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE notifications_channel SET url = %s WHERE id = %s", [PREFIX + turned, wecom.pk])
    _delivered(receiver, worker, wecom, hook)
    call_command("keys", "rotate", stdout=open(os.devnull, "w"))  # noqa: SIM115
    [final] = read_key_file(key_file)
    assert final not in (old, halfway)
    for stored in [_raw(wecom.name)[0], *_raw(hook.name)]:
        for gone in (old, halfway):
            with pytest.raises(InvalidToken):
                Fernet(gone).decrypt(stored[len(PREFIX):].encode())
    _delivered(receiver, worker, wecom, hook)


def test_a_key_given_in_the_environment_rotates_with_new_key_first(
        settings: Any, receiver: Receiver, worker: InlineWorker, db: None) -> None:
    first = Fernet.generate_key().decode()
    settings.LOUZHANG_DATA_KEY = first
    crypto.forget_key()
    try:
        wecom, hook = _channels(receiver)
        assert Fernet(first).decrypt(_raw(hook.name)[1][len(PREFIX):].encode()).decode() == WEBHOOK_SECRET
        with pytest.raises(Exception, match="put a new key in front"):
            call_command("keys", "rotate", stdout=open(os.devnull, "w"))  # noqa: SIM115
        second = Fernet.generate_key().decode()
        settings.LOUZHANG_DATA_KEY = f"{second},{first}"
        call_command("keys", "rotate", stdout=open(os.devnull, "w"))  # noqa: SIM115
        settings.LOUZHANG_DATA_KEY = second
        for stored in [_raw(wecom.name)[0], *_raw(hook.name)]:
            with pytest.raises(InvalidToken):
                Fernet(first).decrypt(stored[len(PREFIX):].encode())
        _delivered(receiver, worker, wecom, hook)
    finally:
        crypto.forget_key()


def _raw_cli(env: dict[str, str], sql: str) -> list[tuple[Any, ...]]:
    """What the database of a `louzhang` started by the test holds, read around Louzhang."""
    if "DATABASE_URL" in env:
        import psycopg

        with psycopg.connect(env["DATABASE_URL"].replace("postgres://", "postgresql://", 1)) as conn:
            return list(conn.execute(sql).fetchall())
    with sqlite3.connect(Path(env["LOUZHANG_VAR_DIR"]) / "louzhang.sqlite3") as conn:
        return list(conn.execute(sql).fetchall())


def test_init_demo_channels_and_the_key_from_a_fresh_var_dir(tmp_path: Path, db: None) -> None:
    with isolated_env(tmp_path) as env:
        assert run_cli(env, "init").returncode == 0
        demo = run_cli(env, "demo")
        assert demo.returncode == 0, demo.stderr
        key = tmp_path / "data.key"
        assert not key.exists()  # nothing to encrypt yet
        added = run_cli(env, "channel", "add", "九原区工作群", "--kind", "dingtalk", "--area", "150207",
                        "--url", f"http://127.0.0.1:9/robot/send?access_token={ROBOT_KEY}",
                        "--secret-stdin", stdin=WEBHOOK_SECRET + "\n")
        assert added.returncode == 0, added.stderr
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        [(url, secret)] = _raw_cli(env, "SELECT url, secret FROM notifications_channel")
        assert url.startswith(PREFIX) and ROBOT_KEY not in url and WEBHOOK_SECRET not in secret
        listed = run_cli(env, "channel", "list")
        assert "http://127.0.0.1:9/robot/send?…" in listed.stdout and ROBOT_KEY not in listed.stdout
        assert "every stored secret can be read" in run_cli(env, "keys", "check").stdout

        # the data migration, backwards (plain again) and forwards (encrypted again)
        back = run_cli(env, "migrate", "notifications", "0002")
        assert back.returncode == 0, back.stderr
        assert _raw_cli(env, "SELECT url, secret FROM notifications_channel") == [
            (f"http://127.0.0.1:9/robot/send?access_token={ROBOT_KEY}", WEBHOOK_SECRET)]
        assert run_cli(env, "migrate").returncode == 0
        [(url, secret)] = _raw_cli(env, "SELECT url, secret FROM notifications_channel")
        assert url.startswith(PREFIX) and secret.startswith(PREFIX) and ROBOT_KEY not in url

        rotated = run_cli(env, "keys", "rotate")
        assert rotated.returncode == 0, rotated.stderr
        assert "2 secrets re-encrypted" in rotated.stdout

        # the key gone: every command says so, naming the setting, and none makes a new key;
        # the product still runs (only deliveries wait): a warning, not a refusal
        key.rename(tmp_path / "kept-elsewhere.key")
        for command in (["channel", "list"], ["worker", "--once"]):
            warned = run_cli(env, *command)
            assert warned.returncode == 0, warned.stderr
            assert "louzhang.W101" in warned.stderr and "LOUZHANG_DATA_KEY_FILE" in warned.stderr
            assert "Traceback" not in warned.stderr
            assert ROBOT_KEY not in warned.stderr + warned.stdout
        listed = run_cli(env, "channel", "list")
        assert "九原区工作群" in listed.stdout and "127.0.0.1" not in listed.stdout  # unreadable
        refused = run_cli(env, "keys", "check")
        assert refused.returncode != 0 and "LOUZHANG_DATA_KEY_FILE" in refused.stderr
        assert "Traceback" not in refused.stderr
        assert not key.exists()
        # …and given by its path, it works again
        env["LOUZHANG_DATA_KEY_FILE"] = str(tmp_path / "kept-elsewhere.key")
        assert ROBOT_KEY not in run_cli(env, "channel", "list").stdout
        listed = run_cli(env, "channel", "list")
        assert listed.returncode == 0 and "http://127.0.0.1:9/robot/send?…" in listed.stdout
        assert "W10" not in listed.stderr

        # the key lost for good: the secrets are given up, saying which, audited; then a new key
        del env["LOUZHANG_DATA_KEY_FILE"]
        dry = run_cli(env, "keys", "forget-unreadable")
        assert dry.returncode == 0 and "would forget" in dry.stdout and "九原区工作群" in dry.stdout
        assert _raw_cli(env, "SELECT is_active FROM notifications_channel") == [(True,)] or \
            _raw_cli(env, "SELECT is_active FROM notifications_channel") == [(1,)]
        forgot = run_cli(env, "keys", "forget-unreadable", "--yes")
        assert forgot.returncode == 0, forgot.stderr
        assert "2 unreadable secrets blanked; switched off: 九原区工作群" in forgot.stdout
        [(url, secret, active)] = _raw_cli(env, "SELECT url, secret, is_active FROM notifications_channel")
        assert (url, secret, bool(active)) == ("", "", False)
        [(summary,)] = _raw_cli(env, "SELECT summary FROM audit_auditevent WHERE object_type = 'core.data_key' "
                                     "AND summary LIKE 'secrets no key reads%'")
        assert "1 channels switched off" in summary
        checked = run_cli(env, "keys", "check")
        assert checked.returncode == 0 and "encrypted secrets stored: 0" in checked.stdout
        assert "W10" not in checked.stderr
        again = run_cli(env, "channel", "add", "九原区工作群二", "--kind", "wecom", "--area", "150207",
                        "--url", "http://127.0.0.1:9/cgi-bin/webhook/send?key=NEW")
        assert again.returncode == 0, again.stderr
        assert key.exists()  # nothing encrypted was left: a new key is made on first need


def test_a_wrong_key_never_loses_a_fever_at_the_gate_and_the_channels_page_still_shows(
        key_file: Path, gate: User, commander: User, worker: InlineWorker) -> None:
    """Loading a channel needs no key: a gate's fever record is stored whatever the key, and
    only its delivery waits, saying why."""
    from django.utils import timezone

    from louzhang.areas.models import Area
    from louzhang.gates.models import Gate, HouseholdPass
    from tests.conftest import BAOLI, api_for

    channel = Channel.objects.create(name="保利百合工作群", kind="webhook", url="http://127.0.0.1:9/hook",
                                     secret=WEBHOOK_SECRET, area=Area.objects.get(code=BAOLI), roles=[])
    write_key_file(key_file, [Fernet.generate_key().decode()])  # another key: it reads nothing
    gate_ = Gate.objects.filter(compound__code=BAOLI).order_by("pk").first()
    assert gate_ is not None
    card = HouseholdPass.objects.filter(household__path__startswith=gate_.compound.path,
                                        revoked_at__isnull=True).order_by("pk").first()
    assert card is not None
    response = api_for(gate).post("/gate-checks", {
        "client_id": "keys2-fever", "gate": gate_.code, "direction": "in",
        "at": timezone.now().isoformat(), "temperature": 38.6, "pass_code": card.code})
    assert response.status_code in (200, 201), response.content[:300]
    worker.run()
    waiting = list(Delivery.objects.filter(channel=channel))
    assert waiting, "the fever raised no delivery on the compound's channel"
    for delivery in waiting:
        assert delivery.state == Delivery.State.PENDING and delivery.attempts == 0
        assert delivery.last_error == DATA_KEY_WAIT
    page = web_client(commander).get("/channels/")
    assert page.status_code == 200
    assert "保利百合工作群" in page.content.decode() and "127.0.0.1:9" not in page.content.decode()


def test_a_backup_from_before_a_rotation_still_reads_with_the_retired_key(
        key_file: Path, receiver: Receiver, worker: InlineWorker, db: None) -> None:
    wecom, hook = _channels(receiver)
    before = {name: _raw(name) for name in (wecom.name, hook.name)}  # as a backup holds them
    call_command("keys", "rotate", stdout=open(os.devnull, "w"))  # noqa: SIM115
    [old] = read_key_file(crypto.retired_path(key_file))
    assert stat.S_IMODE(crypto.retired_path(key_file).stat().st_mode) == 0o600
    assert old not in read_key_file(key_file)  # the old key never encrypts again
    with connection.cursor() as cursor:  # the backup restored: the values under the old key
        for name, (url, secret) in before.items():
            cursor.execute("UPDATE notifications_channel SET url = %s, secret = %s WHERE name = %s",
                           [url, secret, name])
    assert check_data_key() == []
    _delivered(receiver, worker, wecom, hook)
    # a rotation now re-encrypts them too, and keeps both old keys retired
    call_command("keys", "rotate", stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert old in read_key_file(crypto.retired_path(key_file))
    assert len(read_key_file(crypto.retired_path(key_file))) == 2
    for name in before:
        for stored in _raw(name):
            if stored:
                Fernet(read_key_file(key_file)[0]).decrypt(stored[len(PREFIX):].encode())


def test_the_start_up_check_tries_every_value_not_the_newest_alone(
        key_file: Path, receiver: Receiver, db: None) -> None:
    wecom, hook = _channels(receiver)
    foreign = Fernet(Fernet.generate_key()).encrypt(b"http://127.0.0.1:9/x").decode()
    with connection.cursor() as cursor:  # the OLDER channel under a key nobody has
        cursor.execute("UPDATE notifications_channel SET url = %s WHERE id = %s", [PREFIX + foreign, wecom.pk])
    [warning] = check_data_key()
    assert warning.id == "louzhang.W102" and "1 of 3" in warning.msg
    out = io.StringIO()
    call_command("keys", "forget-unreadable", "--yes", stdout=out)
    assert f"notifications.Channel {wecom.pk} ({wecom.name}), url" in out.getvalue()
    wecom.refresh_from_db()
    hook.refresh_from_db()
    assert (wecom.url, wecom.is_active) == ("", False) and wecom.secret == ""
    assert hook.is_active and hook.plain_secret() == WEBHOOK_SECRET
    assert check_data_key() == []
