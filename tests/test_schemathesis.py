"""The OpenAPI document is true to the code: schemathesis generates requests from the live
document — valid ones and hostile ones — against `louzhang serve` on the demo city, with every
check on (no 5xx, every answer's status, content type, headers and body as documented, bad
input refused, auth not ignored), for a bounded time. Every operation in the document is
covered, whatever app adds it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import isolated_env, run_cli, served

#: seconds of generated requests per token (two tokens: a city commander, who reaches every
#: endpoint with the widest jurisdiction, and a warden, whose jurisdiction is a few buildings)
BUDGET = {"commander": 30, "warden": 15}
#: what the checks expect where JSON Schema cannot say it (read it: it says why)
CONFIG = Path(__file__).with_name("schemathesis.toml")


@pytest.fixture(scope="module")
def server(tmp_path_factory: Any) -> Iterator[tuple[str, dict[str, str]]]:
    with isolated_env(tmp_path_factory.mktemp("var")) as env:
        # the generated requests come fast from one address: the rate limits are not under test
        env.update(LOUZHANG_API_RATE_USER="1000000/m", LOUZHANG_API_RATE_ANON="1000000/m")
        assert run_cli(env, "init").returncode == 0
        assert run_cli(env, "demo").returncode == 0
        tokens = {user: run_cli(env, "token", "create", user).stdout.strip() for user in BUDGET}
        with served(env, workers=2) as url:
            yield url, tokens


def _st() -> str:
    found = shutil.which("st", path=str(Path(sys.executable).parent))
    assert found, "schemathesis is a dev dependency (pip install -e '.[dev]')"
    return found


@pytest.mark.parametrize("user", list(BUDGET))
def test_every_operation_answers_as_the_document_says(server: tuple[str, dict[str, str]], user: str,
                                                      tmp_path: Path) -> None:
    url, tokens = server
    document = json.loads(urllib.request.urlopen(f"{url}/api/v1/openapi.json", timeout=10).read())
    assert len(document["paths"]) >= 15
    result = subprocess.run(
        [_st(), "--config-file", str(CONFIG), "run", f"{url}/api/v1/openapi.json", "--checks", "all",
         "--header", f"Authorization: Bearer {tokens[user]}",
         "--max-time", str(BUDGET[user]), "--workers", "2", "--request-timeout", "30",
         "--seed", "2020", "--suppress-health-check", "all", "--no-color",
         "--generation-database", "none"],
        capture_output=True, text=True, timeout=BUDGET[user] * 4 + 120, cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "SCHEMATHESIS_HOOKS": ""},
    )
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
