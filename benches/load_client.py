#!/usr/bin/env python3
"""Client side of benches/load.sh and replicas.sh: batch ingest, change-feed walk and follower,
and the scale check.

Standard library only. Each command prints one table row:
  name | requests/s or items/s | p50 ms | p99 ms | errors
"""

import json
import os
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid

BASE = os.environ.get("BASE", "http://127.0.0.1:18080")


def call(method, path, token=None, body=None, headers=None):
    return send(method, path, token, json.dumps(body).encode() if body is not None else None, headers)


def send(method, path, token=None, data=None, headers=None):
    req = urllib.request.Request(BASE + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=60) as res:
            return res.status, res.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def login(email):
    password = "load test account 2026"
    call("POST", "/v1/auth/register", body={"email": email, "password": password})
    status, body = call("POST", "/v1/auth/token", body={"email": email, "password": password})
    assert status == 200, body
    return json.loads(body)["access_token"]


def uuid7():
    """A time-ordered UUIDv7 (RFC 9562), as offline clients should mint session ids."""
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms << 80) | (0x7 << 76) | ((rand >> 62) & 0xFFF) << 64 | (0b10 << 62) | (rand & ((1 << 62) - 1))
    return str(uuid.UUID(int=value))


def session(i, day=0):
    return {
        "id": uuid7(),
        "started_at": f"2026-{1 + (day // 28) % 12:02d}-{1 + day % 28:02d}T07:{i % 60:02d}:00Z",
        "duration_seconds": 1200,
        "rpe": 6,
        "pain_during": 1,
        "sets": [
            {"exercise_id": "single-leg-bent-knee-heel-raise", "set_number": 1, "side": "left", "reps": 15, "completed": True},
            {"exercise_id": "single-leg-bent-knee-heel-raise", "set_number": 1, "side": "right", "reps": 15, "completed": True},
        ],
    }


def row(name, rate, unit, latencies, errors):
    lat = sorted(latencies)
    p50 = statistics.median(lat) * 1000 if lat else 0
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000 if lat else 0
    print(f"| {name} | {rate:,.0f} {unit} | {p50:.2f} | {p99:.2f} | {errors} |", flush=True)


def ingest(tokens, total=10_000, batch=500):
    """Each token's client sends `total` sessions in batches, one batch after another; with
    several tokens the clients run at once. Bodies are encoded and answers parsed outside the
    timed loop, so the client's own JSON work does not count against the server."""
    from concurrent.futures import ThreadPoolExecutor
    batches = total // batch
    bodies = [[json.dumps({"sessions": [session(i, d) for i in range(batch)]}).encode()
               for d in range(batches)] for _ in tokens]
    latencies, answers = [], []

    def client(token, mine):
        for body in mine:
            t = time.perf_counter()
            answers.append(send("POST", "/v1/me/sessions/batch", token, body))
            latencies.append(time.perf_counter() - t)

    start = time.perf_counter()
    with ThreadPoolExecutor(len(tokens)) as pool:
        list(pool.map(client, tokens, bodies))
    elapsed = time.perf_counter() - start
    errors = 0
    for status, text in answers:
        results = json.loads(text)["results"] if status == 200 else []
        errors += (status != 200) + sum(1 for r in results if r["status"] not in (200, 201))
    clients = f", {len(tokens)} clients at once" if len(tokens) > 1 else ""
    row(f"batch ingest {total * len(tokens):,} sessions ({batch}/batch{clients})",
        total * len(tokens) / elapsed, "sessions/s", latencies, errors)


def feed(token, page=500):
    errors, latencies, seen, cursor = 0, [], 0, None
    start = time.perf_counter()
    while True:
        path = f"/v1/me/changes?limit={page}" + (f"&since={cursor}" if cursor else "")
        t = time.perf_counter()
        status, text = call("GET", path, token)
        latencies.append(time.perf_counter() - t)
        if status != 200:
            errors += 1
            break
        body = json.loads(text)
        seen += len(body["changes"])
        cursor = body["next"]
        if not body["has_more"]:
            break
    elapsed = time.perf_counter() - start
    row(f"change-feed walk, {seen:,} changes ({page}/page)", seen / elapsed, "changes/s", latencies, errors)


def follow(token, stop_file, out_file):
    """Follows the token's change feed while the load runs (until `stop_file` exists, then to
    its end) and writes what it holds: one `id version` line per session. Counts changes that
    came back at an older or equal version (a duplicate or a reordering) and failed pages."""
    seen, cursor, stale, errors, pages = {}, None, 0, 0, 0
    while True:
        stopping = os.path.exists(stop_file)
        while True:
            path = "/v1/me/changes?limit=500" + (f"&since={cursor}" if cursor else "")
            status, text = call("GET", path, token)
            pages += 1
            if status != 200:
                errors += 1
                time.sleep(0.05)
                break
            body = json.loads(text)
            for change in body["changes"]:
                before = seen.get(change["id"])
                if before is not None and before >= change["version"]:
                    stale += 1
                seen[change["id"]] = change["version"]
            cursor = body["next"]
            if not body["has_more"]:
                break
        if stopping:
            break
        time.sleep(0.02)
    with open(out_file, "w") as f:
        for sid, version in sorted(seen.items()):
            f.write(f"{sid} {version}\n")
    print(f"follower: {pages} pages, {len(seen)} sessions, {stale} stale or repeated, {errors} failed pages",
          file=sys.stderr)
    sys.exit(1 if stale or errors else 0)


