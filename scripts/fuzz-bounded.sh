#!/usr/bin/env bash
# Runs every fuzz target for a bounded time from its committed seeds (fuzz/seeds/<target>),
# as part of the test command; a crash fails it and leaves the input in fuzz/artifacts/.
#   bash scripts/fuzz-bounded.sh            # FUZZ_SECONDS per target, default 15
# cargo-fuzz needs the nightly toolchain (for its sanitizer flags). Without one this says so
# and stops with status 0: the targets still compile on stable (scripts/test.sh checks that)
# and their seeds replay in `cargo test` (core/tests/fuzz_seeds.rs).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds=${FUZZ_SECONDS:-15}
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  echo "fuzz: NOT RUN: no nightly toolchain here (rustup toolchain install nightly to run it)"
  exit 0
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  cargo install --quiet --locked cargo-fuzz --version '^0.13'
fi
cargo +nightly fuzz build --release 2>&1 | tail -1
targets=$(sed -n 's/^name = "\(.*\)"$/\1/p' Cargo.toml | grep -v '^consent-fuzz$')
for t in $targets; do
  mkdir -p "corpus/$t"
  # -max_total_time bounds the run; rss_limit guards the shared machine.
  # The banner keeps its policy's bytes for the page's life (wasm/src/lib.rs leaks them on
  # purpose), which LeakSanitizer reports: leaks are not checked for that target.
  leaks=1
  [ "$t" = banner ] && leaks=0
  log=$(mktemp)
  status=0
  ASAN_OPTIONS="detect_leaks=$leaks" cargo +nightly fuzz run --release "$t" "corpus/$t" "seeds/$t" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -detect_leaks="$leaks" >"$log" 2>&1 || status=$?
  if [ "$status" -ne 0 ]; then
    tail -40 "$log"
    rm -f "$log"
    echo "fuzz: target $t failed (status $status); the input is in fuzz/artifacts/$t/"
    exit 1
  fi
  grep -E "^Done [0-9]+ runs" "$log" || true
  rm -f "$log"
  echo "fuzz: $t ran ${seconds}s without a failure"
done
