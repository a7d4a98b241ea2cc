"""The secret key made on first start: processes starting at once (a server beside a worker)
all get the one same, whole key; a key file found empty is an error, never an empty key."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import pytest

from louzhang.env import ConfigurationError, secret_key_kept_in
from tests.conftest import ROOT


def _start(barrier: multiprocessing.synchronize.Barrier, path: str, out: multiprocessing.Queue) -> None:
    barrier.wait()
    try:
        out.put(secret_key_kept_in(Path(path)))
    except Exception as exc:  # noqa: BLE001 - reported to the test
        out.put(f"error: {exc!r}")


def test_processes_starting_at_once_all_read_the_same_whole_key(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    for attempt in range(15):
        path = tmp_path / f"var{attempt}" / "secret_key"
        path.parent.mkdir()
        barrier = context.Barrier(8)
        out: multiprocessing.Queue = context.Queue()
        processes = [context.Process(target=_start, args=(barrier, str(path), out)) for _ in range(8)]
        for p in processes:
            p.start()
        keys = [out.get(timeout=30) for _ in processes]
        for p in processes:
            p.join(timeout=30)
        assert len(set(keys)) == 1, keys
        assert len(keys[0]) >= 60 and not keys[0].startswith("error")
        assert path.read_text(encoding="ascii") == keys[0]
        assert os.stat(path).st_mode & 0o777 == 0o600
        assert [p.name for p in path.parent.iterdir()] == ["secret_key"]  # no temporary left


def test_a_server_and_workers_started_together_share_the_key(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "SECRET_KEY_FILE")}
    env["LOUZHANG_VAR_DIR"] = str(tmp_path)
    env["DJANGO_SETTINGS_MODULE"] = "louzhang.settings"
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    started = [subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(6)]
    results = [p.communicate(timeout=120) for p in started]
    assert all(p.returncode == 0 for p in started), [err for _, err in results]
    keys = {out.strip() for out, _ in results}
    assert len(keys) == 1 and len(keys.pop()) >= 60
    assert (tmp_path / "secret_key").stat().st_size > 0


def test_the_key_once_made_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "secret_key"
    first = secret_key_kept_in(path)
    assert secret_key_kept_in(path) == first


@pytest.mark.parametrize("content", ["", "\n", "short"])
def test_an_empty_or_short_key_file_is_an_error_not_a_key(tmp_path: Path, content: str) -> None:
    path = tmp_path / "secret_key"
    path.write_text(content, encoding="ascii")
    with pytest.raises(ConfigurationError, match="secret key file .*delete it"):
        secret_key_kept_in(path)
    assert path.read_text(encoding="ascii") == content  # left for the operator to look at


def test_a_server_refuses_to_start_on_an_empty_key_file(tmp_path: Path) -> None:
    (tmp_path / "secret_key").touch()
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "SECRET_KEY_FILE")}
    env["LOUZHANG_VAR_DIR"] = str(tmp_path)
    env["DJANGO_SETTINGS_MODULE"] = "louzhang.settings"
    run = subprocess.run([sys.executable, "-c", "from django.conf import settings; settings.SECRET_KEY"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode != 0 and "holds nothing" in run.stderr
