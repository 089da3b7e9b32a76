#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: installs and starts PostgreSQL (Debian
# packages) for the ledger's PostgreSQL runs, installs Chromium, Node.js and playwright-core for
# the web page's browser test (scripts/browser-setup.sh), then `cargo test --workspace`.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=../.ci/postgres.sh
source .ci/postgres.sh
if [ -z "${EXPORTGATE_TEST_POSTGRES_URL:-}" ]; then
    if [ "${CI:-}" = "true" ]; then
        echo "error: PostgreSQL could not be set up; CI requires the PostgreSQL runs" >&2
        exit 1
    fi
    echo "warning: PostgreSQL is not available here; the PostgreSQL runs of the ledger suite are skipped" >&2
else
    eg_pg_clean_test_schemas
fi
# The web page's browser test (crates/exportgate/tests/browser.rs) drives headless Chromium.
bash scripts/browser-setup.sh
# Headless Chromium for the browser tests (the simulator's HTML report).
bash scripts/chromium-setup.sh
# pycountry, for the test that data/countries.json is what data/gen/countries.py makes today.
python3 -c 'import pycountry' 2>/dev/null ||
    python3 -m pip install --quiet --disable-pip-version-check pycountry==26.2.16
status=0
cargo test --workspace --locked || status=$?
# The summary comes last, where it cannot be missed at the end of a long log.
echo
if [ -n "${EXPORTGATE_TEST_POSTGRES_URL:-}" ]; then
    echo "summary: PostgreSQL runs: included (PostgreSQL at ${EXPORTGATE_TEST_POSTGRES_URL##*@})"
else
    echo "summary: PostgreSQL runs: SKIPPED — PostgreSQL could not be set up (see the postgres.sh lines at the top);"
    echo "         the ledger, server and pipeline suites ran on SQLite only. Install PostgreSQL or run as root/sudo."
fi
if [ "$status" -eq 0 ]; then echo "summary: cargo test passed"; else echo "summary: cargo test FAILED (exit $status)"; fi
exit "$status"
