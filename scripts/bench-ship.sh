#!/usr/bin/env bash
# Times `exportgate ship` on a book of N licensed orders (default 100,000): H100s to the UAE,
# one unit each, all covered by one licence, every party screened externally. Prints orders
# per second on a fresh SQLite file and, when EXPORTGATE_TEST_POSTGRES_URL is set (source
# .ci/postgres.sh), on a fresh PostgreSQL schema.
#   bash scripts/bench-ship.sh [N]        BIN=path/to/exportgate picks another build
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
bin=${BIN:-target/release/exportgate}
[ -n "${BIN:-}" ] || cargo build --release -q -p exportgate
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++) printf "{\"id\":\"b-%d\",\"date\":\"2025-06-01\",\"item\":{\"chip\":\"nvidia-h100-sxm\"},\"quantity\":1,\"destination\":\"AE\",\"exporter\":{\"name\":\"Acme Systems\",\"country\":\"US\"},\"consignee\":{\"name\":\"Falcon Compute LLC\",\"country\":\"AE\",\"headquarters\":\"AE\",\"parent_headquarters\":\"AE\"}}\n", i }' > "$dir/book.jsonl"
cat > "$dir/licence.json" <<JSON
{"number": "BENCH-1", "holder": "Acme Systems", "items": ["nvidia-h100-sxm"], "destinations": ["AE"],
 "consignees": ["Falcon Compute LLC"], "units": 100000000, "valid_from": "2025-01-01", "valid_to": "2027-12-31"}
JSON
run() {
    local db=$1 label=$2
    "$bin" licences add "$dir/licence.json" --db "$db" >/dev/null
    local start end
    start=$(date +%s.%N)
    "$bin" ship "$dir/book.jsonl" --db "$db" --screened-externally > "$dir/out.jsonl"
    end=$(date +%s.%N)
    local licensed
    licensed=$(grep -c '"outcome":"licensed"' "$dir/out.jsonl" || true)
    awk -v s="$start" -v e="$end" -v n="$n" -v l="$licensed" -v label="$label" \
        'BEGIN { printf "%s: %d orders (%d licensed) in %.2f s: %.0f orders/s\n", label, n, l, e - s, n / (e - s) }'
}
run "sqlite://$dir/ledger.sqlite" "SQLite"
if [ -n "${EXPORTGATE_TEST_POSTGRES_URL:-}" ]; then
    schema="bench_ship_$$"
    url="${EXPORTGATE_TEST_POSTGRES_URL}"
    sep='?'; case "$url" in *\?*) sep='&';; esac
    psql "$url" -qc "SET client_min_messages = warning; DROP SCHEMA IF EXISTS $schema CASCADE; CREATE SCHEMA $schema" >/dev/null
    run "${url}${sep}options=-c%20search_path%3D${schema}" "PostgreSQL"
    psql "$url" -qc "SET client_min_messages = warning; DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null
fi
