#!/usr/bin/env bash
# What the local Kubernetes (`make kube-up`) needs, built once into the cache, idempotently:
#   Debian packages   containerd, runc, the CNI plugins, conntrack, ipset, skopeo, umoci, gcc
#   $KUBE_CACHE/bin/  kube-apiserver, kube-controller-manager, kube-scheduler, kubelet,
#                     kube-proxy, kubectl (scripts/kube/kubernetes), etcd and etcdctl
#                     (scripts/kube/etcd), crictl, coredns, kube-router, metrics-server (go install)
#   $KUBE_CACHE/images/  pause, coredns and testbox as docker-archives with full names
# Each step leaves a stamp naming its inputs (versions, flags, the build module's files); a
# step whose stamp matches and whose products exist is skipped, so a cached run takes well
# under a second. `make install` and `make test` never run this.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=helios/local/kube/versions.env
source "$ROOT/helios/local/kube/versions.env"
KUBE_CACHE="$CACHE/kube"
KBIN="$KUBE_CACHE/bin"
IMAGES="$KUBE_CACHE/images"
STAMPS="$KUBE_CACHE/stamps"
MODULES="$ROOT/scripts/kube"
export CGO_ENABLED=0
GO_VERSION=$(go env GOVERSION)
mkdir -p "$KBIN" "$IMAGES" "$STAMPS"

# current NAME KEY FILE...: NAME was last made from KEY, and each FILE it made is there
current() {
  local name=$1 key=$2 file
  shift 2
  [[ "$(cat "$STAMPS/$name" 2>/dev/null)" == "$key" ]] || return 1
  for file in "$@"; do [[ -s $file ]] || return 1; done
}
stamp() { printf '%s\n' "$2" >"$STAMPS/$1"; }
# hash_of FILE...: one hash of the files' contents, not their paths (a build module's inputs,
# the same in any clone)
hash_of() { cat "$@" | sha256sum | cut -c1-16; }

# --- Debian packages (apt-get only when one is missing) -----------------------------------
# Debian's containerd would start its own daemon on /run/containerd; policy-rc.d or no
# systemd stops that on these machines, and the cluster runs its own on its own socket.
apt_install containerd runc containernetworking-plugins conntrack ipset iptables nftables \
  iproute2 skopeo umoci gcc libc6-dev

# --- Kubernetes: one go build of six binaries --------------------------------------------
# Without the -X flags the binaries call themselves v0.0.0, and so would the node and the API.
kube_ld="-s -w"
for p in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
  kube_ld+=" -X $p.gitVersion=$KUBERNETES_VERSION -X $p.gitMajor=1 -X $p.gitMinor=37"
  kube_ld+=" -X $p.gitTreeState=clean -X $p.buildDate=2026-01-01T00:00:00Z"
done
kube_bins=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)
key="$GO_VERSION $kube_ld $(hash_of "$MODULES"/kubernetes/go.* "$MODULES"/kubernetes/cmd/*/main.go)"
if ! current kubernetes "$key" "${kube_bins[@]/#/$KBIN/}"; then
  step "go build Kubernetes $KUBERNETES_VERSION (${kube_bins[*]}; cold: 13-17 min on 2 cores)"
  (cd "$MODULES/kubernetes" && go build -trimpath -ldflags "$kube_ld" -o "$KBIN/" \
    "${kube_bins[@]/#/./cmd/}")
  stamp kubernetes "$key"
fi

# etcd has a module of its own: it must not share dependency resolution with Kubernetes'.
key="$GO_VERSION $(hash_of "$MODULES"/etcd/go.* "$MODULES"/etcd/cmd/*/main.go)"
if ! current etcd "$key" "$KBIN/etcd" "$KBIN/etcdctl"; then
  step "go build etcd $ETCD_VERSION"
  (cd "$MODULES/etcd" && go build -trimpath -ldflags "-s -w" -o "$KBIN/" ./cmd/etcd ./cmd/etcdctl)
  stamp etcd "$key"
fi

# --- single-module tools ------------------------------------------------------------------
# tool NAME MODULE@VERSION [LDFLAGS]
tool() {
  local name=$1 module=$2 flags="-s -w ${3:-}" key
  key="$GO_VERSION $module $flags"
  current "$name" "$key" "$KBIN/$name" && return 0
  step "go install $module"
  GOBIN="$KBIN" go install -trimpath -ldflags "$flags" "$module"
  stamp "$name" "$key"
}
tool crictl "sigs.k8s.io/cri-tools/cmd/crictl@$CRICTL_VERSION"
tool coredns "github.com/coredns/coredns@$COREDNS_VERSION"
# Without the version it logs "Malformed version" at every start.
tool kube-router "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router@$KUBE_ROUTER_VERSION" \
  "-X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=$KUBE_ROUTER_VERSION"
