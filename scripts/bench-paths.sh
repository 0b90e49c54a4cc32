#!/usr/bin/env bash
# The paths users run, measured whole (issue 9): import, evaluate from the
# database and from files, server start to the first signed-in
# Weekoverzicht, and one lesson changed through the web form and the API.
#
#   scripts/bench-paths.sh [options] [SIZES...]      (default sizes: 2000 20000 100000)
#
#   --bin PATH       the aanwezig binary (default $AANWEZIG_BIN, else target/release/aanwezig)
#   --dir DIR        cache and results (default $BENCH_DIR, else /tmp/aanwezig-bench)
#   --requests N     sequential changes per web path (default 1000)
#   --only LIST      comma list of paths to run: import,eval-db,eval-files,serve,change
#                    (default all; eval-*/serve/change need the import of the same run
#                    or an earlier one)
#   --runs N         run each evaluate N times and keep the fastest (default 1)
#   --report TSV...  measure nothing: print the table and scaling of earlier
#                    results files together (e.g. one run per size)
#
# Per size N the demo school is generated once and cached in DIR/N
# (aanwezig demo --students N --seed 7 --until 2026-07-03 --no-import);
# every run imports it into a fresh DIR/N/bench.db. Wall time and peak RSS
# come from /usr/bin/time; the server's peak RSS from /proc/PID/status
# (VmHWM) when the first page answers. The web paths run
# scripts/bench_requests.py (python3, stdlib only). All traffic goes to
# 127.0.0.1. If hyperfine is installed, the evaluate commands are also
# timed with it (3 runs); it is not required.
#
# Output: one table (path | N | wall | rate | peak RSS), the scaling ratios
# time(20000)/time(2000) (linear: ≈10) and time(100000)/time(20000) (≈5),
# and the same results as TSV in DIR/results-YYYYmmdd-HHMMSS.tsv.
set -euo pipefail
self=$(realpath "$0")
cd "$(dirname "$self")/.."
root=$PWD

bin=${AANWEZIG_BIN:-target/release/aanwezig}
dir=${BENCH_DIR:-/tmp/aanwezig-bench}
requests=1000
only=import,eval-db,eval-files,serve,change
runs=1
report=0
sizes=()
while [ $# -gt 0 ]; do
  case $1 in
    --bin) bin=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --requests) requests=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --report) report=1; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$self"; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) sizes+=("$1"); shift ;;
  esac
done
if [ "$report" = 1 ]; then
  tsv=$(mktemp)
  printf 'path\tN\twall_s\trate\tpeak_rss_kb\tnote\n' > "$tsv"
  for f in "${sizes[@]}"; do tail -n +2 "$f" >> "$tsv"; done
  sizes=()
