"""Several server processes writing to the embedded SQLite database at once never fail with
"database is locked" (WAL, busy timeout, BEGIN IMMEDIATE)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT, run_cli

WRITER = """
import os, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "louzhang.settings")
django.setup()
from django.db import transaction
from louzhang.audit.models import AuditEvent
from louzhang.audit.services import audit_record
from louzhang.accounts.models import ApiToken, User
me = os.environ["WRITER"]
for i in range(int(os.environ["ROUNDS"])):
    # read, then write, in one transaction: under deferred transactions this is the pattern that
    # fails at once with "database is locked" when another process wrote in between
    with transaction.atomic():
        seen = AuditEvent.objects.filter(actor_username=me).count()
        audit_record(actor=None, action="export", object_type="bench", summary=f"{me} {seen}")
        User.objects.filter(username="warden").update(last_login=None)
print("ok")
"""


@pytest.mark.django_db
def test_parallel_writers_all_succeed(cli_env):
    cli_env.pop("DATABASE_URL", None)  # this is about the embedded database whatever the suite runs on
    assert run_cli(cli_env, "init").returncode == 0
    assert run_cli(cli_env, "demo").returncode == 0
    writers, rounds = 6, 60
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER], cwd=ROOT, text=True,
                         env=dict(cli_env, WRITER=f"w{n}", ROUNDS=str(rounds)),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for n in range(writers)
    ]
    outcomes = [p.communicate(timeout=300) for p in procs]
    for proc, (out, err) in zip(procs, outcomes, strict=True):
        assert proc.returncode == 0 and out.strip() == "ok", err[-2000:]
        assert "database is locked" not in err
    count = run_cli(cli_env, "shell", "-c",
                    "from louzhang.audit.models import AuditEvent;"
                    "print(AuditEvent.objects.filter(object_type='bench').count())")
    assert count.stdout.strip().splitlines()[-1] == str(writers * rounds)
