#!/usr/bin/env bash
# Load test of the web app: the demo school (2,000 students, the school year
# up to today, its demo dossiers) in a release build, 50 signed-in sessions,
# and wrk asking for the dashboard, a student page, a dossier, Mijn taken,
# the dossier list and the DUO meldingen with 50 concurrent connections,
# each request carrying one of the 50 session cookies in turn.
#
#   scripts/loadtest.sh [seconds per page, default 30]
#
# Traffic goes to 127.0.0.1 only. Needs wrk and curl (apt-get install wrk curl).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
command -v wrk >/dev/null || { echo "wrk ontbreekt: apt-get install wrk" >&2; exit 1; }

cargo build --release -p aanwezig
bin=$PWD/target/release/aanwezig
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" --db "$work/load.db" serve --demo --demo-students 2000 --addr "127.0.0.1:$port" > "$work/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 120); do
  grep -q "draait op" "$work/serve.log" && break
  sleep 1
done
password=$(grep -o 'wachtwoord: [^)]*' "$work/serve.log" | cut -d' ' -f2)
student=$(grep -o 'Voorbeeldleerling: [0-9]*' "$work/serve.log" | cut -d' ' -f2)
dossier=$(grep -o 'Voorbeelddossier: [0-9]*' "$work/serve.log" | cut -d' ' -f2)
base="http://127.0.0.1:$port"

# 50 sessions of the verzuimcoördinator (the role that sees all students).
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
  echo "== GET $path, 50 verbindingen, ${secs}s"
  wrk -t2 -c50 -d"${secs}s" --latency -s "$work/cookies.lua" "$base$path"
done
