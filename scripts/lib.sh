# Helpers shared by the scripts in scripts/ (sourced after `cd` to the repository root, not
# run): `step` prints a heading, `apt_ensure` installs missing Debian packages idempotently,
# `ensure_geckodriver` installs a pinned geckodriver. Sets SUDO to "sudo" when not root.

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

# step TEXT…: prints `==> TEXT` after a blank line.
step() { printf '\n==> %s\n' "$*"; }

# apt_ensure PKG…: installs those of the Debian packages PKG… that are not installed (a
# no-op when all are); runs `apt-get update -qq` once per script, before its first install.
RVOIP_APT_UPDATED=0
apt_ensure() {
  local p missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then return 0; fi
  step "apt-get install ${missing[*]}"
  if [ "$RVOIP_APT_UPDATED" != 1 ]; then
    $SUDO apt-get update -qq
    RVOIP_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
}

# ensure_geckodriver VERSION: `cargo install`s geckodriver VERSION unless it is the one on PATH.
ensure_geckodriver() {
  # (sed, not grep -q: geckodriver panics on a closed stdout. No --locked: the registry
  # mirror can lag behind a lockfile.)
  if [ "$(geckodriver --version 2>/dev/null | sed -n 1p || true)" != "geckodriver $1" ]; then
    step "cargo install geckodriver $1"
    cargo install geckodriver --version "$1"
  fi
}

# build_peer_binaries NAME: builds the `gateway` and `softphone` binaries in the profile
# BROWSER_PROFILE names (debug, the default, or release) and exports RVOIP_BIN, their folder,
# for the browser tests. NAME is the calling script, for its error message.
build_peer_binaries() {
  PROFILE=${BROWSER_PROFILE:-debug}
  case "$PROFILE" in
    release) step "cargo build --release (gateway, softphone)"; cargo build --release -p rvoip-gateway --bin gateway --bin softphone ;;
    debug) step "cargo build (gateway, softphone)"; cargo build -p rvoip-gateway --bin gateway --bin softphone ;;
    *) echo "$1: BROWSER_PROFILE must be debug or release" >&2; exit 2 ;;
  esac
  export RVOIP_BIN="$ROOT/target/$PROFILE"
}

# run_in_loopback_netns WHAT PORTS SCRIPT [ARGS…]: runs `node SCRIPT ARGS…` inside a fresh
# network namespace holding only loopback (root: unshare -n; otherwise a user namespace,
# unshare -rn), so fixed ports cannot clash and WebRTC sees only 127.0.0.1. Where namespaces
# are not permitted, or BROWSER_NETNS=0, it runs on the host's loopback, where PORTS (a
# description, for the heading) must then be free.
run_in_loopback_netns() {
  local what=$1 ports=$2 script=$3 ns=(unshare -n)
  shift 3
  if [ "$(id -u)" != 0 ]; then ns=(unshare -rn); fi
  if [ "${BROWSER_NETNS:-1}" != 0 ] && "${ns[@]}" sh -c 'ip link set lo up' 2>/dev/null; then
    step "$what (loopback-only network namespace)"
    "${ns[@]}" sh -c 'ip link set lo up && exec node "$@"' sh "$script" "$@"
  else
    step "$what (host loopback, no network namespace: ports $ports must be free)"
    node "$script" "$@"
  fi
}
