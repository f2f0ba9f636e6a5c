#!/usr/bin/env bash
# Interop of the browser package (wasm/) beyond our own gateway: Kamailio as SIP-over-
# WebSocket registrar/proxy, browser to browser calls in headless Chromium (playwright-core)
# and Firefox ESR (puppeteer-core, WebDriver BiDi): tests/interop/kamailio.mjs.
# Everything runs inside a loopback-only network namespace (unshare -n), Kamailio in the
# foreground with its own run directory, so nothing listens outside and nothing outside
# can interfere. Artifacts (screenshots, SIP traces, Kamailio log): artifacts/interop/.
# Installs what it needs first, idempotently (sudo only when not root); stops and disables
# the Kamailio system service the Debian package would start.
# Usage: bash scripts/test-interop.sh [scenario…]
#   scenarios (caller-callee): chromium-chromium firefox-firefox firefox-chromium
#              chromium-firefox (default: all)
#   SKIP_BUILD=1  use the existing wasm/dist as it is (else it is built when missing or
#                 older than its sources)
#   INTEROP_NO_NETNS=1  run on the host's loopback (where unshare -n is not permitted)
#   INTEROP_TIMEOUT=S   give up after S seconds (default 600)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"

# --- system packages ----------------------------------------------------------------------
apt_ensure kamailio kamailio-websocket-modules chromium firefox-esr iproute2 util-linux
command -v npm >/dev/null || { echo "node and npm are needed (Node >= 20)"; exit 1; }
# The Debian package installs (and on systemd hosts starts) a system-wide Kamailio on
# 0.0.0.0:5060; the test runs its own. Stop and disable the service (no-op where absent).
if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  if systemctl is-active --quiet kamailio 2>/dev/null || systemctl is-enabled --quiet kamailio 2>/dev/null; then
    step "stop and disable the kamailio system service"
    $SUDO systemctl disable --now kamailio >/dev/null 2>&1 || true
  fi
elif [ -x /etc/init.d/kamailio ] && [ -f /run/kamailio/kamailio.pid ]; then
  step "stop the kamailio system service"
  $SUDO /etc/init.d/kamailio stop >/dev/null 2>&1 || true
fi

# geckodriver (for scripts/test-wasm.sh's Firefox run; installed here too so that one
# install serves both).
ensure_geckodriver 0.37.1

# playwright-core and puppeteer-core (pinned in tests/interop/package-lock.json). Installed
# before entering the network namespace (which has no route to the registry).
if ! (cd tests/interop && npm ls --depth=0 playwright-core puppeteer-core >/dev/null 2>&1); then
  step "npm ci (tests/interop: playwright-core, puppeteer-core)"
  (cd tests/interop && npm ci --no-audit --no-fund --loglevel=error)
fi

# --- the package --------------------------------------------------------------------------
# Built when missing or older than its sources (scripts/test-wasm.sh builds it first in
# scripts/test.sh, so that run does not build twice).
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  if [ ! -f wasm/dist/.gzip-size ] ||
    [ -n "$(find wasm/src wasm/ts core/src wasm/Cargo.toml -newer wasm/dist/.gzip-size -not -path 'wasm/ts/pkg*' -print -quit)" ]; then
    bash scripts/build-wasm.sh
  fi
fi
[ -f wasm/dist/index.js ] || { echo "wasm/dist missing: run scripts/build-wasm.sh"; exit 1; }

# --- the test, in a loopback-only network namespace -------------------------------------------
where="loopback-only network namespace"
[ "${INTEROP_NO_NETNS:-0}" = 1 ] && where="host loopback"
step "Kamailio interop (browser to browser through Kamailio over WebSocket, $where)"
rm -rf artifacts/interop
mkdir -p artifacts/interop
rc=0
if [ "${INTEROP_NO_NETNS:-0}" = 1 ]; then
  # Where network namespaces are not permitted (unprivileged containers): the same test on
  # the host's loopback (Kamailio on a free 127.0.0.1 port).
  node tests/interop/kamailio.mjs "$@" || rc=$?
elif ! $SUDO unshare -n -- true 2>/dev/null; then
  echo "cannot create a network namespace (unshare -n needs CAP_SYS_ADMIN);"
  echo "INTEROP_NO_NETNS=1 runs the test on the host's loopback instead"
  exit 1
else
  $SUDO unshare -n -- sh -c 'ip link set lo up && exec node tests/interop/kamailio.mjs "$@"' sh "$@" || rc=$?
fi
if [ "$rc" = 0 ]; then
  echo
  echo "interop checks passed"
else
  echo
  echo "interop checks FAILED (exit $rc); see artifacts/interop/"
fi
exit "$rc"