tool metrics-server "sigs.k8s.io/metrics-server/cmd/metrics-server@$METRICS_SERVER_VERSION"

# --- images: one layer each, docker-archives with full names -----------------------------
# An OCI archive would be imported under a short name the kubelet cannot find; a
# docker-archive carries RepoTags, which `ctr images import` names the image after.
work="$(mktemp -d "$KUBE_CACHE/work.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# image REF LAYER_DIR OUT [umoci config flags...]
image() {
  local ref=$1 dir=$2 out=$3 layout="$work/oci-${1//[:\/]/_}"
  shift 3
  tar --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$dir" -cf "$layout.tar" .
  umoci init --layout "$layout"
  umoci new --image "$layout:img"
  umoci raw add-layer --image "$layout:img" "$layout.tar"
  umoci config --image "$layout:img" "$@"
  rm -f "$out.tmp"
  skopeo copy --quiet "oci:$layout:img" "docker-archive:$out.tmp:$ref"
  mv "$out.tmp" "$out"
}

# pause: Kubernetes' own pause.c, from the module cache, static.
key="$PAUSE_IMAGE $KUBERNETES_VERSION gcc-Os-static"
if ! current pause-image "$key" "$IMAGES/pause.tar"; then
  step "image $PAUSE_IMAGE"
  source_dir=$(cd "$MODULES/kubernetes" && go mod download k8s.io/kubernetes &&
               go list -m -f '{{.Dir}}' k8s.io/kubernetes)
  mkdir -p "$work/pause"
  gcc -Os -Wall -Werror -static -DVERSION="v$PAUSE_VERSION-helios" -o "$work/pause/pause" \
    "$source_dir/build/pause/linux/pause.c"
  image "$PAUSE_IMAGE" "$work/pause" "$IMAGES/pause.tar" \
    --config.entrypoint /pause --config.user 65535:65535
  stamp pause-image "$key"
fi

# coredns: the static binary alone.
key="$COREDNS_IMAGE $(stat -c '%s %Y' "$KBIN/coredns")"
if ! current coredns-image "$key" "$IMAGES/coredns.tar"; then
  step "image $COREDNS_IMAGE"
  mkdir -p "$work/coredns"
  cp "$KBIN/coredns" "$work/coredns/coredns"
  image "$COREDNS_IMAGE" "$work/coredns" "$IMAGES/coredns.tar" --config.entrypoint /coredns
  stamp coredns-image "$key"
fi

# testbox: Debian's busybox-static with a link per applet, for the cluster's tests.
busybox=$(apt-cache policy busybox-static 2>/dev/null | awk '/Candidate:/ {print $2}')
if [[ -z $busybox || $busybox == "(none)" ]]; then
  apt-get update -qq
  busybox=$(apt-cache policy busybox-static | awk '/Candidate:/ {print $2}')
fi
key="$TESTBOX_IMAGE busybox-static=$busybox"
if ! current testbox-image "$key" "$IMAGES/testbox.tar"; then
  step "image $TESTBOX_IMAGE (busybox-static $busybox)"
  # as root: apt's sandbox user cannot write into root's cache
  (cd "$work" && apt-get download -qq -o APT::Sandbox::User=root "busybox-static=$busybox")
  dpkg-deb -x "$work"/busybox-static_*.deb "$work/deb"
  box="$work/testbox"
  mkdir -p "$box/bin" "$box/etc" "$box/tmp"
  chmod 1777 "$box/tmp"
  cp "$work/deb/bin/busybox" "$box/bin/busybox"
  for applet in $("$box/bin/busybox" --list); do
    [[ $applet == busybox ]] || ln -s busybox "$box/bin/$applet"
  done
  printf 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$box/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\n' >"$box/etc/group"
  image "$TESTBOX_IMAGE" "$box" "$IMAGES/testbox.tar" \
    --config.cmd /bin/sh --config.env PATH=/bin --config.workingdir /
  stamp testbox-image "$key"
fi
step "Kubernetes binaries and images ready in $KUBE_CACHE"