else
  [ ${#sizes[@]} -gt 0 ] || sizes=(2000 20000 100000)
fi
if [ "$report" = 0 ]; then
bin=$(realpath "$bin")
[ -x "$bin" ] || { echo "no binary at $bin (build it or pass --bin)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time is missing: apt-get install time" >&2; exit 1; }
mkdir -p "$dir"
dir=$(realpath "$dir")
want() { case ",$only," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }

asof=2026-07-03
stamp=$(date +%Y%m%d-%H%M%S)
tsv=$dir/results-$stamp.tsv
printf 'path\tN\twall_s\trate\tpeak_rss_kb\tnote\n' > "$tsv"
echo "binary: $bin ($(stat -c %y "$bin" | cut -d. -f1))"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GB, $(uname -r); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "results: $tsv"
fi
password=bench-wachtwoord-$$-$RANDOM

# run LABEL CMD... : runs CMD under /usr/bin/time (stdout to /dev/null);
# sets $wall (s) and $rss (kB). Fails loudly with the command's stderr.
run() {
  local label=$1; shift
  local tf err
  tf=$(mktemp); err=$(mktemp)
  if ! /usr/bin/time -f '%e %M' -o "$tf" "$@" > /dev/null 2> "$err"; then
    echo "FAILED: $label: $*" >&2; tail -20 "$err" >&2; cat "$tf" >&2
    rm -f "$tf" "$err"; return 1
  fi
  read -r wall rss < <(tail -1 "$tf")
  rm -f "$tf" "$err"
}

# best of $runs
run_best() {
  local label=$1; shift
  local bw="" br=""
  for _ in $(seq 1 "$runs"); do
    run "$label" "$@" || return 1
    if [ -z "$bw" ] || awk -v a="$wall" -v b="$bw" 'BEGIN { exit !(a < b) }'; then bw=$wall; fi
    if [ -z "$br" ] || [ "$rss" -gt "$br" ]; then br=$rss; fi
  done
  wall=$bw; rss=$br
  if command -v hyperfine > /dev/null && [ "${HYPERFINE:-1}" != 0 ]; then
    hyperfine --runs 3 --style basic --output null -n "$label" -- "$(printf '%q ' "$@")" 2>&1 | sed 's/^/    hyperfine: /' | grep -E 'Time|Range' || true
  fi
}

mb() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }

row() { # path N wall rate rss note
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >> "$tsv"
}

for n in "${sizes[@]}"; do
  d=$dir/$n
  mkdir -p "$d"
  if [ ! -s "$d/registrations.csv" ]; then
    echo "== $n: generating the demo school in $d"
    "$bin" demo --students "$n" --seed 7 --until "$asof" --no-import --out "$d" > "$d/demo.log"
  fi
  cal=$d/calendar.toml pol=$d/policy.toml stu=$d/students.csv reg=$d/registrations.csv
  db=$d/bench.db
  rows=$(( $(wc -l < "$reg") - 1 ))
  echo "== $n students, $rows registrations"

  if want import; then
    rm -f "$db" "$db-wal" "$db-shm" "$db.serve.log"
    if run import "$bin" --db "$db" import --calendar "$cal" --policy "$pol" --students "$stu" --registrations "$reg"; then
      rate=$(awk -v r="$rows" -v w="$wall" 'BEGIN { printf "%.0f", (w > 0 ? r / w : 0) }')
      echo "   import: $wall s, $rate rows/s, $(mb "$rss") MB"
      row import "$n" "$wall" "$rate rows/s" "$rss" "$rows rows"
    else
      row import "$n" FAILED "" "" ""
    fi
  fi
  [ -s "$db" ] || { echo "   no database $db: skipping the other paths" >&2; continue; }

  if want eval-db; then
    for scope in all week; do
      if run_best "evaluate --db --scope $scope" "$bin" --db "$db" evaluate --scope "$scope" --format json --as-of "$asof"; then
        echo "   evaluate --db --scope $scope: $wall s, $(mb "$rss") MB"
        row "evaluate-db-$scope" "$n" "$wall" "" "$rss" ""
      else
        row "evaluate-db-$scope" "$n" FAILED "" "" ""
      fi
    done
  fi

  if want eval-files; then
    if run_best "evaluate files" "$bin" evaluate --calendar "$cal" --students "$stu" --registrations "$reg" --policy "$pol" \
        --scope all --format json --as-of "$asof"; then
      echo "   evaluate from files: $wall s, $(mb "$rss") MB"
      row evaluate-files "$n" "$wall" "" "$rss" ""
    else
      row evaluate-files "$n" FAILED "" "" ""
    fi
  fi

  if want serve || want change; then
    if ! "$bin" --db "$db" user list 2>/dev/null | grep -q '\bbench\b'; then
      printf '%s\n' "$password" | "$bin" --db "$db" user add bench --name "Bench Mark" \
        --role verzuimcoordinator --password-stdin --by bench > /dev/null
    else
      printf '%s\n' "$password" | "$bin" --db "$db" user passwd bench --password-stdin --by bench > /dev/null
    fi
    reqtsv=$(mktemp)
    skip=""
    want change || skip=form,api
    if BENCH_PASSWORD=$password python3 "$root/scripts/bench_requests.py" --bin "$bin" --db "$db" --user bench \
        --today "$asof" --requests "$requests" --students-csv "$stu" --skip "$skip" \
        --tsv "$reqtsv" --label "$n" | sed 's/^/   /'; then
      get() { awk -F'\t' -v p="$1" -v m="$2" '$1 == p && $3 == m { print $4 }' "$reqtsv"; }
      row serve-first-page "$n" "$(get serve wall_s)" "" "$(get serve peak_rss_kb)" "peak RSS at end of web run: $(get serve peak_rss_end_kb) kB"
      if want change; then
        for p in form api; do
          row "change-$p" "$n" "$(awk -v x="$(get $p p50_ms)" 'BEGIN { printf "%.4f", x / 1000 }')" \
            "p99 $(get $p p99_ms) ms" "" "p50 $(get $p p50_ms) ms, p90 $(get $p p90_ms) ms, max $(get $p max_ms) ms, $requests requests, errors $(get $p errors)"
        done
      fi
    else
      row serve-first-page "$n" FAILED "" "" "see $db.serve.log"
    fi
    rm -f "$reqtsv"
  fi
done

echo
awk -F'\t' '
  NR == 1 { next }
  {
    wall = ($3 == "FAILED" || $3 == "") ? $3 : sprintf("%.3f s", $3)
    if ($1 ~ /^change-/) { split($6, a, ","); wall = a[1] }
    rss = ($5 == "") ? "" : sprintf("%.0f MB", $5 / 1024)
    printf "%-20s | %7s | %-14s | %-18s | %9s\n", $1, $2, wall, $4, rss
  }
  BEGIN { printf "%-20s | %7s | %-14s | %-18s | %9s\n", "path", "N", "wall", "rate", "peak RSS"
          print "---------------------+---------+----------------+--------------------+----------" }
' "$tsv"

echo
echo "scaling (time ratio; linear is 10 for 20000/2000 and 5 for 100000/20000):"
awk -F'\t' '
  NR == 1 || $3 == "FAILED" || $3 == "" { next }
  { t[$1, $2] = $3; if (!($1 in seen)) { seen[$1] = 1; order[++k] = $1 } }
  END {
    for (i = 1; i <= k; i++) {
      p = order[i]; line = ""
      if (((p, 2000) in t) && ((p, 20000) in t) && t[p, 2000] > 0)
        line = line sprintf("  time(20000)/time(2000) = %.1f", t[p, 20000] / t[p, 2000])
      if (((p, 20000) in t) && ((p, 100000) in t) && t[p, 20000] > 0)
        line = line sprintf("  time(100000)/time(20000) = %.1f", t[p, 100000] / t[p, 20000])
      if (line != "") printf "%-20s%s\n", p, line
    }
  }
' "$tsv"
if [ "$report" = 1 ]; then rm -f "$tsv"; else echo "(TSV: $tsv)"; fi
