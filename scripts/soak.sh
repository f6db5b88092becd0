#!/usr/bin/env bash
# `make soak`: the whole mesh under steady traffic for a bounded time (localhost only), a line
# per 10 s window, then the exactly-once check. SOAK_MINUTES (5) and SOAK_RATE (500 bids/s).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
bash scripts/install.sh
helios local up infra
python loadtest/soak.py --minutes "${SOAK_MINUTES:-5}" --rate "${SOAK_RATE:-500}"
