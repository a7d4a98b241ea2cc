"""`louzhang` as an operator runs it, each test on a database of its own."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import run_cli, served

pytestmark = pytest.mark.django_db  # for the PostgreSQL connection settings only


def _init_and_demo(env):
    assert run_cli(env, "init").returncode == 0
    result = run_cli(env, "demo")
    assert result.returncode == 0, result.stderr
    return result


def test_init_twice_is_harmless(cli_env):
    first = run_cli(cli_env, "init")
    assert first.returncode == 0, first.stderr
    second = run_cli(cli_env, "init")
    assert second.returncode == 0, second.stderr
    assert "database ready" in second.stdout


def test_init_collects_the_static_files_once_per_release(cli_env):
    """An installation of its own (static files under its var dir): the first `init` collects and
    compresses them, the next finds them up to date, and collects again when they may differ."""
    env = {k: v for k, v in cli_env.items() if k != "LOUZHANG_STATIC_ROOT"}
    static = Path(env["LOUZHANG_VAR_DIR"]) / "static"
    first = run_cli(env, "init")
    assert first.returncode == 0 and "static files collected" in first.stdout, first.stdout + first.stderr
    css = static / "louzhang" / "css" / "louzhang.css"
    assert css.is_file() and css.with_name("louzhang.css.gz").is_file()
    second = run_cli(env, "init")
    assert "static files already up to date" in second.stdout
    (static / ".louzhang-collected").write_text("another release")
    css.unlink()
    third = run_cli(env, "init")
    assert "static files collected" in third.stdout and css.is_file()


def test_demo_twice_creates_nothing_new_and_prints_working_logins(cli_env):
    first = _init_and_demo(cli_env)
    assert re.search(r"created: [1-9]\d* areas", first.stdout)
    second = run_cli(cli_env, "demo")
    assert second.returncode == 0, second.stderr
    assert re.search(r"created: 0 areas, 0 police_units, 0 checkpoints, 0 residents, 0 vehicles, 0 users", second.stdout)
    logins = dict(re.findall(r"^\s+\w+\s+(\w+)\s+(lz-\S+)$", second.stdout, re.M))
    assert set(logins) >= {"commander", "warden", "checkpoint", "gate", "unit_rep", "health"}
    assert logins == dict(re.findall(r"^\s+\w+\s+(\w+)\s+(lz-\S+)$", first.stdout, re.M))
    stored = json.loads((__import__("pathlib").Path(cli_env["LOUZHANG_VAR_DIR"]) / "demo_logins.json").read_text())
    assert stored == logins


def test_city_scale_goes_through_the_import_and_twice_changes_nothing(cli_env):
    run_cli(cli_env, "init")
    small = ("demo", "--scale", "city", "--residents", "3000", "--compounds", "10",
             "--vehicles", "400", "--wardens", "25")
    first = run_cli(cli_env, *small)
    assert first.returncode == 0, first.stderr
    assert "residents: 3,000 read, 3,000 created, 0 updated, 0 unchanged, 0 rejected" in first.stdout
    assert "vehicles: 400 read, 400 created, 0 rejected" in first.stdout
    assert "wardens: 25 new" in first.stdout
    again = run_cli(cli_env, *small)
    assert "residents: 3,000 read, 0 created, 0 updated, 3,000 unchanged, 0 rejected" in again.stdout
    assert "wardens: 0 new" in again.stdout
    token = run_cli(cli_env, "token", "create", "bt-warden-0003").stdout.strip()
    with served(cli_env) as url:  # a synthetic warden sees their own buildings through the API
        request = urllib.request.Request(f"{url}/api/v1/areas", headers={"Authorization": f"Bearer {token}"})
        items = json.loads(urllib.request.urlopen(request).read())["items"]
    assert items and all(item["level"] == "building" for item in items)
    bad = run_cli(cli_env, "demo", "--scale", "city", "--residents", "0")
    assert bad.returncode != 0 and len(bad.stderr.strip().splitlines()) == 1


def test_user_create_and_token_create_prints_only_the_token(cli_env):
    _init_and_demo(cli_env)
    created = run_cli(cli_env, "user", "create", "lv", "--role", "warden",
                      "--area", "150207001001001-7", "--area", "150207001001001-8",
                      "--password-stdin", stdin="a-long-secret-77\n")
    assert created.returncode == 0, created.stderr
    token = run_cli(cli_env, "token", "create", "lv")
    assert token.returncode == 0
    assert re.fullmatch(r"lz_[A-Za-z0-9_-]{40,}\n", token.stdout), token.stdout
    assert token.stderr == ""
    listing = run_cli(cli_env, "token", "list", "lv")
    assert listing.stdout.count("active") == 1


def test_token_works_against_the_served_api(cli_env):
    """The integrator's path: token from the CLI, areas from the API of `louzhang serve`."""
    import urllib.request

    _init_and_demo(cli_env)
    token = run_cli(cli_env, "token", "create", "warden_jy").stdout.strip()
    with served(cli_env) as url:
        request = urllib.request.Request(url + "/api/v1/areas", headers={"Authorization": f"Bearer {token}"})
        body = json.loads(urllib.request.urlopen(request, timeout=5).read())
        assert [i["name"] for i in body["items"]] == [f"{n}号楼" for n in range(1, 7)]
        # static files are served by the app itself
        assert urllib.request.urlopen(url + "/static/louzhang/css/louzhang.css", timeout=5).status == 200


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["user", "create", "x1", "--role", "mayor", "--area", "150202"], "invalid choice: 'mayor'"),
        (["user", "create", "x2", "--role", "warden", "--area", "999999"], "unknown area code: 999999"),
        (["user", "create", "x3", "--role", "warden"], "--area"),
        (["token", "create", "ghost"], "unknown user 'ghost'"),
        (["serve", "--port", "0"], "--port 0"),
    ],
)
def test_bad_arguments_give_one_line_and_no_user(cli_env, args, message):
    assert run_cli(cli_env, "init").returncode == 0
    result = run_cli(cli_env, *args)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    check = run_cli(cli_env, "shell", "-c",
                    "from louzhang.accounts.models import User;"
                    "print(User.objects.filter(username__in=['x1','x2','x3']).count())")
    assert check.stdout.strip().splitlines()[-1] == "0"


