#!/usr/bin/env bash
# `make bench`: every benchmark under loadtest/, each bounded in time and aimed at localhost
# only, each printing its figures. Raw results go to .helios/bench/.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
bash scripts/install.sh
helios local up infra
step "bid path through Envoy vs the ceiling"
python loadtest/bid_bench.py "$@"
step "auction hop drain rate"
python loadtest/auction_drain.py
step "analytics ingest drain rate"
python loadtest/analytics_ingest.py
step "analytics queries over 1,000,000 rows"
python loadtest/analytics_queries.py
