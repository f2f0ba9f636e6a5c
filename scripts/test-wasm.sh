#!/usr/bin/env bash
# Tests of the browser package (wasm/): native unit tests, clippy for wasm32, the
# wasm-bindgen tests in headless Chromium and Firefox ESR (wasm-pack test --headless --chrome
# / --firefox; extra Chromium flags and Firefox prefs in wasm/webdriver.json), then the
# package build (size check) and, when present, the
# end-to-end test of the TypeScript API in Chromium (wasm/tests/e2e/run.mjs).
# Installs what it needs first, idempotently (sudo only when not root).
# Usage: bash scripts/test-wasm.sh        SKIP_E2E=1 to skip the package build + e2e test.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"

# --- tools ------------------------------------------------------------------------------
apt_ensure chromium chromium-driver binaryen firefox-esr
rustup target list --installed | grep -q '^wasm32-unknown-unknown$' || rustup target add wasm32-unknown-unknown
WBG_VERSION=$(sed -n 's/^wasm-bindgen = { version = "=\([0-9.]*\)".*/\1/p' wasm/Cargo.toml)
if ! wasm-bindgen-test-runner --version 2>/dev/null | grep -q " $WBG_VERSION\$"; then
  step "cargo install wasm-bindgen-cli $WBG_VERSION"
  cargo install wasm-bindgen-cli --version "$WBG_VERSION"
fi
command -v wasm-pack >/dev/null || { step "cargo install wasm-pack"; cargo install wasm-pack; }
ensure_geckodriver 0.37.1

# --- Rust -------------------------------------------------------------------------------
step "rvoip-wasm: clippy (native and wasm32)"
cargo clippy -p rvoip-wasm --all-targets -- -D warnings
cargo clippy -p rvoip-wasm --all-targets --target wasm32-unknown-unknown -- -D warnings

step "rvoip-wasm: native tests"
cargo test -p rvoip-wasm

step "rvoip-wasm: browser tests (wasm-pack test --headless --chrome)"
# The runner reads wasm/webdriver.json; as root it adds --no-sandbox itself.
wasm-pack --log-level warn test --headless --chrome --chromedriver "$(command -v chromedriver)" \
  --mode no-install wasm

step "rvoip-wasm: browser tests (wasm-pack test --headless --firefox)"
wasm-pack --log-level warn test --headless --firefox --geckodriver "$(command -v geckodriver)" \
  --mode no-install wasm

# --- package + end-to-end -----------------------------------------------------------------
if [ "${SKIP_E2E:-0}" != 1 ]; then
  bash "$ROOT/scripts/build-wasm.sh"
  step "published types (tsc --noEmit on a consumer)"
  (cd wasm && npx --no-install tsc -p tests/types/tsconfig.json)
  if [ -f wasm/tests/e2e/run.mjs ]; then
    step "package end to end in Chromium (TypeScript API, WebRTC, scripted SIP server)"
    node wasm/tests/e2e/run.mjs
    step "the packed package unchanged in a Vite 7 app (build + dev server)"
    node wasm/tests/e2e/vite.mjs
    step "web-demo smoke test"
    node wasm/tests/e2e/demo.mjs
  fi
fi

echo
echo "wasm checks passed"
