# Shared settings and helpers for the scripts under scripts/. Sourced, never run.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="${HELIOS_STATE_DIR:-$ROOT/.helios}"
VENV="${HELIOS_VENV:-$ROOT/.venv}"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/helios"
TOOLS_BIN="${HELIOS_TOOLS_BIN:-$CACHE/bin}"
KAFKA_VERSION="${HELIOS_KAFKA_VERSION:-4.1.1}"
KAFKA_HOME="$CACHE/kafka-$KAFKA_VERSION"
export PATH="$VENV/bin:$TOOLS_BIN:$PATH"

step() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
