#!/bin/sh
# The operator console's end-to-end test: installs the npm packages of tests/console
# (playwright-core only; no browser is downloaded, the system Chromium is used), then runs
# gateway/tests/console_e2e.rs, which starts the gateway, a sipp trunk and a caller and drives
# the console in headless Chromium. Screenshots: artifacts/console/.
# Needs /usr/bin/chromium (apt `chromium`), /usr/bin/sipp (apt `sip-tester`), node and npm;
# FAILS when any is missing.
set -eu
cd "$(dirname "$0")/.."
for bin in /usr/bin/chromium /usr/bin/sipp; do
    [ -x "$bin" ] || { echo "test-console: $bin is missing" >&2; exit 1; }
done
command -v node >/dev/null && command -v npm >/dev/null || { echo "test-console: node/npm missing" >&2; exit 1; }
(cd tests/console && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
cargo test -p rvoip-gateway --lib console
cargo test -p rvoip-gateway --test console_e2e -- --nocapture
