#!/usr/bin/env bash
# `make kube-down`: stops the local Kubernetes and puts the machine back: pods removed through
# the CRI, every daemon stopped, rules, ipsets, mounts, the bridge and veths, cgroups and
# sysctls as they were (helios/local/kube/teardown.py). Leaves `make up`'s processes running.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
[[ -x "$VENV/bin/helios" ]] || exit 0
helios local down kube
