#!/usr/bin/env bash
# Installs Debian's `chromium` for the HTML report test of exportgate-simulate
# (crates/exportgate-simulate/tests/html.rs), if /usr/bin/chromium is missing. Idempotent.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq chromium
/usr/bin/chromium --version
