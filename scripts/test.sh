#!/usr/bin/env bash
# The whole test suite, on SQLite and then on PostgreSQL, with lint and migration checks.
# Installs what it needs (Python packages, Debian chromium) and starts PostgreSQL and Redis if down.
set -euo pipefail
cd "$(dirname "$0")/.."

EXTRAS="[dev]" . scripts/_venv.sh

# A real browser for the UI tests: Debian's chromium, driven by Playwright.
if [ ! -x /usr/bin/chromium ]; then
  echo "test.sh: installing Debian chromium for the browser tests"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

# PostgreSQL and Redis on this machine: start them if they are down.
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  echo "test.sh: starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
if command -v redis-cli >/dev/null && ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "test.sh: starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi

VAR=$(mktemp -d)
trap 'rm -rf "$VAR"' EXIT
export LOUZHANG_VAR_DIR="$VAR"

echo "== lint"
.venv/bin/ruff check louzhang tests bench scripts
echo "== import contract (layers)"
.venv/bin/lint-imports --no-cache
echo "== type check"
.venv/bin/mypy
echo "== migrations are complete"
.venv/bin/louzhang makemigrations --check --dry-run >/dev/null

PG_URL="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/louzhang}"
# The two databases' runs go side by side (each keeps one core busy most of the time; much of a
# run is waiting on servers, browsers and databases), each with a var dir and a log of its own.
mkdir -p "$VAR/sqlite" "$VAR/postgresql"
echo "== tests on SQLite and on PostgreSQL ($PG_URL), side by side"
start=$(date +%s)
(rc=0; env -u DATABASE_URL LOUZHANG_VAR_DIR="$VAR/sqlite" .venv/bin/pytest -p no:cacheprovider "$@" \
  > "$VAR/sqlite.log" 2>&1 || rc=$?; echo $rc > "$VAR/sqlite.rc") &
(rc=0; DATABASE_URL="$PG_URL" LOUZHANG_VAR_DIR="$VAR/postgresql" .venv/bin/pytest -p no:cacheprovider "$@" \
  > "$VAR/postgresql.log" 2>&1 || rc=$?; echo $rc > "$VAR/postgresql.rc") &
wait
status=0
for db in sqlite postgresql; do
  echo "== tests on $db: exit $(cat "$VAR/$db.rc")"
  cat "$VAR/$db.log"
  [ "$(cat "$VAR/$db.rc")" = 0 ] || status=1
done
echo "== both databases in $(( ($(date +%s) - start) / 60 )) min $(( ($(date +%s) - start) % 60 )) s"
exit $status
