#!/usr/bin/env bash
# Fuzzes every importer of crates/import for a bounded time.
#
#   ./scripts/fuzz.sh [SECONDS]      (default 60 seconds per target)
#
# Installs cargo-fuzz when it is missing, builds the targets of
# crates/import/fuzz once (stable Rust with RUSTC_BOOTSTRAP=1: cargo-fuzz
# needs nightly flags such as -Zsanitizer), then runs each target for
# SECONDS on a scratch copy of its committed seed corpus, so the grown
# corpus never ends up in the work tree. Prints one line per target,
#
#   fuzz <target>: <N> executions, <K> crashes
#
# and exits non-zero when any target crashed (a panic, an out-of-memory,
# a timeout) or failed to run. The crashing input is kept under
# crates/import/fuzz/artifacts/<target>/; its path and the end of the
# fuzzer's log are printed. Replay one with
#   RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir crates/import/fuzz <target> <file>
# FUZZ_TARGETS="students_csv workbook" runs only the targets named.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
  echo "gebruik: $0 [SECONDEN]  (een geheel aantal seconden per fuzz-target, standaard 60)" >&2
  exit 2
fi

export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "cargo-fuzz installeren"
  cargo install cargo-fuzz --locked
fi

fuzz_dir=crates/import/fuzz
target_dir="$fuzz_dir/target"
host=$(rustc -vV | sed -n 's/^host: //p')
all="students_csv registrations_csv calendar_toml policy_toml rijksoverheid_json workbook"
read -r -a targets <<<"${FUZZ_TARGETS:-$all}"

# One build for all targets: release with debug assertions and overflow
# checks, AddressSanitizer (cargo-fuzz's defaults).
cargo fuzz build --fuzz-dir "$fuzz_dir" --target-dir "$target_dir"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

failed=0
for t in "${targets[@]}"; do
  # Text formats stay well below 64 KiB; a workbook is a zip and needs room.
  max_len=32768
  [ "$t" = workbook ] && max_len=65536

  corpus="$work/corpus/$t"
  mkdir -p "$corpus"
  cp "$fuzz_dir/corpus/$t/"* "$corpus/"
  artifacts="$fuzz_dir/artifacts/$t"
  mkdir -p "$artifacts"
  log="$work/$t.log"

  set +e
  "$target_dir/$host/release/$t" "$corpus" \
    -max_total_time="$seconds" \
    -rss_limit_mb=2048 \
    -max_len="$max_len" \
    -timeout=25 \
    -print_final_stats=1 \
    -artifact_prefix="$artifacts/" \
    >"$log" 2>&1
  status=$?
  set -e

  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  if [ -z "$execs" ]; then
    # No final stats (the process died hard): the last progress line.
    execs=$(grep -Eo '^#[0-9]+' "$log" | tail -n 1 | tr -d '#')
  fi
  # Slow inputs are written too (slow-unit-*) but are no failure.
  crashes=$(grep -cE 'Test unit written to .*/(crash|oom|timeout|leak)-' "$log" || true)
  echo "fuzz $t: ${execs:-0} executions, $crashes crashes"

  if [ "$status" -ne 0 ] || [ "$crashes" -gt 0 ]; then
    failed=1
    echo "--- fuzz $t: exit $status, end of the fuzzer's log:"
    # Without progress lines and stack frames, so the panic message or the
    # sanitizer's verdict stays in view.
    grep -v -E '^#[0-9]+|^ +#[0-9]+ |^ +[0-9]+: |^ +at |^stack backtrace:' "$log" | tail -n 25
    sed -nE 's#.*Test unit written to (.*/(crash|oom|timeout|leak)-.*)#crashing input: \1#p' "$log" | sort -u
    echo "---"
  fi
done

exit "$failed"
