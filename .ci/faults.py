#!/usr/bin/env python3
"""Fault tests against the real binary, bounded in time and count (python3 standard library only).

1. SQLite, kill -9 during a write load: after a restart every acknowledged write is stored,
   listed once, and in the change feed once, in increasing positions.
2. PostgreSQL stopped for a few seconds during light load: every answer while it is down is a
   503 problem with Retry-After (never a 500), /readyz says unready, and the same process
   recovers once PostgreSQL is back.

Usage: faults.py BINARY sqlite
       faults.py BINARY postgres DATABASE_URL PG_VERSION PG_CLUSTER
"""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

LIMITS_OFF = {
    "SOLEUS_RATE_LIMIT_READ": "0",
    "SOLEUS_RATE_LIMIT_WRITE": "0",
    "SOLEUS_RATE_LIMIT_AUTH": "0",
    "SOLEUS_RATE_LIMIT_EXPENSIVE": "0",
    "RUST_LOG": "warn",
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base, method, path, body=None, token=None, timeout=10):
    """(status, headers, parsed body or None); status 0 when the connection failed."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            raw = res.read()
            return res.status, res.headers, json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        return e.code, e.headers, parsed
    except (urllib.error.URLError, ConnectionError, socket.timeout, OSError):
        return 0, {}, None


class Server:
    def __init__(self, binary, env):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        full = dict(os.environ, **LIMITS_OFF, **env, SOLEUS_PORT=str(self.port))
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([binary], env=full, stdout=self.log, stderr=self.log)
        deadline = time.time() + 60
        while time.time() < deadline:
            if call(self.base, "GET", "/healthz", timeout=2)[0] == 200:
                return
            time.sleep(0.2)
        self.dump()
        raise SystemExit("the server did not start")

    def dump(self):
        self.log.seek(0)
        sys.stderr.write(self.log.read().decode(errors="replace")[-4000:])

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


def account(base, email):
    password = "fault tests 2026 calves"
    status, _, _ = call(base, "POST", "/v1/auth/register", {"email": email, "password": password})
    assert status == 201, status
    status, _, tokens = call(base, "POST", "/v1/auth/token", {"email": email, "password": password})
    assert status == 200, status
    return tokens["access_token"]


def session(n):
    return {
        "started_at": f"2026-11-{1 + n % 28:02d}T{n % 24:02d}:{n % 60:02d}:00Z",
        "duration_seconds": 600 + n,
        "sets": [{"exercise_id": "seated-soleus-raise-loaded", "set_number": 1, "side": "both", "reps": 15}],
    }


def all_pages(base, token, path, items_key, cursor_param, next_key, more):
    out, cursor = [], None
    for _ in range(1000):
        sep = "&" if "?" in path else "?"
        url = path + (f"{sep}{cursor_param}={cursor}" if cursor else "")
        status, _, page = call(base, "GET", url, token=token)
        assert status == 200, (status, page)
        out.extend(page[items_key])
        cursor = page.get(next_key)
        if not more(page):
            return out, cursor
    raise AssertionError("too many pages")


def kill_during_writes(binary):
    data = tempfile.mkdtemp()
    env = {"SOLEUS_DATA_DIR": data}
    server = Server(binary, env)
    token = account(server.base, "kill9@example.com")
    acknowledged, lock, stop = [], threading.Lock(), threading.Event()

    def writer(w):
        n = w
        while not stop.is_set():
            status, _, body = call(server.base, "POST", "/v1/me/sessions", session(n), token, timeout=5)
            if status == 201:
                with lock:
                    acknowledged.append(body["id"])
            elif status == 0:
                return
            n += 8

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    time.sleep(2.0)
    server.kill9()
    stop.set()
    for t in threads:
        t.join(timeout=30)
    assert acknowledged, "no write was acknowledged before the kill"
    server = Server(binary, env)
    try:
        listed, _ = all_pages(server.base, token, "/v1/me/sessions?limit=100", "items", "cursor",
                              "next_cursor", lambda p: p.get("next_cursor"))
        changes, _ = all_pages(server.base, token, "/v1/me/changes?limit=500", "changes", "since",
                               "next", lambda p: p["has_more"])
        listed_ids = [s["id"] for s in listed]
        fed_ids = [c["id"] for c in changes]
        missing = set(acknowledged) - set(listed_ids)
        assert not missing, f"{len(missing)} acknowledged writes lost"
        assert len(listed_ids) == len(set(listed_ids)), "a session listed twice"
        assert set(fed_ids) == set(listed_ids), "the feed and the list disagree"
        assert len(fed_ids) == len(set(fed_ids)), "a change fed twice"
        print(f"kill -9 during writes: {len(acknowledged)} acknowledged, {len(listed_ids)} stored "
              f"(writes in flight at the kill may be stored unacknowledged), feed consistent")
    finally:
        server.stop()


def postgres_outage(binary, url, version, cluster):
    data = tempfile.mkdtemp()
    server = Server(binary, {"SOLEUS_DATA_DIR": data, "DATABASE_URL": url})
    token = account(server.base, f"outage-{int(time.time())}@example.com")

    def probe(n):
        return [
            call(server.base, "GET", "/v1/me", token=token, timeout=15),
            call(server.base, "POST", "/v1/me/sessions", session(n), token, timeout=15),
        ]

    try:
        assert all(r[0] in (200, 201) for r in probe(0)), "before the outage"
        subprocess.run(["pg_ctlcluster", version, cluster, "stop", "-m", "fast"], check=True)
        answers = []
        try:
            deadline = time.time() + 4
            n = 1
            while time.time() < deadline:
                answers += probe(n)
                n += 1
            ready = call(server.base, "GET", "/readyz", timeout=15)
        finally:
            subprocess.run(["pg_ctlcluster", version, cluster, "start"], check=True)
        statuses = sorted({a[0] for a in answers})
        assert statuses == [503], f"answers while PostgreSQL was down: {statuses}"
        for status, headers, body in answers:
            assert "Retry-After" in headers, headers
            assert body and body.get("type", "").endswith("/unavailable"), body
        assert ready[0] == 503, f"/readyz while down: {ready[0]}"
        deadline = time.time() + 30
        while time.time() < deadline:
            after = probe(10_000)
            if all(a[0] in (200, 201) for a in after) and call(server.base, "GET", "/readyz")[0] == 200:
                print(f"PostgreSQL outage: {len(answers)} answers while down, all 503 with Retry-After; "
                      "recovered without a restart")
                return
            time.sleep(0.5)
        raise AssertionError("the server did not recover after PostgreSQL came back")
    except BaseException:
        server.dump()
        raise
    finally:
        server.stop()


if __name__ == "__main__":
    binary, mode = sys.argv[1], sys.argv[2]
    if mode == "sqlite":
        kill_during_writes(binary)
    else:
        postgres_outage(binary, *sys.argv[3:6])
