#!/usr/bin/env bash
# `make kube-smoke`: the local Kubernetes' own tests (tests/kube, marked `kube`, which `make
# test` leaves out): starts the cluster, checks it works as a cluster should, then tears it
# down, checks the host is clean, and that a second start is clean too. Leaves it down.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
bash scripts/kube-up.sh
step "pytest -m kube tests/kube"
pytest -m kube tests/kube "$@"
