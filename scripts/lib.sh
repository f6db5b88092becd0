# shellcheck shell=bash
# Shared settings and helpers for the scripts under scripts/. Sourced, never run.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${HELIOS_VENV:-$ROOT/.venv}"
# The same folder as helios/local/layout.py's cache (the installer runs before that package is
# installed): the Kafka jars and the Go tools.
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/helios"
TOOLS_BIN="$CACHE/bin"
export KAFKA_HOME="$CACHE/kafka"
export PATH="$VENV/bin:$TOOLS_BIN:$PATH"

step() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Installs those of the named Debian packages that are missing, in one apt-get call. Without
# recommends: a caller names every package it uses.
apt_install() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  step "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    >/dev/null
}
