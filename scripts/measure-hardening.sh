#!/usr/bin/env bash
# Measurements for the closing note of issue 8 ("Hardening"), on a release
# binary, against servers on 127.0.0.1 only:
#
#   scripts/measure-hardening.sh BINARY [SIGN_INS] [ROUNDS] [BACKUPS]
#
#   1. crafted workbooks (scripts/hostile-workbooks.py --big) and the demo's
#      students.csv: peak memory (/usr/bin/time -v), wall time, exit code and
#      first error line of `aanwezig import --students`, and the same files
#      uploaded on the Importeren page by the beheerder (server VmHWM before
#      and after, HTTP status, the first error shown);
#   2. sign-in limiter: SIGN_INS (default 100,000) failed sign-ins with
#      hostile user names (1 KB random names, 100 of 1 MB, short random
#      names, `coordinator` with a wrong password; half with a forged
#      X-Forwarded-For) against a server without --trusted-proxy; server
#      memory, responses by status, database and audit-log growth, and
#      whether `coordinator` can sign in right after. Then SIGN_INS/5 against
#      a server with --trusted-proxy 127.0.0.1 (random client addresses, the
#      guesses at coordinator from one address) and the real user signing in
#      from another address;
#   3. ROUNDS (default 200) rounds of two users saving the same class
#      register lesson at the same moment: HTTP statuses, winners, mixes;
#   4. BACKUPS (default 20) `aanwezig backup` runs while a loop saves class
#      registers through the web: integrity_check and every acknowledged
#      save of before the backup began present in the copy.
#
# Needs python3 (standard library) and /usr/bin/time. Takes about 5 minutes
# on 2 cores. Each finding's load (uptime) is printed next to it. After each
# limiter run, H8_REPEAT (default 3) more batches of SIGN_INS/5 show whether
# server memory keeps growing. KEEP=1 keeps the scratch folder.
set -euo pipefail
[ $# -ge 1 ] || { echo "gebruik: $0 BINARY [SIGN_INS] [ROUNDS] [BACKUPS]" >&2; exit 2; }
bin=$(readlink -f "$1")
signins=${2:-100000}
rounds=${3:-200}
backups=${4:-20}
[ -x "$bin" ] || { echo "$bin is geen uitvoerbaar bestand" >&2; exit 2; }
repo=$(cd "$(dirname "$0")/.." && pwd)
cal="$repo/data/calendars/2026-2027-noord.toml"
work=$(mktemp -d /tmp/measure-hardening.XXXXXX)
servers=()
cleanup() {
  for p in "${servers[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${servers[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "${KEEP:-0}" = 1 ]; then echo "scratch: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
summary="$work/summary.txt"
: > "$summary"
load() { uptime | sed 's/.*load average: /load /'; }
note() { echo "$*" | tee -a "$summary"; }

# start_server NAME [serve options]: a fresh demo server; sets pid, base, password.
start_server() {
  local name=$1; shift
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$bin" --db "$work/$name.db" serve --demo --demo-students 2000 --addr "127.0.0.1:$port" "$@" \
    > "$work/$name.log" 2>&1 &
  pid=$!
  servers+=("$pid")
  for _ in $(seq 1 300); do
    grep -q "draait op" "$work/$name.log" && break
    kill -0 "$pid" 2>/dev/null || { cat "$work/$name.log" >&2; exit 1; }
    sleep 1
  done
  grep -q "draait op" "$work/$name.log" || { echo "server $name start niet" >&2; exit 1; }
  password=$(grep -o 'wachtwoord: [^)]*' "$work/$name.log" | cut -d' ' -f2)
  base="http://127.0.0.1:$port"
}
stop_server() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

cat > "$work/h8.py" <<'PY'
#!/usr/bin/env python3
"""HTTP side of scripts/measure-hardening.sh (standard library only).

    h8.py upload   BASE PID USER PASSWORD FILE...
    h8.py limiter  BASE PID DB PASSWORD N [--trusted]
    h8.py register BASE PASSWORD ROUNDS
    h8.py backup   BASE BIN DB PASSWORD N WORKDIR

Talks only to BASE (http://127.0.0.1:PORT). Every loop is bounded in
count and in time. Prints `key: value` lines the shell script tabulates.
"""
import http.client
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter

BASE = None
HOST = None
PORT = None


def setup(base):
    global BASE, HOST, PORT
    BASE = base.rstrip("/")
    u = urllib.parse.urlparse(BASE)
    assert u.hostname == "127.0.0.1", "alleen 127.0.0.1"
    HOST, PORT = u.hostname, u.port


def conn(timeout=120):
    return http.client.HTTPConnection(HOST, PORT, timeout=timeout)


def request(method, path, body=None, headers=None, c=None, timeout=120):
    h = {"Origin": BASE}
    h.update(headers or {})
    own = c is None
    c = c or conn(timeout)
    try:
        if isinstance(body, str):
            body = body.encode()
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), data.decode("utf-8", "replace")
    finally:
        if own:
            c.close()


def form(d):
    return urllib.parse.urlencode(d)


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def login(user, password, xff=None):
    h = dict(FORM)
    if xff:
        h["X-Forwarded-For"] = xff
    st, hd, body = request("POST", "/inloggen", form({"gebruikersnaam": user, "wachtwoord": password, "terug": "/"}), h)
    cookie = None
    sc = hd.get("set-cookie", "")
    m = re.search(r"aanwezig_sessie=([^;]+)", sc)
    if m:
        cookie = "aanwezig_sessie=" + m.group(1)
    return st, hd, body, cookie


class Session:
    def __init__(self, user, password):
        st, hd, body, cookie = login(user, password)
        if st != 303 or not cookie:
            raise SystemExit(f"inloggen als {user} mislukt: HTTP {st} {alert(body)}")
        self.cookie = cookie
        st, _, body = self.get("/")
        m = re.search(r'name="csrf" value="([0-9a-f]+)"', body)
        if not m:
            raise SystemExit("geen CSRF-token gevonden")
        self.csrf = m.group(1)

    def get(self, path, c=None):
        return request("GET", path, headers={"Cookie": self.cookie}, c=c)

    def post(self, path, data, c=None):
        h = dict(FORM)
        h["Cookie"] = self.cookie
        return request("POST", path, form(data), h, c=c)


def strip(html):
    t = re.sub(r"<[^>]+>", " ", html)
    for a, b in (("&amp;", "&"), ("&lt;", "<"), ("&gt;", ">"), ("&#39;", "'"), ("&quot;", '"'), ("&#x27;", "'")):
        t = t.replace(a, b)
    return re.sub(r"\s+", " ", t).strip()


def alert(html):
    m = re.search(r'role="alert"[^>]*>(.*?)</(p|div)>', html, re.S)
    return strip(m.group(1)) if m else ""


def proc_status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                out[k] = int(v.split()[0]) // 1024  # MiB
    return out


# --- 1. uploads -------------------------------------------------------------

def upload(argv):
    base, pid, user, password, files = argv[0], int(argv[1]), argv[2], argv[3], argv[4:]
    setup(base)
    s = Session(user, password)
    for path in files:
        name = os.path.basename(path)
        with open(path, "rb") as f:
            data = f.read()
        boundary = "----h8" + os.urandom(8).hex()
        parts = [
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"soort\"\r\n\r\nleerlingen\r\n".encode(),
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"bestand\"; filename=\"{name}\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n".encode(),
            data,
            f"\r\n--{boundary}--\r\n".encode(),
        ]
        body = b"".join(parts)
        before = proc_status(pid)
        t0 = time.time()
        try:
            st, hd, html = request("POST", f"/importeren?csrf={s.csrf}", body,
                                   {"Cookie": s.cookie, "Content-Type": f"multipart/form-data; boundary={boundary}"},
                                   timeout=300)
        except Exception as e:  # the server died or hung
            st, html = f"geen antwoord ({type(e).__name__})", ""
        dt = time.time() - t0
        alive = os.path.exists(f"/proc/{pid}")
        after = proc_status(pid) if alive else {"VmHWM": -1, "VmRSS": -1}
        # The first problem: the error table's message or the alert.
        m = re.search(r'class="import-errors".*?<tbody>.*?<tr>(.*?)</tr>', html, re.S)
        if m:
            tds = re.findall(r"<td[^>]*>(.*?)</td>", m.group(1), re.S)
            text = strip(tds[-1]) if tds else ""
        else:
            text = alert(html) or strip(re.sub(r"(?s).*<main[^>]*>|</main>.*", "", html))[:200]
        print(f"upload {name}: status={st} s={dt:.2f} hwm_before={before['VmHWM']} hwm_after={after['VmHWM']} "
              f"rss_after={after['VmRSS']} alive={alive} text={text[:300]}", flush=True)


# --- 2. sign-in limiter --------------------------------------------------------

def db_copy_stats(db, tmpdir):
    """Counts of the live database, read from a copy made with the online
    backup API (consistent while the server writes)."""
    dst = os.path.join(tmpdir, "copy-%d.db" % os.getpid())
    src = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    out = sqlite3.connect(dst)
    src.backup(out)
    src.close()
    r = out.execute("SELECT count(*), coalesce(sum(length(username) + length(detail)), 0), "
                    "coalesce(max(length(username)), 0) FROM audit_log").fetchone()
    page = out.execute("PRAGMA page_size").fetchone()[0]
    used = (out.execute("PRAGMA page_count").fetchone()[0] - out.execute("PRAGMA freelist_count").fetchone()[0]) * page
    failed = out.execute("SELECT count(*) FROM audit_log WHERE action LIKE '%fail%' OR action LIKE '%mislukt%'").fetchone()[0]
    actions = out.execute("SELECT action, count(*) FROM audit_log GROUP BY action").fetchall()
    out.close()
    os.remove(dst)
    return {"used_bytes": used, "audit_rows": r[0], "audit_bytes": r[1], "audit_max_name": r[2], "actions": dict(actions), "failed": failed}


def file_size(db):
    return sum(os.path.getsize(p) for p in (db, db + "-wal") if os.path.exists(p))


ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"


def limiter(argv):
    base, pid, db, password, n = argv[0], int(argv[1]), argv[2], argv[3], int(argv[4])
    trusted = "--trusted" in argv
    setup(base)
    tmpdir = os.path.dirname(os.path.abspath(db))
    rnd = random.Random(8)
    # 1 MB names: plain letters, so 1 MB on the wire too. 1 KB names: also
    # characters that need escaping or are not allowed in a user name.
    big = "".join(rnd.choice(ALNUM) for _ in range(2 << 20))
    mixed = "".join(rnd.choice(ALNUM * 4 + "ABCé€\u202e\x01<>&%' ") for _ in range(1 << 16))

    def kb(i, r):
        off = r.randrange(len(mixed) - 1024)
        return ("%08d" % i + mixed[off:off + 1016]).encode()[:1024].decode("utf-8", "ignore")

    def rand_ip(r):
        if r.random() < 0.5:
            return "%d.%d.%d.%d" % (r.randrange(1, 224), r.randrange(256), r.randrange(256), r.randrange(1, 255))
        return "2001:db8:%x:%x::%x" % (r.randrange(65536), r.randrange(65536), r.randrange(1, 65536))

    def make(i, r):
        """(name, password, X-Forwarded-For) of attempt i."""
        kind = i % 20
        if i % 1000 == 500 and not trusted:
            off = r.randrange(len(big) - (1 << 20))
            name = big[off:off + (1 << 20)]            # 1 MB: 100 per 100,000
        elif kind in (1, 2):
            name = "coordinator"                       # the real account, wrong password
        elif kind in (3, 4, 5):
            name = "".join(r.choice(ALNUM) for _ in range(r.randrange(8, 65)))  # a possible name
        else:
            name = kb(i, r)                            # 1 KB, all different
        if trusted:
            # Behind a trusted proxy: the guesses at coordinator come from one
            # address, everything else from random ones (IPv4 and IPv6).
            xff = "198.51.100.7" if kind in (1, 2) else rand_ip(r)
            if kind in (3, 4, 5) and r.random() < 0.97:
                name = kb(i, r)                        # keep argon2 checks few
        else:
            xff = rand_ip(r) if i % 2 == 0 else None   # forged, must be ignored
        return name, "fout-" + str(i), xff

    lock = threading.Lock()

    def attack(first, count):
        """Sends attempts first..first+count with H8_THREADS connections."""
        counts = Counter()
        nxt = [first]
        end = first + count
        sent = [0]
        deadline = time.time() + float(os.environ.get("H8_LIMITER_SECONDS", "600"))

        def worker(seed):
            r = random.Random(seed)
            c = conn(60)
            while time.time() < deadline:
                with lock:
                    i = nxt[0]
                    if i >= end:
                        break
                    nxt[0] += 1
                name, pw, xff = make(i, r)
                h = dict(FORM)
                if xff:
                    h["X-Forwarded-For"] = xff
                body = form({"gebruikersnaam": name, "wachtwoord": pw, "terug": "/"})
                try:
                    st = request("POST", "/inloggen", body, h, c=c)[0]
                except Exception as e:
                    st = type(e).__name__
                    c.close()
                    c = conn(60)
                with lock:
                    counts[st] += 1
                    sent[0] += len(body)
            c.close()

        t0 = time.time()
        threads = [threading.Thread(target=worker, args=(first + k,))
                   for k in range(int(os.environ.get("H8_THREADS", "8")))]
        for t in threads:
            t.start()
        peak = 0
        while any(t.is_alive() for t in threads):
            time.sleep(0.5)
            if os.path.exists(f"/proc/{pid}"):
                peak = max(peak, proc_status(pid)["VmRSS"])
        for t in threads:
            t.join()
        return counts, time.time() - t0, sent[0], peak

    before = proc_status(pid)
    size0 = file_size(db)
    stats0 = db_copy_stats(db, tmpdir)
    counts, dt, sent, peak = attack(0, n)
    after = proc_status(pid)
    time.sleep(2)
    later = proc_status(pid)
    stats1 = db_copy_stats(db, tmpdir)
    size1 = file_size(db)
    total = sum(counts.values())
    print(f"limiter_mode: {'trusted-proxy 127.0.0.1' if trusted else 'no trusted proxy'}")
    print(f"limiter_requests: {total} in {dt:.1f} s ({total / dt:.0f}/s), {sent / 1e6:.0f} MB sent")
    print("limiter_status: " + ", ".join(f"{k}={v}" for k, v in sorted(counts.items(), key=str)))
    print(f"limiter_rss_mib: before={before['VmRSS']} after={after['VmRSS']} after+2s={later['VmRSS']} "
          f"hwm={after['VmHWM']} (hwm before={before['VmHWM']}, highest VmRSS sampled during the run={peak})")
    print(f"limiter_db_bytes: files db+wal before={size0} after={size1} growth={size1 - size0}; "
          f"pages in use before={stats0['used_bytes']} after={stats1['used_bytes']} "
          f"growth={stats1['used_bytes'] - stats0['used_bytes']}")
    print(f"limiter_audit_rows: before={stats0['audit_rows']} after={stats1['audit_rows']} "
          f"growth={stats1['audit_rows'] - stats0['audit_rows']}, text bytes growth="
          f"{stats1['audit_bytes'] - stats0['audit_bytes']}, longest name={stats1['audit_max_name']} chars")
    # The real user right after, with the right password.
    checks = [("same address (TCP 127.0.0.1, no XFF)", None)]
    if trusted:
        checks = [("other address XFF 203.0.113.50", "203.0.113.50"),
                  ("attacker's address XFF 198.51.100.7", "198.51.100.7")]
    for label, xff in checks:
        t1 = time.time()
        st, hd, body, cookie = login("coordinator", password, xff)
        print(f"coordinator_now[{label}]: HTTP {st} in {time.time() - t1:.2f} s, "
              f"retry-after={hd.get('retry-after', '-')}, signed_in={bool(cookie)} {alert(body)}")
        if st == 429:
            wait = int(hd.get("retry-after", "1"))
            if wait <= 330:
                time.sleep(wait + 0.2)
                st, hd, body, cookie = login("coordinator", password, xff)
                print(f"coordinator_after_wait[{label}]: waited {wait} s, HTTP {st}, signed_in={bool(cookie)} {alert(body)}")
    # Is memory given back or does it keep growing? More rounds of the same.
    extra = int(os.environ.get("H8_REPEAT", "3"))
    for k in range(extra):
        c2, d2, _, p2 = attack(n * (k + 1) + 1_000_000, n // 5)
        st = proc_status(pid)
        print(f"limiter_repeat {k + 1}: {sum(c2.values())} more in {d2:.1f} s "
              f"({', '.join(f'{a}={b}' for a, b in sorted(c2.items(), key=str))}): "
              f"VmRSS={st['VmRSS']} VmHWM={st['VmHWM']} MiB")


# --- 3. concurrent register saves -------------------------------------------------

CODES = ["A", "Z", "S", "GE", "V", "M", "O", "GI"]


def parse_register(html):
    ids = dict(re.findall(r'name="r(\d+)_id" value="([^"]+)"', html))
    vers = dict(re.findall(r'name="r(\d+)_versie" value="([^"]*)"', html))
    sel = {}
    for idx, inner in re.findall(r'<select id="r(\d+)_code"[^>]*>(.*?)</select>', html, re.S):
        m = re.search(r'<option value="([^"]*)" selected', inner)
        sel[idx] = m.group(1) if m else None
    return {idx: (ids[idx], vers.get(idx), sel.get(idx)) for idx in ids}


def find_lesson(s, klas, start, back=60):
    """A school day with a register form for klas, going back from start."""
    import datetime
    d = datetime.date.fromisoformat(start)
    for _ in range(back):
        if d.weekday() < 5:
            st, _, html = s.get(f"/registreren/{klas}/{d.isoformat()}/1")
            if st == 200 and parse_register(html):
                return d.isoformat()
        d -= datetime.timedelta(days=1)
    raise SystemExit("geen schooldag gevonden")


def submission(rows, code):
    data = {}
    for idx, (sid, ver, _) in rows.items():
        data[f"r{idx}_id"] = sid
        data[f"r{idx}_versie"] = ver
        data[f"r{idx}_code"] = code
        data[f"r{idx}_te_laat"] = ""
    return data


def register(argv):
    base, password, rounds = argv[0], argv[1], int(argv[2])
    setup(base)
    a = Session("coordinator", password)
    b = Session("mentor_1a", password)
    klas = "1A"
    day = find_lesson(a, klas, os.environ.get("H8_DAY", time.strftime("%Y-%m-%d")))
    path = f"/registreren/{klas}/{day}/2"
    outcome = Counter()
    statuses = Counter()
    mixes = []
    deadline = time.time() + float(os.environ.get("H8_REGISTER_SECONDS", "600"))
    done = 0
    for r in range(rounds):
        if time.time() > deadline:
            break
        _, _, ha = a.get(path)
        _, _, hb = b.get(path)
        ra, rb = parse_register(ha), parse_register(hb)
        ca, cb = CODES[(2 * r) % len(CODES)], CODES[(2 * r + 1) % len(CODES)]
        da, db = submission(ra, ca), submission(rb, cb)
        da["csrf"], db["csrf"] = a.csrf, b.csrf
        res = {}
        barrier = threading.Barrier(2)
        ca_conn, cb_conn = conn(), conn()

        def go(key, s, data, c):
            barrier.wait()
            res[key] = s.post(path, data, c=c)[0]

        ts = [threading.Thread(target=go, args=("a", a, da, ca_conn)), threading.Thread(target=go, args=("b", b, db, cb_conn))]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        ca_conn.close()
        cb_conn.close()
        statuses[res["a"]] += 1
        statuses[res["b"]] += 1
        _, _, hf = a.get(path)
        final = [sel for (_, _, sel) in parse_register(hf).values()]
        if all(x == ca for x in final):
            state = "A"
        elif all(x == cb for x in final):
            state = "B"
        else:
            state = "mix"
            mixes.append((r, Counter(final), res))
        ok = {k for k, v in res.items() if v in (303, 200)}
        key = f"{'+'.join(sorted(ok)) or 'none'} saved -> {state}"
        outcome[key] += 1
        done += 1
    print(f"register_lesson: {path}, {len(ra)} students, users coordinator (A) and mentor_1a (B)")
    print(f"register_rounds: {done}")
    print("register_http: " + ", ".join(f"{k}={v}" for k, v in sorted(statuses.items(), key=str)))
    print("register_outcomes: " + ", ".join(f"{k}: {v}" for k, v in sorted(outcome.items())))
    print(f"register_mixed: {len(mixes)}")
    for m in mixes[:5]:
        print(f"  mix in round {m[0]}: {dict(m[1])} http={m[2]}")


# --- 4. backup under write load ---------------------------------------------------

def backup(argv):
    base, binary, db, password, n, work = argv[0], argv[1], argv[2], argv[3], int(argv[4]), argv[5]
    setup(base)
    s = Session("coordinator", password)
    import datetime
    _, _, html = s.get("/registreren")
    m = re.search(r'<select id="klas"[^>]*>(.*?)</select>', html, re.S)
    klassen = re.findall(r'<option value="([^"]+)"', m.group(1))[:6] if m else ["1A"]
    start = find_lesson(s, klassen[0], os.environ.get("H8_DAY", time.strftime("%Y-%m-%d")))
    acked = []          # (time acknowledged, klas, date, lesson, {student: code})
    lock = threading.Lock()
    stop = threading.Event()
    errors = Counter()

    def writer():
        c = conn()
        d = datetime.date.fromisoformat(start)
        k = 0
        deadline = time.time() + float(os.environ.get("H8_BACKUP_SECONDS", "600"))
        while not stop.is_set() and time.time() < deadline:
            if d.weekday() >= 5:
                d -= datetime.timedelta(days=1)
                continue
            for lesson in range(1, 7):
                for klas in klassen:
                    if stop.is_set():
                        return
                    p = f"/registreren/{urllib.parse.quote(klas, safe='')}/{d.isoformat()}/{lesson}"
                    st, _, html = s.get(p, c=c)
                    rows = parse_register(html) if st == 200 else {}
                    if not rows:
                        errors[f"GET {st}"] += 1
                        continue
                    data = {"csrf": s.csrf}
                    want = {}
                    for idx, (sid, ver, _) in rows.items():
                        code = CODES[(int(idx) + k) % 3]  # A, Z, S: a pattern per save
                        data.update({f"r{idx}_id": sid, f"r{idx}_versie": ver, f"r{idx}_code": code, f"r{idx}_te_laat": ""})
                        want[sid] = code
                    k += 1
                    st, _, _ = s.post(p, data, c=c)
                    if st == 303:
                        with lock:
                            acked.append((time.time(), klas, d.isoformat(), lesson, want))
                    else:
                        errors[f"POST {st}"] += 1
            d -= datetime.timedelta(days=1)

    w = threading.Thread(target=writer)
    w.start()
    time.sleep(2)
    good = 0
    results = []
    secs = []
    missing_total = 0
    integrity_ok = 0
    for i in range(n):
        with lock:
            before = list(acked)
        out = os.path.join(work, f"backup-{i:02d}.db")
        t0 = time.time()
        p = subprocess.run([binary, "--db", db, "backup", out], capture_output=True, text=True, timeout=300)
        dt = time.time() - t0
        with lock:
            during = len(acked) - len(before)
        integrity = "?"
        missing = 0
        if p.returncode == 0 and os.path.exists(out):
            con = sqlite3.connect(out)
            integrity = con.execute("PRAGMA integrity_check").fetchone()[0]
            for (_, klas, day, lesson, want) in before:
                # Students first, then the registration by its primary key.
                got = dict(con.execute(
                    "SELECT s.number, r.code FROM students s CROSS JOIN registrations r "
                    "ON r.student_id = s.id AND r.date = ? AND r.lesson = ? WHERE s.class = ?",
                    (day, lesson, klas)).fetchall())
                missing += sum(1 for sid, code in want.items() if got.get(sid) != code)
            con.close()
        ok = p.returncode == 0 and integrity == "ok" and missing == 0
        secs.append(dt)
        missing_total += missing
        integrity_ok += integrity == "ok"
        good += ok
        results.append(f"  backup {i + 1:2d}: rc={p.returncode} {dt:.2f} s, integrity={integrity}, "
                       f"acked before={len(before)}, saves during={during}, rows missing={missing}"
                       + (f" stderr={p.stderr.strip()[:200]}" if p.returncode else ""))
        if i + 1 < n:
            time.sleep(0.5)
        os.remove(out) if ok else None
    stop.set()
    w.join()
    print(f"backup_good: {good} of {n} (integrity_check ok: {integrity_ok}, acknowledged rows missing: {missing_total}, "
          f"backup took {min(secs):.2f}-{max(secs):.2f} s)")
    print(f"backup_saves_acked_total: {len(acked)}; writer errors: {dict(errors)}")
    print("\n".join(results))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"upload": upload, "limiter": limiter, "register": register, "backup": backup}[cmd](args)
PY
h8() { python3 "$work/h8.py" "$@"; }

echo "binary: $bin ($(stat -c '%y' "$bin" | cut -d. -f1)); $(nproc) cores; $(load)" | tee -a "$summary"

# --- 1. crafted workbooks -------------------------------------------------------
python3 "$repo/scripts/hostile-workbooks.py" "$work/wb" --big > /dev/null
"$bin" --db "$work/demo-files.db" demo --no-import --out "$work/demo" --students 2000 > /dev/null
cp "$work/demo/students.csv" "$work/wb/students.csv"
files="students.csv corner.xlsx many.xlsx repeat-bomb.ods sst-bomb.xlsx sst-2gb.xlsx"
note
note "== 1. workbooks, CLI: aanwezig --db T.db import --calendar data/calendars/2026-2027-noord.toml --students FILE   ($(load))"
printf '%-16s %10s %12s %8s %5s  %s\n' file bytes peak_MiB wall_s exit first_line | tee -a "$summary"
for f in $files; do
  set +e
  timeout 600 /usr/bin/time -v -o "$work/time-$f" "$bin" --db "$work/cli-$f.db" import \
    --calendar "$cal" --students "$work/wb/$f" > "$work/out-$f" 2> "$work/err-$f"
  rc=$?
  set -e
  peak=$(awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2/1024}' "$work/time-$f")
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/time-$f" \
    | awk -F: '{ s=0; for (i=1;i<=NF;i++) s=s*60+$i; printf "%.2f", s }')
  # The summary line and the first error under it (or the last output line).
  first=$( (grep -v '^\s*$' "$work/err-$f" || true) | head -2 | paste -sd'|' | sed "s|$work/wb/||g")
  [ -n "$first" ] || first=$( (grep -v '^\s*$' "$work/out-$f" || true) | tail -1)
  printf '%-16s %10s %12s %8s %5s  %s\n' "$f" "$(stat -c %s "$work/wb/$f")" "$peak" "$wall" "$rc" "${first:0:260}" \
    | tee -a "$summary"
done

start_server upload
note
note "== 1. workbooks, server: beheerder uploads each file as leerlingen on /importeren (server pid $pid, $(load))"
h8 upload "$base" "$pid" beheer "$password" $(for f in $files; do echo "$work/wb/$f"; done) | tee -a "$summary"
kill -0 "$pid" 2>/dev/null && note "server still running after the uploads" || note "SERVER DIED during the uploads"
stop_server "$pid"

# --- 2. sign-in limiter ----------------------------------------------------------
start_server limiter
note
note "== 2a. $signins hostile failed sign-ins, no --trusted-proxy (X-Forwarded-For on half of them, ignored) ($(load))"
h8 limiter "$base" "$pid" "$work/limiter.db" "$password" "$signins" | tee -a "$summary"
note "load after: $(load)"
stop_server "$pid"

start_server trusted --trusted-proxy 127.0.0.1
note
note "== 2b. $((signins / 5)) hostile failed sign-ins, --trusted-proxy 127.0.0.1 (random client addresses; coordinator guessed from 198.51.100.7) ($(load))"
h8 limiter "$base" "$pid" "$work/trusted.db" "$password" "$((signins / 5))" --trusted | tee -a "$summary"
note "load after: $(load)"
stop_server "$pid"

# --- 3. and 4. ------------------------------------------------------------------------
start_server register
note
note "== 3. $rounds rounds: coordinator and mentor_1a save the same register lesson at once ($(load))"
h8 register "$base" "$password" "$rounds" | tee -a "$summary"
note
note "== 4. $backups x aanwezig backup while a loop saves registers through the web ($(load))"
h8 backup "$base" "$bin" "$work/register.db" "$password" "$backups" "$work" | tee "$work/backup.txt"
grep -v '^  backup ' "$work/backup.txt" >> "$summary"
note "load after: $(load)"
stop_server "$pid"

echo
echo "==================== samenvatting ===================="
cat "$summary"
