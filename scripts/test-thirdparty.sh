#!/usr/bin/env bash
# Real-browser end-to-end tests of the two most used third-party SIP-over-WebSocket browser
# libraries against the gateway (tests/thirdparty/): JsSIP and SIP.js (pinned in
# tests/thirdparty/package-lock.json, bundled with esbuild into one test page) in headless
# Chromium (playwright-core, the system /usr/bin/chromium; no browser is downloaded) with fake
# media from tone WAV files, against the real `gateway` binary, with the native `softphone` as
# the SIP trunk. Tests: 1 JsSIP registers and calls the tone and echo extensions, 2 JsSIP
# calls SIP.js (hold/unhold re-INVITEs, DTMF by SIP INFO and RFC 4733, SIP.js hangs up),
# 3 SIP.js calls JsSIP (486, CANCEL, answer, SIP.js hold/unhold and INFO DTMF, JsSIP hangs
# up), 4 JsSIP and the trunk (a call out through it with DTMF and hold, a DID call in),
# 5 forking to a JsSIP and a SIP.js registration of one user, REFER from either library and
# MESSAGE refused with 405 (not accepted and dropped), 6 early media from a trunk (sipp:
# 183 with SDP, then 200, RTP echo) with JsSIP and with SIP.js; 7 ICE restart: JsSIP
# re-INVITEs an echo call plainly (credentials kept) and with iceRestart (the gateway answers
# with new ufrag/pwd, Chromium reconnects on them, the echo goes on); firefox-1: test 1's calls
# with JsSIP in headless Firefox ESR (puppeteer-core over WebDriver BiDi, the system
# /usr/bin/firefox-esr, tests/browser/firefox/firefox.mjs).
#
# Installs what it needs first (idempotently: npm ci before entering the namespace), builds
# the gateway and softphone binaries, and runs every test inside a fresh network namespace
# holding only loopback, so the fixed ports cannot clash with anything and WebRTC sees only
# 127.0.0.1 (hence --allow-loopback-in-peer-connection). The helpers shared with tests/browser/ (tone
# WAVs, Goertzel, the gateway process, Chromium's fake media) are imported from
# tests/browser/lib.mjs, so its node_modules is installed too. Prints PASS/FAIL per test;
# exits non-zero when any fails. Artifacts (screenshots, logs): artifacts/thirdparty/<test>/.
# Last, when the npm package is built, its gzipped size next to JsSIP's and SIP.js's bundles
# (tests/thirdparty/size.mjs).
#
# Usage: bash scripts/test-thirdparty.sh [test-filter…]      e.g. `bash scripts/test-thirdparty.sh 2`
#   (a filter matches any part of a test's file name: `firefox`, `sipjs`, `4`)
#   BROWSER_PROFILE=debug|release   binaries to build and use (default debug)
#   BROWSER_NETNS=0                 run on the host's loopback instead of a namespace (the
#                                   fallback when `unshare -n` is not permitted)
#   SIP_DEBUG=1                     the libraries' SIP logs and every browser console line
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"

# --- tools ------------------------------------------------------------------------------
apt_ensure chromium firefox-esr iproute2 util-linux sip-tester
command -v node >/dev/null && command -v npm >/dev/null || { echo "test-thirdparty: node/npm missing" >&2; exit 1; }
# npm ci DIR PKG…: installs DIR's lockfile unless every PKG is already at its pinned version.
npm_ensure() {
  local dir=$1 p; shift
  for p in "$@"; do
    if [ "$(node -p "try{require('./$dir/node_modules/$p/package.json').version}catch{''}")" \
         != "$(node -p "require('./$dir/package.json').dependencies['$p']")" ]; then
      step "npm ci ($dir)"
      (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund)
      return
    fi
  done
}
npm_ensure tests/thirdparty jssip sip.js esbuild playwright-core
npm_ensure tests/browser playwright-core puppeteer-core

# --- build ------------------------------------------------------------------------------
build_peer_binaries test-thirdparty

# --- run, in a network namespace with only loopback ---------------------------------------
run_in_loopback_netns "third-party SIP library tests" "8091-8098, 5091-5098, 5075, 5076, 31000-32001" tests/thirdparty/run.mjs "$@"

# --- the npm package's size next to these libraries' ---------------------------------------
# Measured the same way in the same run (esbuild bundle, minified, gzip -9); needs the
# package built (scripts/build-wasm.sh, which scripts/test.sh runs before this script).
if [ -f wasm/dist/.gzip-size ]; then
  step "package size: rvoip against JsSIP and SIP.js (gzip -9)"
  node tests/thirdparty/size.mjs
fi