# --- scale check --------------------------------------------------------------------------------

CONTENT = json.dumps({"programme_week": None, "programme_session": None, "rpe": 6, "pain_during": 1,
                      "pain_next_morning": None, "notes": None,
                      "sets": [{"exercise_id": "single-leg-heel-raise", "set_number": 1, "side": "left", "reps": 12,
                                "load_kg": None, "hold_seconds": None, "duration_seconds": None, "rpe": None,
                                "completed": True}]})


def seed_sqlite(path, me, users, per_user):
    """Adds `users` - 1 other users and `per_user` sessions for each user, `me` included."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    (start,) = db.execute("SELECT value FROM change_counters WHERE name = 'sessions'").fetchone()
    others = [f"load-{i:05d}" for i in range(users - 1)]
    db.executemany(
        "INSERT INTO users (id, email, password_hash, units, created_at, updated_at) "
        "VALUES (?, ? || '@example.com', 'x', 'metric', '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
        [(u, u) for u in others])
    seq = start

    def rows():
        nonlocal seq
        for u in [me] + others:
            for i in range(per_user):
                seq += 1
                day, minute = i // 3, (i % 3) * 20
                ts = f"2026-{1 + (day // 28) % 12:02d}-{1 + day % 28:02d} 07:{minute:02d}:00"
                yield (str(uuid.uuid4()), u, ts, CONTENT, seq, ts, ts)

    db.executemany(
        "INSERT INTO sessions (id, user_id, programme_id, started_at, utc_offset_minutes, duration_seconds, source, "
        "external_id, external_version, content, content_hash, version, seq, deleted, created_at, updated_at) "
        "VALUES (?, ?, NULL, ?, 0, 1200, 'app', NULL, NULL, ?, 'seed', 1, ?, 0, ?, ?)", rows())
    db.execute("UPDATE change_counters SET value = ? WHERE name = 'sessions'", (seq,))
    db.commit()
    db.execute("ANALYZE")
    db.close()


def seed_postgres(url, me, users, per_user):
    sql = f"""
    INSERT INTO users (id, email, password_hash, units, created_at, updated_at)
      SELECT 'load-' || g, 'load-' || g || '@example.com', 'x', 'metric', now(), now()
      FROM generate_series(1, {users - 1}) g;
    INSERT INTO sessions (id, user_id, programme_id, started_at, utc_offset_minutes, duration_seconds, source,
        external_id, external_version, content, content_hash, version, seq, deleted, created_at, updated_at)
      SELECT gen_random_uuid()::text, u.id,  NULL,
             timestamp '2026-01-01 07:00' + (i / 3) * interval '1 day' + (i % 3) * interval '20 minutes',
             0, 1200, 'app', NULL, NULL, $${CONTENT}$$, 'seed', 1,
             (SELECT value FROM change_counters WHERE name = 'sessions') + row_number() OVER (), FALSE, now(), now()
      FROM (SELECT id FROM users WHERE id = '{me}' OR id LIKE 'load-%') u, generate_series(0, {per_user - 1}) i;
    UPDATE change_counters SET value = (SELECT max(seq) FROM sessions) WHERE name = 'sessions';
    ANALYZE;
    """
    subprocess.run(["psql", url, "-q", "-v", "ON_ERROR_STOP=1", "-c", sql], check=True, stdout=subprocess.DEVNULL)


def latency(label, token, path, n=200):
    errors, latencies = 0, []
    for _ in range(n):
        t = time.perf_counter()
        status, _ = call("GET", path, token)
        latencies.append(time.perf_counter() - t)
        errors += status != 200
    rate = n / sum(latencies)
    row(label, rate, "req/s (1 client)", latencies, errors)


def scale_probe(token, label):
    latency(f"{label}: list one user's sessions (limit 50)", token, "/v1/me/sessions?limit=50")
    latency(f"{label}: one change-feed page (limit 100)", token, "/v1/me/changes?limit=100")
    latency(f"{label}: stats for one year", token,
            "/v1/me/stats?from=2026-01-01T00:00:00Z&to=2026-12-31T00:00:00Z")


def main():
    cmd = sys.argv[1]
    if cmd == "login":
        print(login(sys.argv[2]))
    elif cmd == "ingest":
        ingest(sys.argv[2:])
    elif cmd == "feed":
        feed(sys.argv[2])
    elif cmd == "follow":
        follow(*sys.argv[2:5])
    elif cmd == "seed":
        engine, target, me, users, per_user = sys.argv[2:7]
        (seed_sqlite if engine == "sqlite" else seed_postgres)(target, me, int(users), int(per_user))
    elif cmd == "probe":
        scale_probe(sys.argv[2], sys.argv[3])
    elif cmd == "tokens":
        # N users registered and logged in concurrently; one access token per line.
        from concurrent.futures import ThreadPoolExecutor
        n, tag = int(sys.argv[2]), uuid.uuid4().hex[:8]
        with ThreadPoolExecutor(16) as pool:
            for token in pool.map(lambda i: login(f"bench-{tag}-{i}@example.com"), range(n)):
                print(token)
    elif cmd == "whoami":
        status, body = call("GET", "/v1/me", sys.argv[2])
        print(json.loads(body)["id"])
    else:
        raise SystemExit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
