#!/usr/bin/env bash
# `make soak`: the whole mesh under steady traffic for a bounded time (localhost only), a line
# per 10 s window, then the exactly-once check. SOAK_MINUTES and SOAK_RATE (bids/s) override
# loadtest/soak.py's defaults (5 minutes, 1,000 bids/s).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
bash scripts/install.sh
helios local up infra
python loadtest/soak.py ${SOAK_MINUTES:+--minutes "$SOAK_MINUTES"} ${SOAK_RATE:+--rate "$SOAK_RATE"}
