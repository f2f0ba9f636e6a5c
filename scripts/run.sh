#!/usr/bin/env bash
# Runs the gateway with the web demo on its embedded default (no config file):
# HTTP/WebSocket on 127.0.0.1:8080, SIP on 127.0.0.1:5060 (UDP+TCP), SQLite in ./rvoip-data,
# demo users and echo/tone extensions. Installs what the build needs first (idempotently;
# sudo only when not root). Extra arguments go to the gateway (e.g. --config gateway.toml).
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
need=()
for p in cmake pkg-config; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi
# The web demo (served at /) loads the npm package from web-demo/rvoip/, built here.
if [ ! -f web-demo/rvoip/index.js ]; then
  bash scripts/build-wasm.sh
fi
exec cargo run --release -p rvoip-gateway --bin gateway -- "$@"
