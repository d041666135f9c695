#!/usr/bin/env bash
# POST /consent under a bounded load from a second process on 127.0.0.1.
#
#   bash server/benches/load.sh            # 3 runs of 20 s, 64 connections, 2 wrk threads
#   RUNS=5 DURATION=30s CONNECTIONS=32 bash server/benches/load.sh
#
# Each run: a fresh log in a temp dir under target/ (the repository's disk, not tmpfs);
# `consent serve --rate-limit 0` (durable as shipped: WAL, synchronous=FULL, group commit)
# on an ephemeral loopback port; wrk (Debian's package) replays a pool of valid, distinct
# submissions (server/examples/submission.rs) from an allowed Origin; then the server is
# stopped and `consent verify` walks the chain. Every 2xx wrk counted must be in the log:
# 2xx <= records <= 2xx + connections (requests still in flight when wrk stops may have
# been committed without wrk counting them). Prints each run and the medians.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
RUNS=${RUNS:-3}
DURATION=${DURATION:-20s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
BODIES=${BODIES:-10000}
ORIGIN=https://klinikka.fi

command -v wrk >/dev/null || { echo "wrk not found: apt-get install -y wrk" >&2; exit 2; }

cargo build --release --quiet -p consent-server --bin consent --example submission
CONSENT=$TARGET/release/consent

mkdir -p "$TARGET/bench-tmp"
WORK=$(mktemp -d "$TARGET/bench-tmp/load.XXXXXX")
SERVER_PID=
cleanup() {
    if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

"$TARGET/release/examples/submission" "$BODIES" >"$WORK/bodies.jsonl"

cat >"$WORK/post.lua" <<'LUA'
-- Requests are formatted once per thread; each thread starts at a different body.
local requests = {}
local headers = { ["Content-Type"] = "application/json", ["Origin"] = os.getenv("ORIGIN") }
for line in io.lines(os.getenv("BODIES_FILE")) do
  requests[#requests + 1] = wrk.format("POST", "/consent", headers, line)
end
local i = 0
local counter = 0
function setup(thread)
  thread:set("start", counter * 977)
  counter = counter + 1
end
function init(args)
  i = start or 0
end
function request()
  i = i % #requests + 1
  return requests[i]
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d non2xx=%d connect=%d read=%d write=%d timeout=%d " ..
    "p50_us=%d p90_us=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
LUA

# Disk flush requests completed on the log's device (field 16 of /sys/block/<dev>/stat):
# the device's, not only ours, so a rough count of commits.
DEV=$(basename "$(df --output=source "$WORK" | tail -1)")
flushes() { awk '{print $16}' "/sys/block/$DEV/stat" 2>/dev/null || echo 0; }
cpu_seconds() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.1f", ($14 + $15) / hz}' "/proc/$1/stat"; }

median() { sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}')"
echo "load: $RUNS runs x $DURATION, $CONNECTIONS connections, $THREADS wrk threads, $BODIES distinct bodies"
: >"$WORK/results"
for run in $(seq 1 "$RUNS"); do
    dir="$WORK/run$run"
    mkdir -p "$dir"
    # wrk's connections all come from one address: the per-client cap (64 by default) would
    # close those past it, so it is lifted to the global limit.
    RUST_LOG=${RUST_LOG:-info} "$CONSENT" serve --rate-limit 0 \
        --max-connections-per-client 1024 \
        --db "$dir/consent.db" --key-file "$dir/consent.key" \
        --listen 127.0.0.1:0 --origin "$ORIGIN" 2>"$dir/server.log" &
    SERVER_PID=$!
    addr=
    for _ in $(seq 1 100); do
        addr=$(sed -n 's/.*listening on http:\/\/\([0-9.:]*\).*/\1/p' "$dir/server.log" | head -1)
        if [[ -n $addr ]] && curl -sf "http://$addr/healthz" >/dev/null; then break; fi
        addr=
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$dir/server.log" >&2; exit 1; }
        sleep 0.1
    done
    [[ -n $addr ]] || { echo "server not ready in 10 s" >&2; cat "$dir/server.log" >&2; exit 1; }

    # One request first: a body the server refuses would make the whole run meaningless.
    status=$(head -1 "$WORK/bodies.jsonl" | curl -s -o "$dir/first.json" -w '%{http_code}' \
        -H "Origin: $ORIGIN" -H 'Content-Type: application/json' --data-binary @- "http://$addr/consent")
    [[ $status == 201 ]] || { echo "first POST answered $status: $(cat "$dir/first.json")" >&2; exit 1; }

    f0=$(flushes)
    BODIES_FILE="$WORK/bodies.jsonl" ORIGIN=$ORIGIN wrk --latency -t "$THREADS" -c "$CONNECTIONS" \
        -d "$DURATION" -s "$WORK/post.lua" "http://$addr" >"$dir/wrk.txt"
    f1=$(flushes)
    cpu=$(cpu_seconds "$SERVER_PID")
    kill -INT "$SERVER_PID"
    wait "$SERVER_PID" || true
    SERVER_PID=
    errors=$(grep -c ' ERROR ' "$dir/server.log" || true)

    verify=$("$CONSENT" verify --db "$dir/consent.db" --key-file "$dir/consent.key" 2>&1) || {
        echo "run $run: verify FAILED: $verify" >&2; exit 1; }
    records=$(sed -n 's/^chain verified: \([0-9]*\) records.*/\1/p' <<<"$verify")
    result=$(grep '^RESULT' "$dir/wrk.txt")
    val() { sed -n "s/.* $1=\([0-9]*\).*/\1/p; s/^RESULT $1=\([0-9]*\).*/\1/p" <<<"$result" | head -1; }
    requests=$(val requests); duration=$(val duration_us); non2xx=$(val non2xx)
    ok=$((requests - non2xx))
    logged=$((records - 1)) # the readiness check's POST
    rps=$(awk -v n="$ok" -v d="$duration" 'BEGIN {printf "%.0f", n / (d / 1e6)}')
    p50=$(awk -v u="$(val p50_us)" 'BEGIN {printf "%.2f", u / 1000}')
    p99=$(awk -v u="$(val p99_us)" 'BEGIN {printf "%.2f", u / 1000}')
    check=ok
    if ((logged < ok)); then check="LOST $((ok - logged)) acknowledged"; fi
    if ((logged > ok + CONNECTIONS)); then check="log has $((logged - ok)) more than 2xx"; fi
    echo "run $run: $rps 2xx/s, p50 $p50 ms, p99 $p99 ms; 2xx $ok, non-2xx $non2xx," \
        "socket errors c/r/w/t $(val connect)/$(val read)/$(val write)/$(val timeout);" \
        "log $logged records (chain verified), check: $check; server CPU ${cpu}s;" \
        "device flushes $((f1 - f0)); server ERROR lines $errors"
    if ((non2xx > 0)); then
        echo "  non-2xx answers in the server log:" >&2
        grep -m5 -i 'error\|warn' "$dir/server.log" >&2 || true
    fi
    echo "$rps $p50 $p99" >>"$WORK/results"
    [[ $check == ok ]] || exit 1
done
echo "MEDIAN of $RUNS runs: $(cut -d' ' -f1 "$WORK/results" | median) 2xx/s," \
    "p50 $(cut -d' ' -f2 "$WORK/results" | median) ms, p99 $(cut -d' ' -f3 "$WORK/results" | median) ms"
