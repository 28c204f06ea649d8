#!/usr/bin/env bash
# The README's walkthrough, end to end, against a running server: every call checks its status,
# and the values later calls need ($ACCESS_TOKEN, $REFRESH_TOKEN, $ID, $SESSION_ID, $ETAG, $NEXT) are taken
# from earlier answers exactly as the README shows. .ci/run runs it against a fresh server, so the
# README cannot rot. Usage: examples/quickstart.sh [BASE_URL]   (default http://127.0.0.1:8080)
# Needs: curl, jq, python3.
set -euo pipefail
BASE=${1:-http://127.0.0.1:8080}
EMAIL="jane-$(date +%s)-$$@example.com"
PASSWORD="calves of steel 2026"
HEADERS=$(mktemp)
trap 'rm -f "$HEADERS"' EXIT

# call EXPECTED_STATUS curl-arguments…: prints the body; fails on any other status.
call() {
  local expected=$1; shift
  local out status
  out=$(curl -s -D "$HEADERS" -w '\n%{http_code}' "$@")
  status=${out##*$'\n'}
  if [ "$status" != "$expected" ]; then
    echo "quickstart: expected $expected, got $status from: curl $*" >&2
    echo "${out%$'\n'*}" | head -c 600 >&2; echo >&2
    exit 1
  fi
  printf '%s' "${out%$'\n'*}"
}
header() { awk -v name="$1" 'BEGIN { IGNORECASE = 1 } tolower($1) == tolower(name) ":" { sub(/\r$/, "", $2); print $2 }' "$HEADERS"; }

# Quick start and the catalogue: no account needed.
call 200 "$BASE/healthz" >/dev/null
call 200 "$BASE/readyz" >/dev/null
call 200 "$BASE/v1/meta" >/dev/null
call 200 "$BASE/v1/exercises?goal=circulation&available_equipment=chair" | jq -e '.items | length > 0' >/dev/null
call 200 "$BASE/v1/exercises?equipment=none&max_difficulty=2" >/dev/null
call 200 "$BASE/v1/exercises?q=heel%20raise&soleus_bias=moderate&laterality=single_leg&limit=5" >/dev/null
call 200 "$BASE/v1/exercises/seated-calf-raise" >/dev/null
call 200 "$BASE/v1/catalogue" >/dev/null
PREVIEW='{"age": 72, "activity_level": "lightly_active", "goals": ["fall_prevention"],
  "screening": {"chest_pain": false, "dizziness_or_fainting": false, "calf_swelling_warmth_redness": false, "acute_calf_strain": false}}'
call 200 "$BASE/v1/programmes/preview" -H 'Content-Type: application/json' -d "$PREVIEW" | jq -e '.weeks | length > 0' >/dev/null

# Accounts and tokens.
call 201 "$BASE/v1/auth/register" -H 'Content-Type: application/json' \
  -d "{\"email\": \"$EMAIL\", \"password\": \"$PASSWORD\", \"profile\": {\"birth_year\": 1990}}" >/dev/null
TOKENS=$(call 200 "$BASE/v1/auth/token" -H 'Content-Type: application/json' \
  -d "{\"email\": \"$EMAIL\", \"password\": \"$PASSWORD\"}")
ACCESS_TOKEN=$(jq -r .access_token <<<"$TOKENS")
REFRESH_TOKEN=$(jq -r .refresh_token <<<"$TOKENS")
call 200 "$BASE/v1/me" -H "Authorization: Bearer $ACCESS_TOKEN" >/dev/null
call 200 -X PATCH "$BASE/v1/me" -H "Authorization: Bearer $ACCESS_TOKEN" \
  -H 'Content-Type: application/merge-patch+json' -d '{"body_mass_kg": 61.5, "sex": null}' >/dev/null
# A refresh spends the refresh token: keep the new pair.
TOKENS=$(call 200 "$BASE/v1/auth/refresh" -H 'Content-Type: application/json' \
  -d "{\"refresh_token\": \"$REFRESH_TOKEN\"}")
ACCESS_TOKEN=$(jq -r .access_token <<<"$TOKENS")
REFRESH_TOKEN=$(jq -r .refresh_token <<<"$TOKENS")

# Programmes: store one, list, adapt, versions, diff.
ID=$(call 201 "$BASE/v1/me/programmes" -H "Authorization: Bearer $ACCESS_TOKEN" \
  -H 'Content-Type: application/json' -d "$PREVIEW" | jq -r .id)
call 200 "$BASE/v1/me/programmes?limit=10" -H "Authorization: Bearer $ACCESS_TOKEN" | jq -e '.items | length == 1' >/dev/null
CALENDAR_URL=$(call 201 "$BASE/v1/me/programmes/$ID/calendar-subscription" -X POST -H "Authorization: Bearer $ACCESS_TOKEN" | jq -r .url)
call 200 "$CALENDAR_URL" | grep '^BEGIN:VCALENDAR' >/dev/null
call 204 "$BASE/v1/me/programmes/$ID/calendar-subscription" -X DELETE -H "Authorization: Bearer $ACCESS_TOKEN" >/dev/null
call 404 "$CALENDAR_URL" >/dev/null
call 200 "$BASE/v1/me/programmes/$ID" -H "Authorization: Bearer $ACCESS_TOKEN" >/dev/null
call 200 "$BASE/v1/me/programmes/$ID/calendar.ics" -H "Authorization: Bearer $ACCESS_TOKEN" >/dev/null

# Workout sessions: an idempotent create, a conditional merge patch, the change feed.
# A client-chosen id makes the create idempotent (sessions logged offline); ids are global.
SESSION_ID=$(python3 -c 'import uuid; print(uuid.uuid4())')
SESSION='{"id": "'"$SESSION_ID"'", "started_at": "2026-12-07T07:30:00+01:00",
  "duration_seconds": 1500, "rpe": 6, "pain_during": 1, "programme_id": "'"$ID"'",
  "sets": [{"exercise_id": "single-leg-bent-knee-heel-raise", "set_number": 1, "side": "left", "reps": 15}]}'
