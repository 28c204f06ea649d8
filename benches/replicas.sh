#!/usr/bin/env bash
# Scale-out on PostgreSQL: single-session POST with 1 and 1,000 users through 1, 2 and 3
# replicas, batch ingest, and the database's own ceiling measured the same way on the same box
# (pgbench, one-row insert per transaction). Prints Markdown tables.
#
#   benches/replicas.sh                       # about 4 minutes on 2 cores after the build
#   DURATION=20s CONNS=32 benches/replicas.sh
#   REPLICAS="1 3" USERS=1000 BATCH=0 benches/replicas.sh   # a subset
#   FOLLOW=0 benches/replicas.sh              # without the feed follower's run
#   WORKERS=2 POOL=8 benches/replicas.sh      # per replica (default: the cores split between
#                                             # the replicas, at least 1; pool 8)
#
# Needs: wrk, pgbench, psql, python3, and PostgreSQL at PG_URL whose user may create databases.
# Closed loop: wrk, every replica and PostgreSQL share the machine's cores, so these are the
# rates this box sustains with all of them on it. With several replicas, one wrk per replica
# runs at once (threads and connections split between them); rates are summed, p99 is the
# worst of them.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
DURATION=${DURATION:-10s}
CONNS=${CONNS:-16}
PG_URL=${PG_URL-postgres://postgres:postgres@127.0.0.1:5432/postgres}
BASE_PORT=${BASE_PORT:-18180}
CLIENT="python3 $ROOT/benches/load_client.py"

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release --locked --quiet
BIN="$ROOT/target/release/soleus-api"
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done; rm -rf "$WORK"; }
trap cleanup EXIT

DB=soleus_replicas
psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null
DB_URL="${PG_URL%/*}/$DB"

start() { # $1: replicas
  local workers=${WORKERS:-$(( $(nproc) / $1 > 0 ? $(nproc) / $1 : 1 ))}
  for n in $(seq 0 $(( $1 - 1 ))); do
    SOLEUS_PORT=$(( BASE_PORT + n )) SOLEUS_DATA_DIR="$WORK/data" DATABASE_URL="$DB_URL" RUST_LOG=warn \
      SOLEUS_WORKERS=$workers SOLEUS_DB_POOL_SIZE=${POOL:-8} SOLEUS_REGISTRATIONS_PER_ADDRESS=1000000 \
      SOLEUS_LOGIN_FAILURES_PER_ADDRESS=1000000 SOLEUS_RATE_LIMIT_READ=0 SOLEUS_RATE_LIMIT_WRITE=0 SOLEUS_RATE_LIMIT_AUTH=0 SOLEUS_RATE_LIMIT_EXPENSIVE=0 SOLEUS_MAX_SESSIONS_PER_DAY=0 "$BIN" >>"$WORK/server.log" 2>&1 &
    PIDS+=($!)
    # The first start creates the signing key the others share.
    for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$(( BASE_PORT + n ))/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
  done
}

stop() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  PIDS=()
}

post_run() { # $1: label, $2: replicas, $3: tokens file
  local waits=() n threads conns
  threads=$(( 2 / $2 > 0 ? 2 / $2 : 1 )); conns=$(( CONNS / $2 > 0 ? CONNS / $2 : 1 ))
  for n in $(seq 0 $(( $2 - 1 ))); do
    TOKENS_FILE="$3" BODY_FILE="$WORK/session.json" wrk -t"$threads" -c"$conns" -d"$DURATION" \
      -s "$ROOT/benches/wrk_tokens.lua" "http://127.0.0.1:$(( BASE_PORT + n ))/v1/me/sessions" \
      | tail -1 >"$WORK/wrk.$n" &
    waits+=($!)
  done
  wait "${waits[@]}"
  python3 - "$1" "$WORK"/wrk.* <<'PY'
import sys
rows = [list(map(float, open(f).read().split())) for f in sys.argv[2:]]
rate = sum(r[0] for r in rows); p50 = max(r[1] for r in rows); p99 = max(r[2] for r in rows)
errors = int(sum(r[3] for r in rows))
print(f"| {sys.argv[1]} | {rate:,.0f} req/s | {p50:.2f} | {p99:.2f} | {errors} |")
PY
  rm -f "$WORK"/wrk.*
}

