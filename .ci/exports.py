"""Checks of what leaves the API for people and clinics, against a running server.

0. Every exercise illustration in Chromium (.ci/illustrations.mjs), and the contact sheet.
1. The printable programme, for the 72-year-old persona (12 weeks) and a 4-week programme:
   .ci/print.mjs opens each page in headless Chromium, runs axe-core and prints it to PDF on A4 and
   US Letter; this script then reads the PDFs (PyMuPDF: rules and words) and checks that every week starts a page, that
   there are at least as many pages as weeks plus the safety page, and that no table row is split
   across two pages (each row's text lies whole on one page, in document order).
2. The FHIR R4 export, for every golden persona's programme and for logged sessions: each Bundle
   and each resource in it validates with the `fhir.resources` package (R4B models), and carries
   the HL7 Physical Activity IG profiles and codes (see check_fhir).

Usage: python exports.py BASE_URL OUT_DIR NODE_DIR   (NODE_DIR holds playwright-core and axe-core)
"""

import json
import os
import re
import subprocess
import sys
import unicodedata
import urllib.error
import urllib.request

BASE, OUT, NODE = sys.argv[1], sys.argv[2], sys.argv[3]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def fail(message):
    print(f"exports check: {message}", file=sys.stderr)
    sys.exit(1)


def call(method, path, token=None, body=None, expect=200):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(BASE + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req) as res:
            status, raw, ctype = res.status, res.read(), res.headers.get("content-type", "")
    except urllib.error.HTTPError as e:
        status, raw, ctype = e.code, e.read(), e.headers.get("content-type", "")
    if status != expect:
        fail(f"{method} {path}: expected {expect}, got {status}: {raw[:400]!r}")
    return raw, ctype


def json_call(*args, **kwargs):
    raw, _ = call(*args, **kwargs)
    return json.loads(raw) if raw else None


