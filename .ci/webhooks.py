#!/usr/bin/env python3
"""Webhook deliveries verified by a real receiver: the `standardwebhooks` package (PyPI).

Usage: webhooks.py BINARY sqlite|postgres [DATABASE_URL]

Starts the server, registers a partner (CLI), a user who grants it `sessions:read`, and a
webhook endpoint pointing at a receiver in this process. The receiver verifies every delivery
with `standardwebhooks.Webhook(secret).verify` and answers 401 when it fails. Then: sessions
created, patched and deleted arrive verified, in feed order, each event id once; after a
secret rotation a delivery verifies with the new secret and with the old one; a tampered body
does not verify.
"""

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

BIN, ENGINE = sys.argv[1], sys.argv[2]
DB_URL = sys.argv[3] if len(sys.argv) > 3 else None
PORT = 18771 if ENGINE == "sqlite" else 18772
BASE = f"http://127.0.0.1:{PORT}"
SECRETS = []  # the secrets the receiver accepts, newest first
RECEIVED = []  # (headers, body) of verified deliveries
REFUSED = []


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            Webhook(SECRETS[0]).verify(body, headers)
        except WebhookVerificationError as e:
            REFUSED.append(str(e))
            self.send_response(401)
            self.end_headers()
            return
        RECEIVED.append((headers, body))
        self.send_response(204)
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
    try:
        with urllib.request.urlopen(req, timeout=15) as res:
            text = res.read()
            return res.status, (json.loads(text) if text else None)
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def expect(status, got):
    if got[0] != status:
        sys.exit(f"expected {status}, got {got}")
    return got[1]


def wait_for(n, timeout=20):
    deadline = time.time() + timeout
    while len(RECEIVED) < n:
        if time.time() > deadline:
            sys.exit(f"only {len(RECEIVED)} of {n} deliveries arrived verified; refused: {REFUSED}")
        time.sleep(0.05)


def main():
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    hook_url = f"http://127.0.0.1:{receiver.server_address[1]}/hooks"

    data = tempfile.mkdtemp()
    env = dict(os.environ, SOLEUS_PORT=str(PORT), SOLEUS_DATA_DIR=data, RUST_LOG="warn",
               SOLEUS_WEBHOOKS_ALLOW_PRIVATE_NETWORKS="true", SOLEUS_WEBHOOK_POLL_INTERVAL_MS="50")
    if DB_URL:
        env["DATABASE_URL"] = DB_URL
    log = open(os.path.join(data, "server.log"), "w")
    server = subprocess.Popen([BIN], env=env, stdout=log, stderr=log)
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(BASE + "/readyz", timeout=1)
                break
            except Exception:
                time.sleep(0.25)
        created = subprocess.run([BIN, "partners", "create", "--name", "Verifier", "--scopes", "sessions:read"],
                                 env=dict(env, RUST_LOG="off"), capture_output=True, text=True, check=True).stdout
        fields = dict(line.split(": ", 1) for line in created.splitlines() if ": " in line)
        client_id, client_secret = fields["client_id"], fields["client_secret"]

        email, password = f"hooks-{time.time_ns()}@example.com", "verified by standardwebhooks"
        expect(201, call("POST", "/v1/auth/register", body={"email": email, "password": password}))
        user = expect(200, call("POST", "/v1/auth/token", body={"email": email, "password": password}))["access_token"]
        expect(201, call("POST", "/v1/me/partner-grants", user, {"partner_id": client_id, "scopes": ["sessions:read"]}))
        partner = expect(200, call("POST", "/v1/oauth/token", form=(
            f"grant_type=client_credentials&client_id={client_id}&client_secret={client_secret}")))["access_token"]

        endpoint = expect(201, call("POST", "/v1/partner/webhooks", partner,
                                    {"url": hook_url, "event_types": ["session.created", "session.updated", "session.deleted"]}))
        SECRETS.insert(0, endpoint["secret"])

        ids = []
        for day in range(1, 6):
            s = expect(201, call("POST", "/v1/me/sessions", user, {
                "started_at": f"2026-12-0{day}T07:00:00+01:00", "duration_seconds": 900,
                "sets": [{"exercise_id": "seated-soleus-raise-loaded", "set_number": 1, "side": "both", "reps": 15}]}))
            ids.append(s["id"])
        expect(200, call("PATCH", f"/v1/me/sessions/{ids[0]}", user, {"rpe": 7}))
        expect(204, call("DELETE", f"/v1/me/sessions/{ids[1]}", user))
        wait_for(7)
        events = [json.loads(body) for _, body in RECEIVED]
        types = [e["type"] for e in events]
        assert types == ["session.created"] * 5 + ["session.updated", "session.deleted"], types
        positions = [e["position"] for e in events]
        assert positions == sorted(positions) and len(set(positions)) == 7, positions
        assert len({h["webhook-id"] for h, _ in RECEIVED}) == 7
        assert all(h["webhook-id"] == e["id"] for (h, _), e in zip(RECEIVED, events))

        # Rotation: the next delivery verifies with the new secret and with the old one.
        old = SECRETS[0]
        rotated = expect(200, call("POST", f"/v1/partner/webhooks/{endpoint['id']}/rotate-secret", partner, {}))
        SECRETS.insert(0, rotated["secret"])
        expect(201, call("POST", "/v1/me/sessions", user, {"started_at": "2026-12-09T07:00:00Z", "duration_seconds": 600}))
        wait_for(8)
        headers, body = RECEIVED[7]
        Webhook(rotated["secret"]).verify(body, headers)
        Webhook(old).verify(body, headers)
        try:
            Webhook(rotated["secret"]).verify(body.replace(b"600", b"601"), headers)
            sys.exit("a tampered body verified")
        except WebhookVerificationError:
            pass
        assert not REFUSED, REFUSED
        print(f"webhooks ({ENGINE}): 8 deliveries verified by standardwebhooks, rotation signs with both secrets")
    finally:
        server.terminate()
        server.wait(timeout=30)
        receiver.shutdown()


if __name__ == "__main__":
    try:
        main()
    except (AssertionError, subprocess.CalledProcessError) as e:
        sys.exit(f"webhooks ({ENGINE}) failed: {e!r}")