def test_duplicate_user_is_refused(cli_env):
    _init_and_demo(cli_env)
    result = run_cli(cli_env, "user", "create", "warden", "--role", "warden", "--area", "150202")
    assert result.returncode == 1 and "already exists" in result.stderr


def test_weak_password_is_refused(cli_env):
    _init_and_demo(cli_env)
    result = run_cli(cli_env, "user", "create", "weak", "--role", "gate", "--area", "150202001001001",
                     "--password-stdin", stdin="123\n")
    assert result.returncode == 1 and "password" in result.stderr


def test_bad_configuration_is_one_line(cli_env):
    env = dict(cli_env, DEBUG="ture")
    result = run_cli(env, "init")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "louzhang: configuration error: DEBUG='ture': expected one of 1/0, true/false, yes/no, on/off"
    )


def test_serve_refuses_an_uninitialised_database(cli_env):
    result = run_cli(cli_env, "serve", "--port", "8999")
    assert result.returncode == 1 and "louzhang init" in result.stderr


def test_secret_key_is_generated_once_and_kept(cli_env):
    from pathlib import Path

    run_cli(cli_env, "init")
    key_file = Path(cli_env["LOUZHANG_VAR_DIR"]) / "secret_key"
    key = key_file.read_text()
    assert len(key) >= 50 and oct(key_file.stat().st_mode)[-3:] == "600"
    run_cli(cli_env, "init")
    assert key_file.read_text() == key


def test_demo_never_resets_a_changed_password(cli_env):
    _init_and_demo(cli_env)
    changed = run_cli(cli_env, "shell", "-c",
                      "from louzhang.accounts.models import User;"
                      "u=User.objects.get(username='warden');u.set_password('operator-chose-this-1');u.save()")
    assert changed.returncode == 0, changed.stderr
    again = run_cli(cli_env, "demo")
    assert re.search(r"warden\s+\(password changed", again.stdout)
    check = run_cli(cli_env, "shell", "-c",
                    "from louzhang.accounts.models import User;"
                    "print(User.objects.get(username='warden').check_password('operator-chose-this-1'))")
    assert check.stdout.strip().splitlines()[-1] == "True"


def test_revoke_twice_says_so(cli_env):
    _init_and_demo(cli_env)
    token = run_cli(cli_env, "token", "create", "gate").stdout.strip()
    assert run_cli(cli_env, "token", "revoke", token[:10]).returncode == 0
    again = run_cli(cli_env, "token", "revoke", token[:10])
    assert again.returncode == 1 and "already revoked" in again.stderr


def test_invalid_username_is_one_line(cli_env):
    _init_and_demo(cli_env)
    result = run_cli(cli_env, "user", "create", "a b/<x>", "--role", "gate", "--area", "150202")
    assert result.returncode == 1
    assert "username" in result.stderr and len(result.stderr.strip().splitlines()) == 1