def squeeze(text):
    """Text without whitespace, ligatures unfolded (the PDF's "ﬀ" is "ff")."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def row_key(cells):
    """A row's characters without whitespace, sorted: the PDF's text layer may give a row's
    glyphs in another order than the page shows them."""
    return sorted(squeeze("".join(cells)))


def printed_rows(page):
    """The table rows printed on a PDF page, top to bottom, as row keys. A row is the band
    between two consecutive table-wide horizontal rules (cell borders covering at least 80% of
    the widest rule on the page) that a vertical cell border crosses; a row split across pages
    prints as two partial bands."""
    import pymupdf

    across, down = {}, []
    for drawing in page.get_drawings():
        for item in drawing["items"]:
            if item[0] == "re":
                r = item[1]
            elif item[0] == "l":
                r = pymupdf.Rect(item[1], item[2]).normalize()
            else:
                continue
            if r.height <= 2.5 and r.width > 5:
                across.setdefault(round((r.y0 + r.y1) / 2), []).append((r.x0, r.x1))
            elif r.width <= 2.5 and r.height > 5:
                down.append((r.y0, r.y1))
    def covered(spans):  # the length of the union of the spans
        total, reach = 0.0, float("-inf")
        for x0, x1 in sorted(spans):
            if x1 > reach:
                total += x1 - max(x0, reach)
                reach = x1
        return total

    widths = {y: covered(spans) for y, spans in across.items()}
    widest = max(widths.values(), default=0)
    rules = sorted(y for y, width in widths.items() if width >= 0.8 * widest)
    words = page.get_text("words")
    rows = []
    for top, bottom in zip(rules, rules[1:]):
        if bottom - top < 3 or not any(y0 - 1 <= top and bottom <= y1 + 1 for y0, y1 in down):
            continue
        rows.append(sorted(squeeze("".join(w[4] for w in words if top < (w[1] + w[3]) / 2 < bottom))))
    return rows


def check_pdf(path, layout):
    """Every week starts a page; every body row of the page's tables prints whole on one page, in
    order (a row split across pages prints as two partial rows)."""
    import pymupdf

    doc = pymupdf.open(path)
    weeks = layout["weeks"]
    if doc.page_count < len(weeks) + 1:
        fail(f"{path}: {doc.page_count} pages for {len(weeks)} weeks")
    starts = [squeeze(page.get_text())[:200] for page in doc]
    for heading in weeks:
        if not any(s.startswith(squeeze(heading)) for s in starts):
            fail(f"{path}: '{heading}' does not start a page")
    headers = [row_key(h) for h in layout["headers"]]
    printed = [(number, row) for number, page in enumerate(doc, start=1)
               for row in printed_rows(page) if row not in headers]
    expected = [row_key(r) for r in layout["rows"]]
    for index, want in enumerate(expected):
        if index >= len(printed):
            fail(f"{path}: only {len(printed)} of {len(expected)} rows are printed whole")
        page, got = printed[index]
        if got != want:
            fail(f"{path}: page {page}: row {index + 1} ({''.join(layout['rows'][index])[:80]!r}) "
                 "is not whole there: split across pages, or cut")
    if len(printed) != len(expected):
        fail(f"{path}: {len(printed)} table rows in the PDF, {len(expected)} on the page")
    return doc.page_count


def main():
    personas = json.load(open(os.path.join(ROOT, "tests/golden/personas.json")))
    email, password = f"exports-{os.getpid()}@example.com", "exports check password 2026"
    call("POST", "/v1/auth/register", body={"email": email, "password": password}, expect=201)
    token = json_call("POST", "/v1/auth/token", body={"email": email, "password": password})["access_token"]

    ids = {}
    for persona in personas:
        stored = json_call("POST", "/v1/me/programmes", token, persona["request"], expect=201)
        ids[persona["name"]] = stored["id"]
    four = dict(next(p for p in personas if p["name"] == "desk-worker-45-circulation")["request"], weeks=4)
    ids["four-week"] = json_call("POST", "/v1/me/programmes", token, four, expect=201)["id"]

    # 1. The printable page.
    printed = [ids["older-72-prior-fall"], ids["four-week"]]
    env = dict(os.environ, BASE=BASE, TOKEN=token, IDS=",".join(printed), OUT=OUT,
               AXE=os.path.join(NODE, "node_modules/axe-core/axe.min.js"))
    subprocess.run(["node", os.path.join(NODE, "print.mjs")], env=env, check=True)
    for pid in printed:
        layout = json.load(open(os.path.join(OUT, f"{pid}.json")))
        for fmt in ("A4", "Letter"):
            n = check_pdf(os.path.join(OUT, f"{pid}-{fmt}.pdf"), layout)
            print(f"exports check: {pid} on {fmt}: {n} pages for {len(layout['weeks'])} weeks, "
                  f"{len(layout['rows'])} rows, none split")

    # 1b. The exercise illustrations, in the same browser: drawn inside their viewBox, knee
    # angles as posed, alt text set; and the contact sheet (CONTACT_SHEET: where to keep it).
    sheet = os.environ.get("CONTACT_SHEET") or os.path.join(OUT, "contact-sheet.png")
    env = dict(os.environ, BASE=BASE, OUT=sheet, POSES=os.path.join(ROOT, "src/domain/catalogue/poses.json"))
    subprocess.run(["node", os.path.join(NODE, "illustrations.mjs")], env=env, check=True)

    # 2. FHIR.
    if os.environ.get("SKIP_FHIR"):
        return
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import fhir_check

    for name, pid in ids.items():
        raw, ctype = call("GET", f"/v1/me/programmes/{pid}/fhir", token)
        if not ctype.startswith("application/fhir+json"):
            fail(f"{name}: content type {ctype}")
        summary = fhir_check.check_programme_bundle(json.loads(raw))
        print(f"exports check: FHIR {name}: {summary}")
    session = {"started_at": "2026-12-07T07:30:00+01:00", "duration_seconds": 1500, "rpe": 6,
               "pain_during": 1, "programme_id": ids["older-72-prior-fall"],
               "sets": [{"exercise_id": "seated-calf-raise", "set_number": n, "reps": 15} for n in (1, 2)]}
    for day in ("07", "09", "11"):
        session["started_at"] = f"2026-12-{day}T07:30:00+01:00"
        call("POST", "/v1/me/sessions", token, session, expect=201)
    raw, ctype = call("GET", "/v1/me/sessions.fhir?from=2026-12-07T00:00:00Z&to=2026-12-14T00:00:00Z", token)
    if not ctype.startswith("application/fhir+json"):
        fail(f"sessions: content type {ctype}")
    print(f"exports check: FHIR sessions: {fhir_check.check_sessions_bundle(json.loads(raw), 3)}")


main()
