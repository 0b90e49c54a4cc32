#!/usr/bin/env python3
"""DuckDB as a peer of `aanwezig evaluate` (issue 9).

Runs the rules of ../shared/spec/rules.md §4 as DuckDB window queries on the
same CSV files that `aanwezig demo --no-import` writes (calendar.toml,
policy.toml, students.csv, registrations.csv), times them, and then, in the
same run and interleaved (duckdb, aanwezig from files, aanwezig from the
database; 3 rounds), times `aanwezig evaluate --scope all --format json` and
prints the ratios aanwezig / duckdb. The signals DuckDB finds are compared
with aanwezig's JSON per rule, signal by signal (student, rule, fired_on).

Rules done in SQL: all eight of rules.md §4 (contact, afmelding_count,
afmelding_long, unexplained, afmelding_persist, duo_16h, duo_lrv,
duo_holiday). afmelding_persist is anchored on the latest 3a signal only:
the 3a conversations of cases (which the database may hold) are not
read, so on a database with cases aanwezig may differ there.

    pip install duckdb
    scripts/duckdb_peer.py --dir /tmp/aanwezig-bench/2000 [--db FILE]
        [--bin target/release/aanwezig] [--as-of 2026-07-03] [--rounds 3]
        [--threads N]

--dir is a directory written by
`aanwezig demo --students N --seed 7 --until 2026-07-03 --no-import --out DIR`
(scripts/bench-paths.sh makes and caches them). --db defaults to DIR/peer.db (not bench.db, which scripts/bench-paths.sh
changes through the web app)
and is imported first (untimed) when it does not exist. The binary comes from
--bin, else $AANWEZIG_BIN, else target/release/aanwezig. Only local files
are read; nothing goes over the network.
"""

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
import tomllib
from collections import Counter

RULES_SQL = ["contact", "afmelding_count", "afmelding_long", "unexplained",
             "afmelding_persist", "duo_16h", "duo_lrv", "duo_holiday"]
ABSENCE = ["reported_sick", "reported_other", "authorized", "unknown", "unauthorized"]


# --- calendar and policy (small: plain Python) -------------------------------

def as_date(v):
    if isinstance(v, dt.date):
        return v
    return dt.date.fromisoformat(str(v).strip())


def load_calendar(path):
    """School days with their teaching-week position, as rules.md §1 says."""
    with open(path, "rb") as f:
        doc = tomllib.load(f)
    days = []          # (date, year index)
    lessons = []       # (year index, lesson number, minutes)
    vakanties = []     # (first, last)
    for yi, y in enumerate(doc["school_year"]):
        first, last = as_date(y["first_day"]), as_date(y["last_day"])
        free = [(as_date(f["first"]), as_date(f["last"]), f["kind"]) for f in y.get("free_days", [])]
        vakanties += [(a, b) for a, b, k in free if k == "vakantie"]
        for l in y["lessons"]:
            lessons.append((yi, int(l["number"]), int(l["minutes"])))
        d = first
        while d <= last:
            if d.weekday() < 5 and not any(a <= d <= b for a, b, _ in free):
                days.append((d, yi))
            d += dt.timedelta(days=1)
    days.sort()
    # Teaching weeks: Monday-Sunday weeks holding a school day, numbered in order.
    weeks = {}
    for d, _ in days:
        monday = d - dt.timedelta(days=d.weekday())
        weeks.setdefault(monday, len(weeks))
    rows = []
    boundary = [False] * len(days)
    by_year = {}
    for i, (d, yi) in enumerate(days):
        by_year.setdefault(yi, []).append(i)
    for idxs in by_year.values():       # a year is framed by the zomervakantie
        boundary[idxs[0]] = boundary[idxs[-1]] = True
    dates = [d for d, _ in days]
    for a, b in vakanties:
        before = [i for i, d in enumerate(dates) if d < a]
        after = [i for i, d in enumerate(dates) if d > b]
        if before:
            boundary[before[-1]] = True
        if after:
            boundary[after[0]] = True
    for i, (d, yi) in enumerate(days):
        w = weeks[d - dt.timedelta(days=d.weekday())]
        rows.append((i, d, yi, w, d.weekday(), w * 5 + d.weekday(), boundary[i]))
    return rows, lessons


