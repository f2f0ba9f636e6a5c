#!/usr/bin/env bash
# Real-browser end-to-end tests of the web demo (tests/browser/, issue 6): headless Chromium
# (playwright-core, the system /usr/bin/chromium; no browser is downloaded) with fake media
# from tone WAV files, against the real `gateway` binary, with the native `softphone` as the
# SIP trunk. Tests: 1 call to a trunk number, 2 browser to browser (hold, DTMF), 3 inbound
# DID call answered in the page, 4 WebSocket cut and gateway restart (reconnect, re-register).
# Firefox ESR (tests/browser/firefox/, puppeteer-core over WebDriver BiDi, the system
# /usr/bin/firefox-esr with its own fake microphone): firefox/1 the call to a trunk number.
#
# Installs what it needs first (idempotently), builds the npm package into web-demo/rvoip/
# when it is missing (scripts/build-wasm.sh), then the gateway and softphone binaries (the
# gateway embeds web-demo/ at build time, so it is built after the package), and runs every
# test inside a fresh network namespace holding only loopback, so the fixed ports cannot
# clash with anything and WebRTC sees only 127.0.0.1 (hence --allow-loopback-in-peer-connection).
# Prints PASS/FAIL per test; exits non-zero when any fails. Artifacts (screenshots, logs,
# recordings): artifacts/browser/<test>/.
#
# Usage: bash scripts/test-browser.sh [test-filter…]      e.g. `bash scripts/test-browser.sh 1 4`
#   (a filter matches any part of a test's name: `firefox` runs the Firefox tests alone, `1`
#   test 1 in both browsers)
#   BROWSER_PROFILE=debug|release   binaries to build and use (default debug: `cargo test` has
#                                   built most of it already; the tests pass with both)
#   REBUILD_WASM=1                  rebuild the npm package even if web-demo/rvoip/ exists
#   BROWSER_NETNS=0                 run on the host's loopback instead of a namespace (the
#                                   fallback when `unshare -n` is not permitted)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"

# --- tools ------------------------------------------------------------------------------
apt_ensure chromium iproute2 util-linux
command -v node >/dev/null && command -v npm >/dev/null || { echo "test-browser: node/npm missing" >&2; exit 1; }
# playwright-core (pinned in tests/browser/package-lock.json), before entering the namespace.
if [ "$(node -p "try{require('./tests/browser/node_modules/playwright-core/package.json').version}catch{''}")" \
     != "$(node -p "require('./tests/browser/package.json').dependencies['playwright-core']")" ]; then
  step "npm ci (tests/browser: playwright-core)"
  (cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
fi
# Firefox ESR tests (tests/browser/firefox/): the system firefox-esr driven by puppeteer-core
# over WebDriver BiDi (no geckodriver, no browser download), pinned in the same lockfile.
apt_ensure firefox-esr
if [ "$(node -p "try{require('./tests/browser/node_modules/puppeteer-core/package.json').version}catch{''}")" \
     != "$(node -p "require('./tests/browser/package.json').dependencies['puppeteer-core']")" ]; then
  step "npm ci (tests/browser: puppeteer-core)"
  (cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund)
fi

# --- builds -------------------------------------------------------------------------------
if [ "${REBUILD_WASM:-0}" = 1 ] || [ ! -f web-demo/rvoip/index.js ]; then
  step "npm package into web-demo/rvoip/ (scripts/build-wasm.sh)"
  bash scripts/build-wasm.sh
fi
build_peer_binaries test-browser

# --- run, in a network namespace with only loopback ---------------------------------------
run_in_loopback_netns "browser end-to-end tests" "8081-8084, 8190, 5061-5064, 5070, 30000-30999" tests/browser/run.mjs "$@"
