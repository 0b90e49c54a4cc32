#!/usr/bin/env python3
"""The web paths of issue 9, measured from the user's side (python3 stdlib only).

Starts `aanwezig serve` on an imported database and measures

  serve   from process start until a signed-in GET / (the Weekoverzicht)
          answers 200, and the server's peak memory (VmHWM) at that moment;
  form    one lesson changed through the correction form
          (POST /leerlingen/{id}/les?datum=…&lesuur=…), N sequential requests;
          before each POST the form is read (GET, not timed) for its CSRF
          token and the lesson's revision (versie);
  api     one lesson changed through PUT /api/leerlingen/{id}/registraties/{datum}/{lesuur},
          N sequential requests; revisions come from one GET …/registraties
          per student and then from each PUT's answer.

Each request really changes something: the code alternates between two
codes (default A and Z) so that it always differs from the stored one. The
requests cycle over the first --students students (default 100) so that no
single lesson collects a thousand history entries. Form and API use
different lessons (--form-lesson, --api-lesson). Only 127.0.0.1 is
contacted; every loop is bounded.

    scripts/bench_requests.py --db N.db --user bench --password '…' \
        [--bin target/release/aanwezig] [--today 2026-07-03] [--date 2026-07-03]
        [--requests 1000] [--students 100] [--students-csv students.csv]
        [--start-timeout 600] [--tsv out.tsv] [--label 2000]

The user must exist (aanwezig user add … --role verzuimcoordinator
--password-stdin); scripts/bench-paths.sh creates one.

Output: a human-readable summary on stdout and, with --tsv, lines
`path<TAB>N<TAB>metric<TAB>value` appended to the file.
"""

import argparse
import csv
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def vm_hwm_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


class Client:
    """One keep-alive connection to 127.0.0.1 with a session cookie."""

    def __init__(self, port):
        self.port = port
        self.cookie = None
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def request(self, method, path, body=None, headers=None):
        h = dict(headers or {})
        if self.cookie:
            h["Cookie"] = self.cookie
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=body, headers=h)
                r = self.conn.getresponse()
                data = r.read()
                return r, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                if attempt:
                    raise
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)

    def login(self, user, password):
        body = urllib.parse.urlencode({"gebruikersnaam": user, "wachtwoord": password, "terug": "/"})
        r, _ = self.request("POST", "/inloggen", body,
                            {"Content-Type": "application/x-www-form-urlencoded"})
        for k, v in r.getheaders():
            if k.lower() == "set-cookie" and v.startswith("aanwezig_sessie="):
                self.cookie = v.split(";", 1)[0]
                return True
        return False


def pct(xs, p):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = max(0, min(len(xs) - 1, int(round(p / 100 * len(xs) + 0.5)) - 1))
    return xs[k]


def summary(name, lat, errors):
    ms = [x * 1000 for x in lat]
    return {"path": name, "n": len(ms), "errors": errors,
            "p50_ms": pct(ms, 50), "p90_ms": pct(ms, 90), "p99_ms": pct(ms, 99),
            "max_ms": max(ms) if ms else float("nan"), "mean_ms": sum(ms) / len(ms) if ms else float("nan")}


CSRF_RE = re.compile(r'name="csrf" value="([^"]*)"')
VERSIE_RE = re.compile(r'name="versie" value="([^"]*)"')
SELECTED_RE = re.compile(r'<select id="code" name="code">(.*?)</select>', re.S)
OPTION_SEL_RE = re.compile(r'<option value="([^"]*)" selected>')


def other_code(current, codes):
    return codes[1] if current == codes[0] else codes[0]


def bench_form(c, ids, date, lesson, n, codes):
    lat, errors = [], 0
    for i in range(n):
        sid = ids[i % len(ids)]
        q = f"/leerlingen/{urllib.parse.quote(sid, safe='')}/les?datum={date}&lesuur={lesson}"
        r, page = c.request("GET", q)
        if r.status != 200:
            raise SystemExit(f"GET {q}: {r.status} {page[:300]!r}")
        page = page.decode()
        csrf = CSRF_RE.search(page).group(1)
        versie = VERSIE_RE.search(page).group(1)
        sel = OPTION_SEL_RE.search(SELECTED_RE.search(page).group(1))
        current = sel.group(1) if sel else ""
        body = urllib.parse.urlencode({"csrf": csrf, "versie": versie,
                                       "code": other_code(current, codes), "te_laat": "", "notitie": ""})
        t0 = time.perf_counter()
        r, data = c.request("POST", q, body, {"Content-Type": "application/x-www-form-urlencoded"})
        lat.append(time.perf_counter() - t0)
        if r.status != 303:
            errors += 1
            if errors <= 3:
                print(f"  form POST {q}: {r.status} {data[:300]!r}", file=sys.stderr)
    return lat, errors


