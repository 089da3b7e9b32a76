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
fi
# The web page's browser test (crates/exportgate/tests/browser.rs) drives headless Chromium.
bash scripts/browser-setup.sh
# Headless Chromium for the browser tests (the simulator's HTML report).
bash scripts/chromium-setup.sh
cargo test --workspace --locked
