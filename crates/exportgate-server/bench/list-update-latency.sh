#!/usr/bin/env bash
# How long a list import takes to reach a running server: starts `serve` on a database that
# holds only Japan's End User List, imports the full 2026 CSL through the CLI, and polls
# GET /v1/screen for a party on the CSL until the server screens against it. Prints the time
# from the import returning to the first hit, and the load average.
# Usage: DB=postgres://... bash crates/exportgate-server/bench/list-update-latency.sh
# (DB: an empty PostgreSQL schema, e.g. `?options=-c%20search_path%3Dlat`; default a fresh
# SQLite file). BIN=path/to/exportgate measures another build.
set -euo pipefail
cd "$(dirname "$0")/../../.."
BIN=${BIN:-target/release/exportgate}
[ -x "$BIN" ] || cargo build --release -p exportgate
LISTS=../shared/data/lists
dir=$(mktemp -d)
DB=${DB:-$dir/db.sqlite}
"$BIN" lists import "$LISTS/other_countries/jp_end_user_list.json" --db "$DB" >/dev/null
KEY=$("$BIN" keys create --role submitter --name latency --db "$DB" 2>/dev/null)
RUST_LOG=${RUST_LOG:-warn} "$BIN" serve --addr 127.0.0.1:0 --db "$DB" --max-list-age 36500 >"$dir/out" 2>"$dir/err" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do grep -q listening "$dir/out" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/^listening on //p' "$dir/out")
hit() {
  curl -fsS -H "Authorization: Bearer $KEY" \
    "$url/v1/screen?name=Huawei%20Technologies%20Co.%2C%20Ltd.&country=CN" | grep -q '"hits":\[{'
}
if hit; then echo "the party is a hit before the import: use an empty database" >&2; exit 1; fi
"$BIN" lists import "$LISTS/csl_2026-07-31/screening-list.json" --db "$DB" >/dev/null
t1=$(date +%s%N)
until hit; do sleep 0.01; done
t2=$(date +%s%N)
echo "applied $(( (t2 - t1) / 1000000 )) ms after the import returned; load average $(cut -d' ' -f1-3 /proc/loadavg)"
