#!/usr/bin/env python3
"""Webhook benchmark: events per second delivered to a local receiver, and the latency of a
single-session POST with and without webhook endpoints registered.

Usage: benches/webhooks.py [BINARY] [DATABASE_URL]   (default target/release/soleus-api, SQLite)

The receiver (in this process, ThreadingHTTPServer) answers 204 and counts. Figures go in
benches/README.md by hand, with the date and commit.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BIN = sys.argv[1] if len(sys.argv) > 1 else "target/release/soleus-api"
DB_URL = sys.argv[2] if len(sys.argv) > 2 else None
PORT = 18790
BASE = f"http://127.0.0.1:{PORT}"
COUNT = [0]
LOCK = threading.Lock()


class Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", "0")))
        with LOCK:
            COUNT[0] += 1
        self.send_response(204)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def call(method, path, token=None, body=None, form=None):
    data, headers = None, {}
    if body is not None:
        data, headers["content-type"] = json.dumps(body).encode(), "application/json"
    if form is not None:
        data, headers["content-type"] = form.encode(), "application/x-www-form-urlencoded"
    if token:
        headers["authorization"] = f"Bearer {token}"
    req = urllib.request.Request(BASE + path, data=data, method=method, headers=headers)
    with urllib.request.urlopen(req, timeout=30) as res:
        text = res.read()
        return json.loads(text) if text else None


SESSION = {"started_at": "2026-12-01T07:00:00Z", "duration_seconds": 900,
           "sets": [{"exercise_id": "seated-soleus-raise-loaded", "set_number": 1, "side": "both", "reps": 15}]}


def post_latencies(token, n):
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        call("POST", "/v1/me/sessions", token, SESSION)
        out.append((time.perf_counter() - t0) * 1000)
    out.sort()
    return statistics.median(out), out[int(len(out) * 0.99) - 1]


def wait_count(n, timeout=300):
    deadline = time.time() + timeout
    while COUNT[0] < n and time.time() < deadline:
        time.sleep(0.01)
    return COUNT[0]


def main():
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{receiver.server_address[1]}/hooks"
    data = tempfile.mkdtemp()
    env = dict(os.environ, SOLEUS_PORT=str(PORT), SOLEUS_DATA_DIR=data, RUST_LOG="warn",
               SOLEUS_WEBHOOKS_ALLOW_PRIVATE_NETWORKS="true", SOLEUS_WEBHOOK_POLL_INTERVAL_MS="50",
               SOLEUS_RATE_LIMIT_WRITE="0", SOLEUS_RATE_LIMIT_READ="0", SOLEUS_MAX_SESSIONS_PER_DAY="0")
    if DB_URL:
        env["DATABASE_URL"] = DB_URL
    server = subprocess.Popen([BIN], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(BASE + "/readyz", timeout=1)
                break
            except Exception:
                time.sleep(0.25)
        out = subprocess.run([BIN, "partners", "create", "--name", "Bench", "--scopes", "sessions:read"],
                             env=dict(env, RUST_LOG="off"), capture_output=True, text=True, check=True).stdout
        fields = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)
        email, password = f"bench-{time.time_ns()}@example.com", "benchmarking webhooks"
        call("POST", "/v1/auth/register", body={"email": email, "password": password})
        user = call("POST", "/v1/auth/token", body={"email": email, "password": password})["access_token"]
        call("POST", "/v1/me/partner-grants", user, {"partner_id": fields["client_id"], "scopes": ["sessions:read"]})
        partner = call("POST", "/v1/oauth/token", form=(
            f"grant_type=client_credentials&client_id={fields['client_id']}&client_secret={fields['client_secret']}"))["access_token"]

        post_latencies(user, 100)  # warm up
        without = post_latencies(user, 500)
        call("POST", "/v1/partner/webhooks", partner, {"url": hook, "event_types": ["session.created"]})
        with_one = post_latencies(user, 500)
        wait_count(500)

        engine = "PostgreSQL" if DB_URL else "SQLite"
        print(f"{engine}: single-session POST p50/p99 without endpoints {without[0]:.2f}/{without[1]:.2f} ms, "
              f"with one endpoint delivering {with_one[0]:.2f}/{with_one[1]:.2f} ms")

        for endpoints in (1, 4):
            while True:
                current = call("GET", "/v1/partner/webhooks", partner)["items"]
                if len(current) >= endpoints:
                    break
                call("POST", "/v1/partner/webhooks", partner, {"url": hook, "event_types": ["session.created"]})
            with LOCK:
                COUNT[0] = 0
            total = 2000
            t0 = time.perf_counter()
            for _ in range(total // 500):
                call("POST", "/v1/me/sessions/batch", user, {"sessions": [SESSION] * 500})
            got = wait_count(total * endpoints)
            elapsed = time.perf_counter() - t0
            print(f"{engine}: {got} deliveries ({total} events x {endpoints} endpoint(s)) in {elapsed:.2f} s: "
                  f"{got / elapsed:.0f} deliveries/s")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
