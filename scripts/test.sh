#!/usr/bin/env bash
# Runs every test of aanwezig on a fresh machine: installs what the tests
# need when it is missing, then runs the whole workspace's tests and ends
# with one line that totals them.
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
set +e
cargo test --workspace --locked 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
passed=$(grep -Eo '^test result: [a-zA-Z]+\. [0-9]+ passed' "$log" | awk '{s += $4} END {print s + 0}')
failed=$(grep -Eo '[0-9]+ failed;' "$log" | awk '{s += $1} END {print s + 0}')
echo
echo "tests: ${passed} passed, ${failed} failed"
exit "$status"
