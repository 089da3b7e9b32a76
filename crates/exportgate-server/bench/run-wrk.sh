#!/usr/bin/env bash
# Load test of POST /v1/check (single orders) on loopback with wrk (Debian package `wrk`):
# starts the release binary on a fresh database with the real CSL, creates a submitter key,
# runs wrk, and prints requests/s, latency percentiles, the server's CPU time per request and
# the load average (the machine is shared: other processes' load shows there).
# Usage: bash crates/exportgate-server/bench/run-wrk.sh [THREADS] [CONNECTIONS] [SECONDS]
# BIN=path/to/exportgate measures another build (to compare builds in alternating runs).
# DB=postgres://... serves from that PostgreSQL database instead of a fresh SQLite file (use an
# empty schema, e.g. `?options=-c%20search_path%3Dbench`: a key is created in it).
set -euo pipefail
cd "$(dirname "$0")/../../.."
T=${1:-2} C=${2:-32} D=${3:-20}
BIN=${BIN:-target/release/exportgate}
CSL=../shared/data/lists/csl_2026-07-31/screening-list.json
[ -x "$BIN" ] || cargo build --release -p exportgate
dir=$(mktemp -d)
DB=${DB:-$dir/db.sqlite}
KEY=$("$BIN" keys create --role submitter --name load --db "$DB" 2>/dev/null)
RUST_LOG=${RUST_LOG:-warn} "$BIN" serve --addr 127.0.0.1:0 --db "$DB" --lists "$CSL" --max-list-age 36500 >"$dir/out" 2>"$dir/err" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do grep -q listening "$dir/out" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/^listening on //p' "$dir/out")
# Warm up (screening cache, classification cache), then measure.
KEY=$KEY wrk -t1 -c4 -d2s -s crates/exportgate-server/bench/check.lua "$url/v1/check" >/dev/null
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
c0=$(cpu)
KEY=$KEY wrk -t"$T" -c"$C" -d"${D}s" --latency -s crates/exportgate-server/bench/check.lua "$url/v1/check" | tee "$dir/wrk"
c1=$(cpu)
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
reqs=$(awk '/requests in/ {print $1}' "$dir/wrk")
ticks=$(getconf CLK_TCK)
awk -v c=$((c1 - c0)) -v t="$ticks" -v n="$reqs" 'BEGIN { printf "server CPU: %.1f s for %d requests = %.1f us per request (%.0f req/s per fully free core)\n", c / t, n, 1e6 * c / t / n, n / (c / t) }'
