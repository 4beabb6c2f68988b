#!/usr/bin/env bash
# The load run of the reliability baseline (not part of `make test`): 100 concurrent users for 60 s
# against the production setup (gunicorn, 4 workers, PostgreSQL, demo data), zero errors expected.
# Usage: bench/load.sh [duration, default 60s] [connections, default 100]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-60s}
CONNECTIONS=${2:-100}
ADMIN_URL=${TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/postgres}
DB=supportdesk_load_$$
PORT=${PORT:-5099}
command -v wrk >/dev/null || { echo "wrk is required (apt-get install wrk)"; exit 2; }
psql "$ADMIN_URL" -qc "CREATE DATABASE $DB"
export DATABASE_URL="${ADMIN_URL%/*}/$DB" SUPPORTDESK_ENV=production SUPPORTDESK_INSTANCE=$(mktemp -d)
export SECRET_KEY=$(python3 -c "import secrets; print(secrets.token_urlsafe(48))")
cleanup() { [ -n "${GUNICORN_PID:-}" ] && kill "$GUNICORN_PID" 2>/dev/null; sleep 1; psql "$ADMIN_URL" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)"; }
trap cleanup EXIT
.venv/bin/flask --app supportdesk.app:create_app db upgrade >/dev/null 2>&1
.venv/bin/flask --app supportdesk.app:create_app seed-demo >/dev/null
.venv/bin/gunicorn --workers 4 --bind 127.0.0.1:$PORT --log-level warning "supportdesk.app:create_app()" &
GUNICORN_PID=$!
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
export SD_TOKEN=$(curl -sf -X POST "http://127.0.0.1:$PORT/api/v1/tokens" -H 'Content-Type: application/json' \
  -d '{"email": "tech@example.com", "password": "demo1234", "name": "load"}' | python3 -c "import sys,json; print(json.load(sys.stdin)['token'])")
export SD_FIRST_TICKET=1001 SD_TICKETS=300
echo "load: $CONNECTIONS connections for $DURATION against gunicorn (4 workers) on PostgreSQL"
wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --timeout 10s -s bench/mixed.lua "http://127.0.0.1:$PORT" | tail -1