def load_policy(path):
    with open(path, "rb") as f:
        p = tomllib.load(f)

    def get(section, key, default):
        return p.get(section, {}).get(key, default)

    return {
        "codes": dict(p.get("codes", {})),
        "late_counts": p.get("late_counts", "minutes"),
        "afm": p.get("afmelding_categories", ["reported_sick", "reported_other"]),
        "unexpl": p.get("unexplained_categories", ["late_unexcused", "unknown", "unauthorized"]),
        "contact_excluded": get("contact", "excluded_categories", ["authorized"]),
        "count_min": get("afmelding_count", "min_episodes", 4),
        "count_weeks": get("afmelding_count", "window_weeks", 12),
        "long_day": get("afmelding_long", "day", 7),
        "persist_min": get("afmelding_persist", "min_new_episodes", 2),
        "persist_day": get("afmelding_persist", "day", 7),
        "unexpl_min_hours": get("unexplained", "min_hours", 0),
        "unexpl_weeks": get("unexplained", "window_weeks", 4),
        "h16_hours": get("duo_16h", "hours", 16),
        "h16_weeks": get("duo_16h", "window_weeks", 4),
        "h16_between": get("duo_16h", "min_days_between", 7),
        "lrv_weeks": get("duo_lrv", "window_weeks", 4),
        "holiday_cats": get("duo_holiday", "categories", ["unknown", "unauthorized"]),
        "enabled": {r: get(r, "enabled", True) for r in RULES_SQL},
    }


def sql_list(xs):
    return "[" + ", ".join("'" + x.replace("'", "''") + "'" for x in xs) + "]"


# --- the rules in DuckDB ------------------------------------------------------

class Timed:
    """A connection that prints how long each statement took (--verbose)."""

    def __init__(self, con):
        self.con, self.last = con, time.perf_counter()

    def execute(self, sql, *args):
        r = self.con.execute(sql, *args)
        now = time.perf_counter()
        print(f"    {now - self.last:7.3f} s  {' '.join(sql.split())[:70]}", file=sys.stderr)
        self.last = now
        return r

    def __getattr__(self, name):
        return getattr(self.con, name)


