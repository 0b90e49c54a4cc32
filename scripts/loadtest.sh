#!/usr/bin/env bash
# Load test of the web app: the demo school (2,000 students, the school year
# up to today, its demo dossiers) in a release build, 50 signed-in sessions,
# and wrk asking for the dashboard, a student page, a dossier, Mijn taken,
# the dossier list and the DUO meldingen, each request carrying one of the
# 50 session cookies in turn.
#
#   scripts/loadtest.sh [seconds per page, default 30]
#       one server on an SQLite file, 50 connections.
#   scripts/loadtest.sh SECONDS postgres://user@host/database
#       two servers on one (new, empty) PostgreSQL database: the demo school
#       is made through server A, both serve it, and two wrk runs at once
#       ask each server with 50 connections (100 in all); the sessions are
#       made on A and used on both. Then the change propagation from A to B
#       is measured (scripts/propagation.py).
#
# Traffic goes to 127.0.0.1 only. Needs wrk and curl (apt-get install wrk curl).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
pg=${2:-}
command -v wrk >/dev/null || { echo "wrk ontbreekt: apt-get install wrk" >&2; exit 1; }

cargo build --release -p aanwezig
bin=$PWD/target/release/aanwezig
work=$(mktemp -d)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() {
  for _ in $(seq 1 300); do
    grep -q "draait op" "$1" && return 0
    sleep 1
  done
  echo "de server startte niet:" >&2; cat "$1" >&2; exit 1
}
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$work"' EXIT

port_a=$(free_port)
if [ -n "$pg" ]; then
  db=$pg
else
  db="$work/load.db"
fi
"$bin" --db "$db" serve --demo --demo-students 2000 --addr "127.0.0.1:$port_a" > "$work/a.log" 2>&1 &
pids+=($!)
wait_for "$work/a.log"
servers=("http://127.0.0.1:$port_a")
if [ -n "$pg" ]; then
  port_b=$(free_port)
  start=$(date +%s.%N)
  "$bin" --db "$db" serve --addr "127.0.0.1:$port_b" > "$work/b.log" 2>&1 &
  pids+=($!)
  wait_for "$work/b.log"
  echo "server B gestart (school geladen en geëvalueerd) in $(echo "$(date +%s.%N) - $start" | bc) s"
  servers+=("http://127.0.0.1:$port_b")
fi
password=$(grep -o 'wachtwoord: [^)]*' "$work/a.log" | cut -d' ' -f2)
student=$(grep -o 'Voorbeeldleerling: [0-9]*' "$work/a.log" | cut -d' ' -f2)
dossier=$(grep -o 'Voorbeelddossier: [0-9]*' "$work/a.log" | cut -d' ' -f2)
base=${servers[0]}

# 50 sessions of the verzuimcoördinator (the role that sees all students),
# made on server A; with two servers they work on B as well.
: > "$work/cookies.txt"
for i in $(seq 1 50); do
  curl -s -o /dev/null -c "$work/jar$i" --data-urlencode "gebruikersnaam=coordinator" \
    --data-urlencode "wachtwoord=$password" --data-urlencode "terug=/" "$base/inloggen"
  awk '$6 == "aanwezig_sessie" { print "aanwezig_sessie=" $7 }' "$work/jar$i" >> "$work/cookies.txt"
done
echo "sessies: $(wc -l < "$work/cookies.txt")"

cat > "$work/cookies.lua" <<LUA
local cookies = {}
for line in io.lines("$work/cookies.txt") do cookies[#cookies + 1] = line end
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", nil, { ["Cookie"] = cookies[(n % #cookies) + 1] })
end
LUA

for path in "/" "/leerlingen/$student" "/leerlingen/$dossier/dossier" "/taken" "/dossiers" "/meldingen"; do
  echo
  if [ ${#servers[@]} -eq 1 ]; then
    echo "== GET $path, 50 verbindingen, ${secs}s"
    wrk -t2 -c50 -d"${secs}s" --latency -s "$work/cookies.lua" "$base$path"
  else
    echo "== GET $path, 2 servers × 50 verbindingen tegelijk, ${secs}s"
    wrk -t1 -c50 -d"${secs}s" --latency -s "$work/cookies.lua" "${servers[0]}$path" > "$work/wrk_a.txt" &
    wa=$!
    wrk -t1 -c50 -d"${secs}s" --latency -s "$work/cookies.lua" "${servers[1]}$path" > "$work/wrk_b.txt"
    wait $wa
    for s in a b; do
      echo "-- server ${s^^}"
      grep -E "Latency|50%|90%|99%|Requests/sec|Non-2xx" "$work/wrk_$s.txt"
    done
  fi
done

if [ ${#servers[@]} -eq 2 ]; then
  echo
  python3 scripts/propagation.py "${servers[0]}" "${servers[1]}" coordinator "$password" "$student" 200
fi
