#!/usr/bin/env bash
# Measures the import of a full school year's absence-only Magister-style
# export (issue 10's target: 2,000 students at >= 500,000 rows/s).
#
#   ./scripts/bench-magister.sh [STUDENTS] [RUNS]     (default 2000 3)
#
# Builds the release binary, generates the demo school of STUDENTS students
# for the whole school year 2025-2026, turns its registrations into the
# export Magister gives (absences only, `;`, Windows-1252, D-M-JJJJ, Dutch
# headers, extra columns), imports calendar, policy and students into a
# fresh database, and then times `aanwezig import --format magister` of
# the export (the first import, and a re-import of the same file: its
# period is checked for absences to retract). Prints rows per second.
set -euo pipefail
cd "$(dirname "$0")/.."
students=${1:-2000}
runs=${2:-3}
cargo build --release -q -p aanwezig
bin=$PWD/target/release/aanwezig
work=${BENCH_DIR:-/tmp/aanwezig-bench-magister}/$students
mkdir -p "$work"
if [ ! -f "$work/magister.csv" ]; then
  rm -rf "$work/demo"
  "$bin" --db "$work/unused.db" demo --students "$students" --until 2026-07-03 --no-import --out "$work/demo" >/dev/null
  python3 - "$work/demo/registrations.csv" "$work/magister.csv" <<'PY'
import csv, sys
src, dst = sys.argv[1], sys.argv[2]
kinds = {"late_unexcused": ("2", "Nee"), "late_excused": ("2", "Ja"), "reported_sick": ("3", "Ja"),
         "reported_other": ("1", "Ja"), "authorized": ("1", "Ja"), "unknown": ("1", "Nee"),
         "unauthorized": ("1", "Nee"), "not_absence": ("7", "Nee")}
n = 0
with open(src, newline="") as f, open(dst, "w", encoding="cp1252", newline="") as out:
    out.write("Stamnr;Achternaam;Klas;Datum;Lesuur;Code;Omschrijving;Geoorloofd;Verantwoordingtype;Minuten te laat;Opmerking\r\n")
    for r in csv.DictReader(f):
        if r["category"] == "present" or (not r["code"] and not r["category"]):
            continue
        y, m, d = r["date"].split("-")
        cat = r["category"]
        vt, ge = kinds.get(cat, ("1", "Nee"))
        note = r["note"].replace(";", ",")
        out.write(f'{r["student_id"]};Leerling;1A;{int(d)}-{int(m)}-{y};{r["lesson"]};{r["code"]};;{ge};{vt};{r["minutes_late"]};{note}\r\n')
        n += 1
print(f"export: {n} rows", file=sys.stderr)
PY
fi
rows=$(($(wc -l < "$work/magister.csv") - 1))
size=$(du -h "$work/magister.csv" | cut -f1)
echo "export: $rows rows ($size), $students students, school year 2025-2026"
for run in $(seq 1 "$runs"); do
  db="$work/run.db"
  rm -f "$db" "$db-wal" "$db-shm"
  "$bin" --db "$db" import --calendar "$work/demo/calendar.toml" --policy "$work/demo/policy.toml" \
    --students "$work/demo/students.csv" >/dev/null
  for what in first again; do
    start=$(date +%s.%N)
    "$bin" --db "$db" import --registrations "$work/magister.csv" --format magister --until 2026-07-03 >/dev/null
    end=$(date +%s.%N)
    python3 -c "import sys; s=float(sys.argv[2])-float(sys.argv[1]); print(f'run $run, $what import: {s:.2f} s, {int($rows/s):,} rows/s')" "$start" "$end"
  done
done