def run_duckdb(data, as_of, threads=None, verbose=False):
    """Returns (seconds, {rule: count}, set of (student, rule, fired_on))."""
    import duckdb

    t0 = time.perf_counter()
    cal_rows, lessons = load_calendar(os.path.join(data, "calendar.toml"))
    pol = load_policy(os.path.join(data, "policy.toml"))
    cal_rows = [r for r in cal_rows if r[1] <= as_of]
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    if verbose:
        con = Timed(con)
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    con.execute("CREATE TABLE cal(idx INT, date DATE, year INT, week INT, weekday INT, pos INT, boundary BOOL)")
    con.executemany("INSERT INTO cal VALUES (?, ?, ?, ?, ?, ?, ?)", cal_rows)
    con.execute("CREATE TABLE sched(year INT, lesson INT, minutes INT)")
    con.executemany("INSERT INTO sched VALUES (?, ?, ?)", lessons)
    con.execute("CREATE TABLE codes(code VARCHAR, category VARCHAR)")
    if pol["codes"]:
        con.executemany("INSERT INTO codes VALUES (?, ?)", list(pol["codes"].items()))
    reg = os.path.join(data, "registrations.csv").replace("'", "''")
    stu = os.path.join(data, "students.csv").replace("'", "''")
    con.execute(f"""CREATE TABLE students AS SELECT student_id AS s
        FROM read_csv('{stu}', header = true, all_varchar = true)""")
    late = pol["late_counts"]
    late_expr = {"minutes": "least(coalesce(minutes_late, 0), minutes)",
                 "lesson": "CASE WHEN minutes <= 60 THEN 60 ELSE minutes END",
                 "none": "0"}[late]
    # One row per student and school day: the day summary of the engine.
    con.execute(f"""
    CREATE TABLE day AS
    WITH r AS (
        SELECT r.student_id AS s, r.date, r.lesson, r.minutes AS minutes_in,
               coalesce(nullif(r.category, ''), c.category) AS cat, r.minutes_late
        FROM read_csv('{reg}', header = true, types = {{'student_id': 'VARCHAR', 'date': 'DATE',
             'lesson': 'INTEGER', 'minutes': 'INTEGER', 'code': 'VARCHAR', 'category': 'VARCHAR',
             'minutes_late': 'INTEGER', 'note': 'VARCHAR'}}) r
        LEFT JOIN codes c ON c.code = r.code
    ), m AS (
        SELECT r.s, cal.idx, r.cat, r.minutes_late,
               coalesce(r.minutes_in, sched.minutes) AS minutes
        FROM r JOIN cal ON cal.date = r.date
        LEFT JOIN sched ON sched.year = cal.year AND sched.lesson = r.lesson
    )
    SELECT s, idx,
        count(*) AS n,
        count(*) FILTER (WHERE cat IN {tuple(ABSENCE)}) AS absent,
        bool_or(cat IN {tuple(ABSENCE)} AND NOT list_contains({sql_list(pol['contact_excluded'])}, cat)) AS not_excluded,
        count(*) FILTER (WHERE cat IN {tuple(ABSENCE)} AND list_contains({sql_list(pol['unexpl'])}, cat)) AS unexpl_absent,
        bool_or(list_contains({sql_list(pol['afm'])}, cat)) AS afm,
        bool_or(list_contains({sql_list(pol['holiday_cats'])}, cat)) AS hol,
        sum(CASE WHEN NOT list_contains({sql_list(pol['unexpl'])}, cat) THEN 0
                 WHEN cat = 'late_unexcused' THEN {late_expr}
                 WHEN minutes <= 60 THEN 60 ELSE minutes END) AS mins
    FROM m GROUP BY s, idx
    """)
    # Every student on every school day (a day without lessons has no flags),
    # then the flags and every windowed quantity with window functions.
    # window(d, N) = the days with pos in (pos(d) - 5N, pos(d)], pos = 5 * week + weekday.
    W = lambda n: 5 * int(n) - 1
    con.execute(f"""
    CREATE TABLE g AS
    WITH base AS (
        SELECT st.s, cal.idx, cal.date, cal.pos, cal.boundary,
               coalesce(day.mins, 0) AS mins,
               coalesce(day.afm, false) AS afm,
               coalesce(day.hol, false) AS hol,
               coalesce(day.n > 0 AND day.absent = day.n AND day.not_excluded, false) AS contact_f,
               coalesce(day.n > 0 AND day.absent = day.n AND day.unexpl_absent = day.n, false) AS lrv_f
        FROM students st CROSS JOIN cal
        LEFT JOIN day ON day.s = st.s AND day.idx = cal.idx
    ), runs AS (
        SELECT *,
            -- the first day of the current run of afmelding days / whole unexplained days
            coalesce(max(CASE WHEN NOT afm THEN idx END) OVER (PARTITION BY s ORDER BY idx ROWS UNBOUNDED PRECEDING), -1) + 1 AS ep_start,
            coalesce(max(CASE WHEN NOT lrv_f THEN idx END) OVER (PARTITION BY s ORDER BY idx ROWS UNBOUNDED PRECEDING), -1) + 1 AS lrv_start,
            afm AND NOT coalesce(lag(afm) OVER (PARTITION BY s ORDER BY idx), false) AS ep_begins
        FROM base
    )
    SELECT *,
        sum(ep_begins::INT) OVER (PARTITION BY s ORDER BY pos RANGE BETWEEN {W(pol['count_weeks'])} PRECEDING AND CURRENT ROW) AS episodes_w,
        sum(mins) OVER (PARTITION BY s ORDER BY pos RANGE BETWEEN {W(pol['unexpl_weeks'])} PRECEDING AND CURRENT ROW) AS unexpl_w,
        sum(mins) OVER (PARTITION BY s ORDER BY pos RANGE BETWEEN {W(pol['h16_weeks'])} PRECEDING AND CURRENT ROW) AS h16_w
    FROM runs
    """)
    # duo_lrv needs window(d', N) of the previous school day d' and whether it is complete.
    n_lrv = int(pol["lrv_weeks"])
    con.execute(f"""
    CREATE TABLE calw AS
    SELECT c.idx,
           (SELECT min(e.idx) FROM cal e WHERE e.pos > p.pos - {5 * n_lrv} AND e.idx <= p.idx) AS prev_ws,
           p.pos >= {5 * n_lrv - 1} AS prev_complete
    FROM cal c JOIN cal p ON p.idx = c.idx - 1
    """)
    levels = f"""
    CREATE TABLE lv AS
    SELECT g.s, g.idx, g.date,
        g.contact_f AS contact,
        g.episodes_w >= {int(pol['count_min'])} AS afmelding_count,
        g.afm AND g.idx - g.ep_start + 1 >= {int(pol['long_day'])} AS afmelding_long,
        g.unexpl_w > {float(pol['unexpl_min_hours']) * 60} AS unexplained,
        coalesce(g.lrv_f AND w.prev_complete AND g.lrv_start <= w.prev_ws, false) AS duo_lrv
    FROM g LEFT JOIN calw w ON w.idx = g.idx
    """
    con.execute(levels)
    en = pol["enabled"]
    parts = []
    for rule in ["contact", "afmelding_count", "afmelding_long", "unexplained", "duo_lrv"]:
        if en.get(rule, True):
            parts.append(f"""SELECT s, '{rule}' AS rule, date FROM (
                SELECT s, date, {rule} AND NOT coalesce(lag({rule}) OVER (PARTITION BY s ORDER BY idx), false) AS edge
                FROM lv) WHERE edge""")
    if en.get("duo_holiday", True):
        parts.append("SELECT s, 'duo_holiday' AS rule, date FROM g WHERE boundary AND hol")
    con.execute("CREATE TABLE sig AS " + " UNION ALL ".join(parts))
    # afmelding_persist: anchored on the latest 3a signal before d; counts
    # the episodes that started after the anchor (c - ca).
    if en.get("afmelding_persist", True):
        con.execute(f"""INSERT INTO sig
        WITH p3a AS (SELECT DISTINCT s, date FROM sig WHERE rule IN ('afmelding_count', 'afmelding_long')),
        x AS (
            SELECT g.s, g.idx, g.date, g.afm, g.ep_start, g.ep_begins, p3a.s IS NOT NULL AS f3a,
                   sum(g.ep_begins::INT) OVER (PARTITION BY g.s ORDER BY g.idx ROWS UNBOUNDED PRECEDING) AS c
            FROM g LEFT JOIN p3a ON p3a.s = g.s AND p3a.date = g.date
        ), y AS (
            SELECT *, max(CASE WHEN f3a THEN idx END) OVER w AS a, max(CASE WHEN f3a THEN c END) OVER w AS ca
            FROM x WINDOW w AS (PARTITION BY s ORDER BY idx ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
        )
        SELECT s, 'afmelding_persist', date FROM y
        WHERE a IS NOT NULL AND ((ep_begins AND idx > a AND c - ca = {int(pol['persist_min'])})
                                 OR (afm AND ep_start > a AND idx - ep_start + 1 = {int(pol['persist_day'])}))""")
    # duo_16h: the reset makes it a walk; each round finds every student's
    # next melding with one window query over the days after the last one.
    if en.get("duo_16h", True):
        need = float(pol["h16_hours"]) * 60
        between = int(pol["h16_between"])
        wn = W(pol["h16_weeks"])
        con.execute(f"""CREATE TABLE f AS SELECT s, min(idx) AS idx, min(date) AS date, 1 AS round
            FROM g WHERE h16_w >= {need} GROUP BY s""")
        con.execute("CREATE TABLE h16 AS SELECT * FROM f")
        rnd = 1
        while con.execute("SELECT count(*) FROM f").fetchone()[0] > 0:
            rnd += 1
            con.execute(f"""CREATE OR REPLACE TABLE f AS
            WITH after AS (
                SELECT g.s, g.idx, g.date, g.pos, g.mins, f.date AS last_date
                FROM g JOIN f ON g.s = f.s AND g.idx > f.idx
            ), w AS (
                SELECT *, sum(mins) OVER (PARTITION BY s ORDER BY pos RANGE BETWEEN {wn} PRECEDING AND CURRENT ROW) AS sum_w
                FROM after
            )
            SELECT s, min(idx) AS idx, min(date) AS date, {rnd} AS round FROM w
            WHERE sum_w >= {need} AND date - last_date >= {between} GROUP BY s""")
            con.execute("INSERT INTO h16 SELECT * FROM f")
        con.execute("INSERT INTO sig SELECT s, 'duo_16h', date FROM h16")
    rows = con.execute("SELECT s, rule, date FROM sig").fetchall()
    secs = time.perf_counter() - t0
    con.close()
    found = {(s, r, d.isoformat()) for s, r, d in rows}
    return secs, Counter(r for _, r, _ in found), found


