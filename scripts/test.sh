#!/usr/bin/env bash
# Runs every test of rvoip. Installs what it needs first (idempotently; sudo only when not
# root). Usage: bash scripts/test.sh
#   FUZZ_SECONDS=N   seconds of fuzzing per target (default 5; 0 = build only)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
export CARGO_INCREMENTAL=0

# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"

# --- system packages -------------------------------------------------------------------
APT_PKGS=(sip-tester baresip-core libsrtp2-dev pkg-config cmake libasound2-dev chromium chromium-driver binaryen)
apt_ensure "${APT_PKGS[@]}"

# --- Rust targets and tools -------------------------------------------------------------
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
rustup target list --installed | grep -q '^wasm32-unknown-unknown$' || rustup target add wasm32-unknown-unknown
CARGO_FUZZ_VERSION=0.13.2
if ! cargo fuzz --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
  step "cargo install cargo-fuzz $CARGO_FUZZ_VERSION"
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION"
fi

# --- checks -----------------------------------------------------------------------------
step "cargo fmt --check"
cargo fmt --all -- --check
(cd core/fuzz && cargo fmt -- --check)

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

step "core: no_std build for wasm32-unknown-unknown"
cargo build -p rvoip-core --no-default-features --target wasm32-unknown-unknown

step "cargo doc (no warnings)"
RUSTDOCFLAGS="-D warnings" cargo doc -p rvoip-core --no-deps

step "cargo test"
cargo test --workspace

step "browser package (wasm-pack tests in Chromium, package build + size, end-to-end)"
bash scripts/test-wasm.sh

step "browser package interop (Kamailio over WebSocket, Chromium and Firefox, loopback-only netns)"
bash scripts/test-interop.sh

step "real-browser end to end (web demo + gateway + softphone trunk in a loopback-only netns)"
bash scripts/test-browser.sh

step "third-party browser SIP libraries (JsSIP, SIP.js) against the gateway, loopback-only netns"
bash scripts/test-thirdparty.sh

step "benches build"
cargo bench --workspace --no-run

step "fuzz targets"
FUZZ_SECONDS=${FUZZ_SECONDS:-5}
cd core/fuzz
# cargo-fuzz needs nightly-only flags; the stable toolchain accepts them with RUSTC_BOOTSTRAP.
export RUSTC_BOOTSTRAP=1
cargo fuzz build -O
if [ "$FUZZ_SECONDS" -gt 0 ]; then
  for t in $(cargo fuzz list); do
    echo "fuzz $t for ${FUZZ_SECONDS}s"
    mkdir -p "corpus/$t"
    seeds="seeds/$t"; [ -d "$seeds" ] || seeds=""
    cargo fuzz run -O "$t" "corpus/$t" $seeds -- -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=2048 2>&1 | tail -n 3
  done
fi
cd "$ROOT"

echo
echo "all checks passed"
