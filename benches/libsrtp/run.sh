#!/bin/sh
# Builds and runs the libsrtp 2.x peer benchmark (see bench.c). Needs libsrtp2-dev and
# pkg-config (Debian: apt-get install -y libsrtp2-dev pkg-config). Run it right after
# `cargo bench -p rvoip --bench srtp` so both figures come from the same session.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${TMPDIR:-/tmp}/rvoip-libsrtp-bench
gcc -O2 -march=native -o "$out" "$here/bench.c" $(pkg-config --cflags --libs libsrtp2)
exec "$out"
