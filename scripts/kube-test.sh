#!/usr/bin/env bash
# `make kube-test`: the image and the chart on a real cluster. Builds the image (`make image`,
# which skips what has not changed) and the cluster's binaries (cached), starts the local
# Kubernetes, then runs tests/image (the image as the chart's pods run it, with runc) and
# tests/kube: the cluster itself (workloads, DNS, NetworkPolicy), `helm install` / `helm test`
# / upgrade / uninstall of the chart against this machine's Kafka, PostgreSQL and Redis, and
# last a teardown that must leave the host clean. The cluster is down again afterwards.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
started=$SECONDS
bash scripts/install.sh
bash scripts/kube-install.sh
apt_install umoci runc
bash scripts/image.sh >/dev/null
trap 'helios local down kube || true' EXIT
step "starting the local Kubernetes (helios local up kube)"
helios local up kube
step "pytest tests/image tests/kube"
pytest tests/image tests/kube "$@"
step "make kube-test: $((SECONDS - started))s"