def bench_api(c, ids, date, lesson, n, codes):
    r, data = c.request("GET", "/api/sessie")
    if r.status != 200:
        raise SystemExit(f"GET /api/sessie: {r.status} {data[:300]!r}")
    csrf = json.loads(data)["csrf_token"]
    state = {}
    for sid in ids:   # the revision of each lesson, read once
        p = f"/api/leerlingen/{urllib.parse.quote(sid, safe='')}/registraties?van={date}&tot={date}"
        r, data = c.request("GET", p)
        if r.status != 200:
            raise SystemExit(f"GET {p}: {r.status} {data[:300]!r}")
        regs = [x for x in json.loads(data) if x["lesson"] == lesson]
        state[sid] = (regs[0]["revision"], regs[0].get("code") or "") if regs else (0, "")
    lat, errors = [], 0
    for i in range(n):
        sid = ids[i % len(ids)]
        rev, current = state[sid]
        code = other_code(current, codes)
        p = f"/api/leerlingen/{urllib.parse.quote(sid, safe='')}/registraties/{date}/{lesson}"
        body = json.dumps({"code": code, "revision": rev})
        t0 = time.perf_counter()
        r, data = c.request("PUT", p, body, {"Content-Type": "application/json", "X-CSRF-Token": csrf})
        lat.append(time.perf_counter() - t0)
        if r.status == 200:
            state[sid] = (json.loads(data)["registration"]["revision"], code)
        else:
            errors += 1
            if errors <= 3:
                print(f"  PUT {p}: {r.status} {data[:300]!r}", file=sys.stderr)
    return lat, errors


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=os.environ.get("AANWEZIG_BIN", "target/release/aanwezig"))
    ap.add_argument("--db", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", default=os.environ.get("BENCH_PASSWORD"))
    ap.add_argument("--today", default="2026-07-03")
    ap.add_argument("--date", help="the school day whose lessons are changed (default --today)")
    ap.add_argument("--form-lesson", type=int, default=1)
    ap.add_argument("--api-lesson", type=int, default=2)
    ap.add_argument("--codes", default="A,Z", help="two codes to alternate between")
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--students", type=int, default=100, help="cycle over this many students")
    ap.add_argument("--students-csv", help="students.csv to take the student numbers from (default: /api/leerlingen)")
    ap.add_argument("--start-timeout", type=float, default=600)
    ap.add_argument("--skip", default="", help="comma list of form,api to skip")
    ap.add_argument("--tsv", help="append path<TAB>label<TAB>metric<TAB>value lines here")
    ap.add_argument("--label", default="", help="the N column of the TSV")
    ap.add_argument("--log", help="server output goes here (default: DB.serve.log)")
    a = ap.parse_args()
    if not a.password:
        sys.exit("--password or $BENCH_PASSWORD is required")
    codes = a.codes.split(",")
    date = a.date or a.today
    skip = set(filter(None, a.skip.split(",")))
    port = free_port()
    log_path = a.log or (a.db + ".serve.log")
    cmd = [os.path.abspath(a.bin), "--db", a.db, "--today", a.today, "serve", "--addr", f"127.0.0.1:{port}"]
    results = []

    def emit(path, metric, value):
        results.append((path, metric, value))

    with open(log_path, "wb") as log:
        t0 = time.perf_counter()
        server = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    try:
        c = None
        first = None
        deadline = t0 + a.start_timeout
        while time.perf_counter() < deadline:
            if server.poll() is not None:
                sys.exit(f"server exited with {server.returncode}; see {log_path}")
            try:
                if c is None:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    c = Client(port)
                    if not c.login(a.user, a.password):
                        sys.exit(f"sign-in as {a.user} failed (no session cookie)")
                r, _ = c.request("GET", "/")
                if r.status == 200:
                    first = time.perf_counter() - t0
                    break
                sys.exit(f"GET / answered {r.status}")
            except (ConnectionRefusedError, socket.timeout, OSError) as e:
                if c is not None and not isinstance(e, ConnectionRefusedError):
                    raise
                time.sleep(0.02)
        if first is None:
            sys.exit(f"no signed-in page within {a.start_timeout} s")
        hwm = vm_hwm_kb(server.pid)
        print(f"serve: first signed-in Weekoverzicht after {first:.3f} s, server peak RSS {hwm / 1024:.0f} MB")
        emit("serve", "wall_s", f"{first:.3f}")
        emit("serve", "peak_rss_kb", hwm)

        if a.students_csv:
            with open(a.students_csv, newline="", encoding="utf-8-sig") as f:
                ids = [row["student_id"].strip() for _, row in zip(range(a.students), csv.DictReader(f))]
        else:
            r, data = c.request("GET", "/api/leerlingen")
            ids = [s["id"] if "id" in s else s["student"] for s in json.loads(data)][: a.students]
        if not ids:
            sys.exit("no students")

        for name, fn, lesson in [("form", bench_form, a.form_lesson), ("api", bench_api, a.api_lesson)]:
            if name in skip:
                continue
            lat, errors = fn(c, ids, date, lesson, a.requests, codes)
            s = summary(name, lat, errors)
            print(f"{name}: {s['n']} sequential changes over {len(ids)} students: p50 {s['p50_ms']:.2f} ms, "
                  f"p90 {s['p90_ms']:.2f} ms, p99 {s['p99_ms']:.2f} ms, max {s['max_ms']:.2f} ms, "
                  f"errors {errors}")
            for k in ["p50_ms", "p90_ms", "p99_ms", "max_ms", "errors"]:
                emit(name, k, f"{s[k]:.3f}" if isinstance(s[k], float) else s[k])
        emit("serve", "peak_rss_end_kb", vm_hwm_kb(server.pid))
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    if a.tsv:
        with open(a.tsv, "a") as f:
            for path, metric, value in results:
                f.write(f"{path}\t{a.label}\t{metric}\t{value}\n")


if __name__ == "__main__":
    main()