call 201 "$BASE/v1/me/sessions" -H "Authorization: Bearer $ACCESS_TOKEN" \
  -H 'Content-Type: application/json' -H 'Idempotency-Key: first-session' -d "$SESSION" >/dev/null
call 201 "$BASE/v1/me/sessions" -H "Authorization: Bearer $ACCESS_TOKEN" \
  -H 'Content-Type: application/json' -H 'Idempotency-Key: first-session' -d "$SESSION" >/dev/null
[ "$(header Idempotent-Replayed)" = "true" ] || { echo "quickstart: the retry was not a replay" >&2; exit 1; }
call 200 "$BASE/v1/me/sessions/$SESSION_ID" -H "Authorization: Bearer $ACCESS_TOKEN" >/dev/null
ETAG=$(header ETag)
call 200 -X PATCH "$BASE/v1/me/sessions/$SESSION_ID" \
  -H "Authorization: Bearer $ACCESS_TOKEN" -H "If-Match: $ETAG" \
  -H 'Content-Type: application/merge-patch+json' -d '{"pain_next_morning": 2}' >/dev/null
# The same ETag again is stale now: 412, nothing overwritten.
call 412 -X PATCH "$BASE/v1/me/sessions/$SESSION_ID" \
  -H "Authorization: Bearer $ACCESS_TOKEN" -H "If-Match: $ETAG" \
  -H 'Content-Type: application/merge-patch+json' -d '{"pain_next_morning": 5}' >/dev/null
NEXT=$(call 200 "$BASE/v1/me/changes" -H "Authorization: Bearer $ACCESS_TOKEN" | jq -r .next)
call 200 "$BASE/v1/me/changes?since=$NEXT" -H "Authorization: Bearer $ACCESS_TOKEN" | jq -e '.changes == []' >/dev/null

# Adaptation: replay the programme against its sessions, then its versions and their diff.
# A logged session is new evidence: 201 and version 2 (200 with the latest when nothing is new).
call 201 -X POST "$BASE/v1/me/programmes/$ID/adapt" -H "Authorization: Bearer $ACCESS_TOKEN" >/dev/null
call 200 -X POST "$BASE/v1/me/programmes/$ID/adapt" -H "Authorization: Bearer $ACCESS_TOKEN" >/dev/null
call 200 "$BASE/v1/me/programmes/$ID/versions" -H "Authorization: Bearer $ACCESS_TOKEN" | jq -e '.items | length == 2' >/dev/null
call 200 "$BASE/v1/me/programmes/$ID/versions/2" -H "Authorization: Bearer $ACCESS_TOKEN" >/dev/null
call 200 "$BASE/v1/me/programmes/$ID/diff?from=1&to=2" -H "Authorization: Bearer $ACCESS_TOKEN" >/dev/null

# Last: log out, then delete the account and everything stored for it.
call 204 "$BASE/v1/auth/logout" -H 'Content-Type: application/json' -d "{\"refresh_token\": \"$REFRESH_TOKEN\"}" >/dev/null
call 204 -X DELETE "$BASE/v1/me" -H "Authorization: Bearer $ACCESS_TOKEN" >/dev/null
call 401 "$BASE/v1/me" -H "Authorization: Bearer $ACCESS_TOKEN" >/dev/null
echo "quickstart: the README walkthrough passed against $BASE"
