#!/usr/bin/env bash
# Runs every test of aanwezig on a fresh machine: installs what the tests
# need when it is missing, then runs the whole workspace's tests and the
# web tests once more on PostgreSQL, and ends with one line that totals
# both runs.
set -euo pipefail
cd "$(dirname "$0")/.."

# Browser tests drive Debian's Chromium through chromedriver.
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  echo "chromium en chromium-driver installeren voor de browsertests"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium chromium-driver
fi

# Mail tests talk to a real SMTP server: Python's aiosmtpd.
if ! python3 -c "import aiosmtpd" >/dev/null 2>&1; then
  echo "aiosmtpd installeren voor de e-mailtests"
  python3 -m pip install --quiet aiosmtpd || python3 -m pip install --quiet --user aiosmtpd
fi

# The PostgreSQL backend's tests create a database per test on a real
# server (AANWEZIG_TEST_PG). Use the one that answers on 127.0.0.1:5432;
# otherwise install Debian's PostgreSQL and start its cluster with trust
# authentication for connections from 127.0.0.1.
if ! pg_isready -q -h 127.0.0.1 -p 5432 >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    echo "postgresql installeren voor de tests van de PostgreSQL-opslag"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql
  fi
  pg_version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$pg_version" ]; then
    echo "geen PostgreSQL-cluster gevonden in /etc/postgresql" >&2
    exit 1
  fi
  hba="/etc/postgresql/${pg_version}/main/pg_hba.conf"
  if ! $sudo grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
    echo "PostgreSQL ${pg_version}: verbindingen vanaf 127.0.0.1 zonder wachtwoord toestaan (alleen voor de tests)"
    # First match wins in pg_hba.conf: the trust line goes on top.
    $sudo sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
  fi
  echo "PostgreSQL ${pg_version} starten"
  $sudo pg_ctlcluster "$pg_version" main start 2>/dev/null ||
    $sudo pg_ctlcluster "$pg_version" main reload
  for _ in $(seq 1 30); do
    pg_isready -q -h 127.0.0.1 -p 5432 && break
    sleep 1
  done
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    echo "PostgreSQL antwoordt niet op 127.0.0.1:5432" >&2
    exit 1
  fi
fi
export AANWEZIG_TEST_PG="${AANWEZIG_TEST_PG:-postgres://postgres@127.0.0.1:5432/postgres}"

# The browser tests run axe-core (from npm) in every page they visit; it
# lives in target/axe. The version matches AXE_VERSION in
# crates/web/tests/web/browser.rs.
axe_version=4.14.1
if [ ! -f target/axe/node_modules/axe-core/axe.min.js ] ||
  ! grep -q "\"version\": \"${axe_version}\"" target/axe/node_modules/axe-core/package.json; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "npm ontbreekt: de browsertests hebben axe-core uit npm nodig" >&2
    exit 1
  fi
  echo "axe-core ${axe_version} installeren voor de toegankelijkheidscontrole"
  mkdir -p target/axe
  npm install --silent --no-audit --no-fund --prefix target/axe "axe-core@${axe_version}"
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
started=$SECONDS
set +e
cargo test --workspace --locked 2>&1 | tee "$log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
workspace_seconds=$((SECONDS - started))

# Every web test again, on PostgreSQL: each app gets a database of its own
# on AANWEZIG_TEST_PG (crates/web/tests/web/common.rs). Those tests mostly
# wait on the server (creating and dropping a database per app), not on
# the CPU, so four run at a time. `--workspace` keeps the features of the
# build above, so nothing is compiled again.
started=$SECONDS
AANWEZIG_TEST_BACKEND=postgres cargo test --workspace --locked --test web -- --test-threads 4 2>&1 | tee -a "$log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
postgres_seconds=$((SECONDS - started))
set -e

passed=$(grep -Eo '^test result: [a-zA-Z]+\. [0-9]+ passed' "$log" | awk '{s += $4} END {print s + 0}')
failed=$(grep -Eo '[0-9]+ failed;' "$log" | awk '{s += $1} END {print s + 0}')
echo
echo "workspace: ${workspace_seconds} s; web tests on PostgreSQL: ${postgres_seconds} s"
echo "tests: ${passed} passed, ${failed} failed"
exit "$status"
