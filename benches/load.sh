#!/usr/bin/env bash
# Load test of the release binary on loopback, first on a fresh SQLite file, then on PostgreSQL.
# Prints one Markdown table row per measurement: what | rate | p50 ms | p99 ms | errors.
#
#   benches/load.sh                      # everything (about 6 minutes on 2 cores after the build)
#   PG_URL= benches/load.sh              # SQLite only
#   SCALE=0 benches/load.sh              # skip the 1,000,000-session scale check
#   CEILING=0 benches/load.sh            # skip the nginx static-file ceiling of catalogue reads
#   THROUGHPUT=0 SCALE=0 benches/load.sh # the ceiling only
#   DURATION=30s CONNS=64 benches/load.sh
#
# Needs: a Rust toolchain, python3, wrk (installed with apt-get when missing), and for the
# PostgreSQL part a server reachable at PG_URL (default postgres://postgres:postgres@127.0.0.1:5432/postgres)
# whose user may create databases. wrk is closed-loop: the rates are what 2 threads x CONNS
# connections sustain while sharing the machine's cores with the server.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
DURATION=${DURATION:-10s}
CONNS=${CONNS:-16}
THREADS=${THREADS:-2}
SCALE=${SCALE:-1}
CEILING=${CEILING:-1}
THROUGHPUT=${THROUGHPUT:-1}
ROUNDS=${ROUNDS:-3}
NGINX_PORT=${NGINX_PORT:-18090}
PG_URL=${PG_URL-postgres://postgres:postgres@127.0.0.1:5432/postgres}
PORT=${PORT:-18080}
export BASE="http://127.0.0.1:$PORT"
CLIENT="python3 $ROOT/benches/load_client.py"

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
if [ "$CEILING" = 1 ] && ! command -v nginx >/dev/null; then
  apt-get update -qq && apt-get install -y -qq nginx-light >/dev/null
fi
cargo build --release --locked --quiet
BIN="$ROOT/target/release/soleus-api"

WORK=$(mktemp -d)
PID=
NGINX_PID=
cleanup() {
  [ -n "$PID" ] && kill "$PID" 2>/dev/null
  [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

start() { # $1: DATABASE_URL ("" = SQLite in $WORK/data)
  SOLEUS_PORT=$PORT SOLEUS_DATA_DIR="$WORK/data" DATABASE_URL="${1:-$WORK/data/soleus.db}" RUST_LOG=warn \
    SOLEUS_LOGIN_FAILURES_PER_ADDRESS=1000000 SOLEUS_RATE_LIMIT_READ=0 SOLEUS_RATE_LIMIT_WRITE=0 SOLEUS_RATE_LIMIT_AUTH=0 SOLEUS_RATE_LIMIT_EXPENSIVE=0 SOLEUS_MAX_SESSIONS_PER_DAY=0 "$BIN" >>"$WORK/server.log" 2>&1 &
  PID=$!
  for _ in $(seq 1 100); do curl -fs "$BASE/readyz" >/dev/null 2>&1 && return; sleep 0.2; done
  echo "server did not start:" >&2; cat "$WORK/server.log" >&2; exit 1
}

stop() { # prints the server's peak resident memory
  local peak
  peak=$(awk '/VmHWM/ {print $2}' "/proc/$PID/status")
  kill "$PID"; wait "$PID" 2>/dev/null || true; PID=
  echo "| server peak memory (VmHWM) | $((peak / 1024)) MB | | | |"
}

fresh_pg() { # a new, empty database; prints its URL
  local db=soleus_load
  psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
  echo "${PG_URL%/*}/$db"
}

wrk_run() { # NAME PATH [env: METHOD BODY_FILE TOKEN INM]
  NAME="$1" wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" -s "$ROOT/benches/wrk_report.lua" "$BASE$2" | grep '^| '
}

cat >"$WORK/preview.json" <<'JSON'
{"age": 28, "activity_level": "trained", "goals": ["runner_endurance"], "sex": "female", "body_mass_kg": 60,
 "equipment": ["step", "free_weight"], "days_per_week": 3, "weeks": 12, "start_date": "2026-12-07",
 "baseline_heel_raise": {"left": 31, "right": 32},
 "screening": {"chest_pain": false, "dizziness_or_fainting": false, "calf_swelling_warmth_redness": false, "acute_calf_strain": false}}
JSON
cat >"$WORK/session.json" <<'JSON'
{"started_at": "2026-12-07T07:30:00+01:00", "duration_seconds": 1500, "rpe": 6, "pain_during": 1,
 "sets": [{"exercise_id": "single-leg-bent-knee-heel-raise", "set_number": 1, "side": "left", "reps": 15, "completed": true},
          {"exercise_id": "single-leg-bent-knee-heel-raise", "set_number": 1, "side": "right", "reps": 15, "completed": true}]}
JSON

throughput() { # $1: engine label, $2: DATABASE_URL
  echo
  echo "### $1 — $THREADS wrk threads x $CONNS connections, $DURATION per run"
  echo
  echo "| what | rate | p50 ms | p99 ms | errors |"
  echo "|---|---|---|---|---|"
  rm -rf "$WORK/data"
  start "$2"
  local token etag
  token=$($CLIENT login "load-$RANDOM@example.com")
  wrk_run "GET /v1/exercises?limit=100 (all 30)" "/v1/exercises?limit=100"
  wrk_run "GET /v1/exercises/{id}" "/v1/exercises/seated-soleus-raise-loaded"
  etag=$(curl -fsS -D - -o /dev/null "$BASE/v1/exercises/seated-soleus-raise-loaded" | awk 'tolower($1)=="etag:" {print $2}' | tr -d '\r')
  INM="$etag" wrk_run "GET /v1/exercises/{id} + If-None-Match (304)" "/v1/exercises/seated-soleus-raise-loaded"
  METHOD=POST BODY_FILE="$WORK/preview.json" wrk_run "POST /v1/programmes/preview (12-week runner)" "/v1/programmes/preview"
  METHOD=POST BODY_FILE="$WORK/session.json" TOKEN="$token" wrk_run "POST /v1/me/sessions (one session, bearer)" "/v1/me/sessions"
  token=$($CLIENT login "ingest-$RANDOM@example.com")
  $CLIENT ingest "$token"
  $CLIENT feed "$token"
  $CLIENT ingest "$($CLIENT login "ingest-a-$RANDOM@example.com")" "$($CLIENT login "ingest-b-$RANDOM@example.com")"
  stop
}

wrk_lean() { # NAME URL [env: INM]
  NAME="$1" wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" -s "$ROOT/benches/wrk_lean.lua" "$2" | grep '^| '
}

# The ceiling for catalogue reads: nginx (Debian's package, one worker per core like ours) serving saved
# copies of our own responses from files, with the same wrk settings, alternating with us for
# ROUNDS rounds. Prints each run's row, then the median rates and their ratio.
ceiling() {
  local static="$WORK/static" etag_ours etag_nginx id=seated-soleus-raise-loaded
  mkdir -p "$static"
  chmod 755 "$WORK" "$static"
  rm -rf "$WORK/data"
  start ""
  curl -fsS "$BASE/v1/exercises?limit=100" -o "$static/list.json"
  curl -fsS "$BASE/v1/exercises/$id" -o "$static/one.json"
  chmod 644 "$static"/*.json
  cat >"$WORK/nginx.conf" <<NGINX
worker_processes $(nproc);
pid $WORK/nginx.pid;
error_log $WORK/nginx.err;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000000;
  default_type application/json;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $static;
    location = /v1/exercises { try_files /list.json =404; }
    location = /v1/exercises/$id { try_files /one.json =404; }
  }
}
NGINX
  nginx -c "$WORK/nginx.conf" -p "$WORK" -g 'daemon off;' &
  NGINX_PID=$!
  local nginx_base="http://127.0.0.1:$NGINX_PORT"
  for _ in $(seq 1 50); do curl -fs "$nginx_base/v1/exercises" >/dev/null 2>&1 && break; sleep 0.1; done
  cmp -s <(curl -fsS "$nginx_base/v1/exercises") "$static/list.json" || { echo "nginx serves other bytes" >&2; exit 1; }
  etag_ours=$(curl -fsS -D - -o /dev/null "$BASE/v1/exercises/$id" | awk 'tolower($1)=="etag:" {print $2}' | tr -d '\r')
  etag_nginx=$(curl -fsS -D - -o /dev/null "$nginx_base/v1/exercises/$id" | awk 'tolower($1)=="etag:" {print $2}' | tr -d '\r')
  echo
  echo "### Catalogue reads against the static-file ceiling — nginx $(nginx -v 2>&1 | sed 's|.*/||'), $THREADS wrk threads x $CONNS connections, $DURATION per run, $ROUNDS rounds alternating"
  echo
  echo "| what | rate | p50 ms | p99 ms | errors |"
  echo "|---|---|---|---|---|"
  local rows="$WORK/ceiling.rows"
  : >"$rows"
  for round in $(seq 1 "$ROUNDS"); do
    for what in "list page (limit=100, all 30)|/v1/exercises?limit=100|/v1/exercises|" \
                "single exercise|/v1/exercises/$id|/v1/exercises/$id|" \
                "single exercise, If-None-Match (304)|/v1/exercises/$id|/v1/exercises/$id|inm"; do
      IFS='|' read -r label ours theirs inm <<<"$what"
      INM=$([ -n "$inm" ] && echo "$etag_ours") wrk_lean "soleus-api: $label (round $round)" "$BASE$ours" | tee -a "$rows"
      INM=$([ -n "$inm" ] && echo "$etag_nginx") wrk_lean "nginx: $label (round $round)" "$nginx_base$theirs" | tee -a "$rows"
    done
  done
  kill "$NGINX_PID"; wait "$NGINX_PID" 2>/dev/null || true; NGINX_PID=
  stop >/dev/null
  echo
  echo "| what | soleus-api median | nginx median | ratio |"
  echo "|---|---|---|---|"
  for label in "list page (limit=100, all 30)" "single exercise" "single exercise, If-None-Match (304)"; do
    local a b
    a=$(grep -F "| soleus-api: $label (round" "$rows" | awk -F'|' '{print $3+0}' | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}')
    b=$(grep -F "| nginx: $label (round" "$rows" | awk -F'|' '{print $3+0}' | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}')
    echo "| $label | $a req/s | $b req/s | $(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.2f×", a / b}') |"
  done
}

scale() { # $1: engine label, $2: DATABASE_URL or "", $3: users, $4: sessions per user
  rm -rf "$WORK/data"
  local url="$2" target token me
  [ -n "$url" ] && url=$(fresh_pg)
  start "$url"
  token=$($CLIENT login "scale@example.com")
  me=$($CLIENT whoami "$token")
  stop >/dev/null
  target=${url:-$WORK/data/soleus.db}
  local t0=$SECONDS
  $CLIENT seed "$([ -n "$url" ] && echo postgres || echo sqlite)" "$target" "$me" "$3" "$4"
  start "$url"
  $CLIENT probe "$token" "$1, $(( $3 * $4 )) sessions (seeded in $(( SECONDS - t0 )) s)"
  stop >/dev/null
}

echo "# soleus-api load run — $(date -u +%F) — commit $(git rev-parse --short HEAD)"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
if [ "$CEILING" = 1 ]; then ceiling; fi
if [ "$THROUGHPUT" = 1 ]; then
  throughput "SQLite" ""
  if [ -n "$PG_URL" ]; then throughput "PostgreSQL" "$(fresh_pg)"; fi
fi

if [ "$SCALE" = 1 ]; then
  echo
  echo "### Scale check — one user's 100 sessions among 1,000 and among 1,000,000 (200 sequential requests each)"
  echo
  echo "| what | rate | p50 ms | p99 ms | errors |"
  echo "|---|---|---|---|---|"
  scale "SQLite" "" 10 100
  scale "SQLite" "" 10000 100
  if [ -n "$PG_URL" ]; then
    scale "PostgreSQL" "$PG_URL" 10 100
    scale "PostgreSQL" "$PG_URL" 10000 100
  fi
fi
