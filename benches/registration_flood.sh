#!/usr/bin/env bash
# The hardening issue's figure: an authenticated read's latency (GET /v1/me, one connection)
# alone and while many clients flood registration (each one an argon2 hash). Hashing runs on a
# bounded queue holding no database connection, so the read should barely move; a full queue
# answers 503 with Retry-After. The registration limit per address and the rate limits are off
# here, so the flood reaches the hashing queue. Prints Markdown rows: what | rate | p50 ms |
# p99 ms | answers. Usage: benches/registration_flood.sh [FLOOD_CONNS ...] (default 32 128).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PORT=${PORT:-18790}
BASE="http://127.0.0.1:$PORT"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release --locked --quiet
BIN="$ROOT/target/release/soleus-api"
WORK=$(mktemp -d)
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

SOLEUS_PORT=$PORT SOLEUS_DATA_DIR="$WORK/data" RUST_LOG=error SOLEUS_REGISTRATIONS_PER_ADDRESS=100000000 \
  SOLEUS_RATE_LIMIT_READ=0 SOLEUS_RATE_LIMIT_WRITE=0 SOLEUS_RATE_LIMIT_AUTH=0 SOLEUS_RATE_LIMIT_EXPENSIVE=0 \
  "$BIN" >>"$WORK/server.log" 2>&1 &
PID=$!
for _ in $(seq 1 100); do curl -fs "$BASE/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fs -o /dev/null -H 'Content-Type: application/json' \
  -d '{"email": "reader@example.com", "password": "calves of steel 2026"}' "$BASE/v1/auth/register"
TOKEN=$(curl -fs -H 'Content-Type: application/json' \
  -d '{"email": "reader@example.com", "password": "calves of steel 2026"}' "$BASE/v1/auth/token" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

read_row() { NAME="$1" TOKEN="$TOKEN" wrk -t1 -c1 -d10s -s "$ROOT/benches/wrk_report.lua" "$BASE/v1/me" | grep '^| '; }

echo "| what | rate | p50 ms | p99 ms | answers / errors |"
echo "|---|---|---|---|---|"
read_row "GET /v1/me alone (1 connection)"
for conns in "${@:-32 128}"; do
  for c in $conns; do
    NAME="POST /v1/auth/register flood, $c connections" wrk -t2 -c"$c" -d14s --timeout 10s \
      -s "$ROOT/benches/wrk_register.lua" "$BASE/v1/auth/register" | grep '^| ' &
    FLOOD=$!
    sleep 2
    read_row "GET /v1/me during the $c-connection flood"
    wait "$FLOOD"
  done
done