cat >"$WORK/session.json" <<'JSON'
{"started_at": "2026-12-07T07:30:00+01:00", "duration_seconds": 1500, "rpe": 6, "pain_during": 1,
 "sets": [{"exercise_id": "single-leg-bent-knee-heel-raise", "set_number": 1, "side": "left", "reps": 15},
          {"exercise_id": "single-leg-bent-knee-heel-raise", "set_number": 1, "side": "right", "reps": 15}]}
JSON

echo "# soleus-api replica run — $(date -u +%F) — commit $(git rev-parse --short HEAD)"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); wrk $CONNS connections in all, $DURATION per run"
echo

# The database's own ceiling: one-row inserts, one per transaction, same connection count.
psql "$DB_URL" -qc "CREATE TABLE IF NOT EXISTS pgbench_ceiling (id bigserial PRIMARY KEY, v text)" >/dev/null
echo "INSERT INTO pgbench_ceiling (v) VALUES ('x');" >"$WORK/insert.sql"
CEILING=$(pgbench -n -c "$CONNS" -j 2 -T "${DURATION%s}" -f "$WORK/insert.sql" "$DB_URL" 2>/dev/null \
  | awk '/^tps/ {print int($3)}')
psql "$DB_URL" -qc "DROP TABLE pgbench_ceiling" >/dev/null
echo "pgbench ceiling (one-row INSERT per transaction, $CONNS clients): **$CEILING tps**"
echo
echo "| single-session POST | rate | p50 ms | p99 ms | errors |"
echo "|---|---|---|---|---|"
start 1
export BASE="http://127.0.0.1:$BASE_PORT"
$CLIENT tokens 1 >"$WORK/tokens.1"
$CLIENT tokens 1000 >"$WORK/tokens.1000"
stop
for replicas in ${REPLICAS:-1 2 3}; do
  start "$replicas"
  for users in ${USERS:-1 1000}; do
    post_run "$replicas replica(s), $users user(s)" "$replicas" "$WORK/tokens.$users"
  done
  stop
done
# Correctness under load: one user's creates through all three replicas while a follower reads
# that user's feed through the first; at the end it must hold exactly the stored sessions and
# versions (no skip, no duplicate, no change at an older version). Its own run, so its reads do
# not count against the rates above.
if [ "${FOLLOW:-1}" = 1 ]; then
  echo
  echo "| feed follower during the load | sessions stored | sessions followed | stale or repeated changes | identical |"
  echo "|---|---|---|---|---|"
  start 3
  me=$($CLIENT whoami "$(cat "$WORK/tokens.1")")
  $CLIENT follow "$(cat "$WORK/tokens.1")" "$WORK/stop" "$WORK/followed" 2>"$WORK/follower.log" &
  follower=$!
  post_run "3 replica(s), 1 user(s), feed followed meanwhile" 3 "$WORK/tokens.1" >"$WORK/followed_run"
  touch "$WORK/stop"
  follower_rc=0; wait "$follower" || follower_rc=$?
  stop
  psql "$DB_URL" -Atc "SELECT id || ' ' || version FROM sessions WHERE user_id = '$me'" | LC_ALL=C sort >"$WORK/stored"
  LC_ALL=C sort -o "$WORK/followed" "$WORK/followed"
  same=no; cmp -s "$WORK/stored" "$WORK/followed" && [ "$follower_rc" = 0 ] && same=yes
  stale=$(sed -n 's/.* \([0-9]*\) stale.*/\1/p' "$WORK/follower.log")
  echo "| 1 user through 3 replicas for $DURATION ($(cut -d'|' -f3 "$WORK/followed_run" | xargs)), follower on replica 1 | $(wc -l <"$WORK/stored") | $(wc -l <"$WORK/followed") | ${stale:-?} | $same |"
  [ "$same" = yes ] || { echo "the follower's set differs from the stored one:" >&2; cat "$WORK/follower.log" >&2; diff "$WORK/stored" "$WORK/followed" | head >&2; exit 1; }
fi

[ "${BATCH:-1}" = 1 ] || exit 0
echo
echo "| batch ingest | rate | p50 ms | p99 ms | errors |"
echo "|---|---|---|---|---|"
start 1
$CLIENT ingest "$(sed -n 1p "$WORK/tokens.1000")"
# Partner platforms sync many users at once: two clients, two users, batches in parallel.
$CLIENT ingest "$(sed -n 2p "$WORK/tokens.1000")" "$(sed -n 3p "$WORK/tokens.1000")"
stop