# --- aanwezig -----------------------------------------------------------------

def timed(cmd, out_path):
    t0 = time.perf_counter()
    with open(out_path, "wb") as out:
        p = subprocess.run(cmd, stdout=out, stderr=subprocess.PIPE)
    secs = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr.decode(errors='replace')[-2000:]}")
    return secs


def signals_of(json_path):
    with open(json_path) as f:
        doc = json.load(f)
    return {(s["student"], s["rule"], s["fired_on"]) for s in doc["signals"]}, doc


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", required=True, help="demo directory (calendar.toml, policy.toml, students.csv, registrations.csv)")
    ap.add_argument("--db", help="aanwezig database of the same data (default DIR/peer.db; imported when missing)")
    ap.add_argument("--bin", default=os.environ.get("AANWEZIG_BIN", "target/release/aanwezig"))
    ap.add_argument("--as-of", default="2026-07-03")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, help="DuckDB threads (default: all cores)")
    ap.add_argument("--examples", type=int, default=5, help="disagreements shown per rule")
    ap.add_argument("--verbose", action="store_true", help="time every DuckDB statement (stderr)")
    a = ap.parse_args()
    try:
        import duckdb
    except ImportError:
        sys.exit("duckdb ontbreekt: pip install duckdb")
    as_of = dt.date.fromisoformat(a.as_of)
    data = os.path.abspath(a.dir)
    files = {k: os.path.join(data, k + ext) for k, ext in
             [("calendar", ".toml"), ("policy", ".toml"), ("students", ".csv"), ("registrations", ".csv")]}
    for p in files.values():
        if not os.path.exists(p):
            sys.exit(f"missing {p}")
    db = os.path.abspath(a.db or os.path.join(data, "peer.db"))
    bin_ = os.path.abspath(a.bin)
    if not os.path.exists(db):
        print(f"importing {db} (untimed) ...", flush=True)
        subprocess.run([bin_, "--db", db, "import", "--calendar", files["calendar"], "--policy", files["policy"],
                        "--students", files["students"], "--registrations", files["registrations"]],
                       check=True, stdout=subprocess.DEVNULL)
    with open(files["registrations"], "rb") as f:
        rows = sum(1 for _ in f) - 1
    with open(files["students"], "rb") as f:
        n_students = sum(1 for _ in f) - 1
    print(f"data: {data}: {n_students} students, {rows} registrations; as of {as_of}; "
          f"duckdb {duckdb.__version__}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")
    print(f"rules in DuckDB: {', '.join(RULES_SQL)} (afmelding_persist without case conversations)")

    common = ["evaluate", "--scope", "all", "--format", "json", "--as-of", a.as_of]
    files_cmd = [bin_] + common + ["--calendar", files["calendar"], "--students", files["students"],
                                   "--registrations", files["registrations"], "--policy", files["policy"]]
    db_cmd = [bin_, "--db", db] + common
    tmp = tempfile.mkdtemp(prefix="duckdb-peer-")
    times = {"duckdb": [], "files": [], "db": []}
    duck_found = None
    for r in range(a.rounds):
        secs, counts, duck_found = run_duckdb(data, as_of, a.threads, a.verbose and r == 0)
        times["duckdb"].append(secs)
        times["files"].append(timed(files_cmd, os.path.join(tmp, "files.json")))
        times["db"].append(timed(db_cmd, os.path.join(tmp, "db.json")))
        print(f"round {r + 1}: duckdb {secs:.3f} s, aanwezig files {times['files'][-1]:.3f} s, "
              f"aanwezig db {times['db'][-1]:.3f} s", flush=True)

    best = {k: min(v) for k, v in times.items()}
    print()
    print(f"{'':24}{'best':>9}{'median':>9}   (s, {a.rounds} rounds, interleaved)")
    for k, label in [("duckdb", f"duckdb ({len(RULES_SQL)} rules)"), ("files", "aanwezig evaluate files"), ("db", "aanwezig evaluate --db")]:
        v = sorted(times[k])
        print(f"{label:24}{best[k]:9.3f}{v[len(v) // 2]:9.3f}")
    print(f"ratio aanwezig files / duckdb: {best['files'] / best['duckdb']:.2f}   "
          f"aanwezig db / duckdb: {best['db'] / best['duckdb']:.2f}   (best of each)")

    # Agreement, signal by signal.
    a_files, doc = signals_of(os.path.join(tmp, "files.json"))
    a_db, _ = signals_of(os.path.join(tmp, "db.json"))
    if a_files != a_db:
        print(f"NOTE: files and db disagree: {len(a_files - a_db)} only in files, {len(a_db - a_files)} only in db")
    ours = Counter(r for _, r, _ in a_files)
    print()
    print(f"signals up to {doc.get('evaluated_through')} ({doc.get('students')} students):")
    print(f"{'rule':20}{'aanwezig':>10}{'duckdb':>10}{'same':>10}{'only aanw':>11}{'only duck':>11}")
    disagreements = 0
    for rule in RULES_SQL + sorted(set(ours) - set(RULES_SQL)):
        mine = {x for x in a_files if x[1] == rule}
        theirs = {x for x in duck_found if x[1] == rule}
        if rule not in RULES_SQL:
            print(f"{rule:20}{ours[rule]:>10}{'—':>10}   (not in DuckDB)")
            continue
        only_a, only_d = sorted(mine - theirs), sorted(theirs - mine)
        disagreements += len(only_a) + len(only_d)
        print(f"{rule:20}{len(mine):>10}{len(theirs):>10}{len(mine & theirs):>10}{len(only_a):>11}{len(only_d):>11}")
        for x in only_a[:a.examples]:
            print(f"    only aanwezig: {x[0]} {x[2]}")
        for x in only_d[:a.examples]:
            print(f"    only duckdb:   {x[0]} {x[2]}")
    print("agreement: " + (f"all signals of the {len(RULES_SQL)} rules identical" if disagreements == 0
                           else f"{disagreements} signals differ (listed above)"))
    for p in os.listdir(tmp):
        os.remove(os.path.join(tmp, p))
    os.rmdir(tmp)


if __name__ == "__main__":
    main()
