#!/usr/bin/env bash
# Installs what the web page's browser test needs, idempotently: Debian's Chromium, Node.js
# and npm (if missing), and playwright-core from tests/browser/package-lock.json (`npm ci`;
# Playwright's own browser download is never used: the test drives /usr/bin/chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# playwright-core needs Node.js 20 or newer; Debian 12's own `nodejs` package is 18.
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
    echo "error: the browser tests need Node.js 20 or newer (playwright-core); this machine has $(node --version 2>/dev/null || echo 'no node')." >&2
    echo "       Install Node.js 20+ (e.g. from NodeSource's Debian packages or your distribution's backports) and run again." >&2
    exit 1
fi
lock=tests/browser/package-lock.json
stamp=tests/browser/node_modules/.exportgate-lock.sha256
want=$(sha256sum "$lock" | cut -d' ' -f1)
if [ ! -d tests/browser/node_modules/playwright-core ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    (cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --omit=dev --no-audit --no-fund)
    echo "$want" > "$stamp"
fi
echo "browser test ready: $(chromium --version 2>/dev/null | head -1), node $(node --version), playwright-core $(node -p "require('./tests/browser/node_modules/playwright-core/package.json').version")"
