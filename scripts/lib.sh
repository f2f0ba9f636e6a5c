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
