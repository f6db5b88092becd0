#!/usr/bin/env bash
# `make kube-up`: a single-node Kubernetes as local processes, under the same supervisor as
# `make up`: builds what is missing into the cache (scripts/kube-install.sh), then starts etcd,
# the control plane, containerd, the kubelet, kube-proxy, kube-router's network-policy
# controller and CoreDNS, and waits for the node and CoreDNS to be Ready. Needs root.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
started=$SECONDS
bash "$ROOT/scripts/install.sh"
bash "$ROOT/scripts/kube-install.sh"
step "starting the local Kubernetes (helios local up kube)"
helios local up kube
step "Kubernetes up in $((SECONDS - started))s"
