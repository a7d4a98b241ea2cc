#!/usr/bin/env bash
# Set up and run Louzhang on the embedded default: SQLite under var/, demo city loaded, server up.
#   scripts/run.sh [--host 0.0.0.0] [--port 8000]
set -euo pipefail
cd "$(dirname "$0")/.."

EXTRAS="" . scripts/_venv.sh

.venv/bin/louzhang init
.venv/bin/louzhang demo
# the background worker (deliveries, imports, exports, escalations) runs beside the server and
# stops with it
.venv/bin/louzhang worker &
WORKER=$!
trap 'kill "$WORKER" 2>/dev/null; wait "$WORKER" 2>/dev/null' EXIT INT TERM
echo "louzhang: open http://${LOUZHANG_PUBLIC_HOST:-127.0.0.1}:${PORT:-8000}/ and log in with one of the demo log-ins above"
.venv/bin/louzhang serve --port "${PORT:-8000}" "$@"
