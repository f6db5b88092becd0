#!/usr/bin/env bash
# `make image`: builds the Dockerfile without a Docker engine (buildah: chroot isolation, vfs
# storage in .helios/buildah/) and saves the image in .helios/images/:
#   helios.oci.tar     an OCI archive
#   helios.docker.tar  a docker-archive, for `ctr -n k8s.io images import`: containerd names it
#                      from its RepoTags, the full localhost/helios:TAG the kubelet looks for
#   helios.ref         that name;  helios.id  the image ID both archives hold
# The Dockerfile's public base cannot be pulled here, so a stand-in for it is made from Debian
# first, once per storage (docs/kubernetes.md says what it holds and why). Idempotent: while the
# base, the files the build can see and their git state stay the same, nothing is built or
# saved again.
#   HELIOS_IMAGE_TAG   the tag (default dev)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

((EUID == 0)) || die "make image runs as root (buildah's chroot isolation, mmdebstrap's root mode)"
apt_install buildah skopeo mmdebstrap

tag=${HELIOS_IMAGE_TAG:-dev}
name=localhost/helios:$tag
state=$(realpath -m "${HELIOS_STATE_DIR:-$ROOT/.helios}")
storage=$state/buildah
out=$state/images
logs=$state/logs
# mmdebstrap spends its time unpacking packages in TMPDIR: measured under load, 80 s with it
# on tmpfs against 124-147 s on this disk. The archives' temporary copies go there as well.
tmpfs=/dev/shm
[[ -d $tmpfs && -w $tmpfs ]] || tmpfs=${TMPDIR:-/tmp}
# What the Dockerfile's FROM names, fully qualified, and the one base the stand-in imitates.
base=docker.io/library/python:3.11-slim
mkdir -p "$storage" "$out" "$logs"
cleanup=()
trap 'rm -rf "${cleanup[@]}"' EXIT

# A storage remembers its driver, and opened with another one it silently lists no images, so
# every call names all three.
bah() { buildah --root "$storage/root" --runroot "$storage/run" --storage-driver vfs "$@"; }
store="containers-storage:[vfs@$storage/root+$storage/run]"

froms=$(awk 'toupper($1) == "FROM" { print $2 }' Dockerfile | sort -u)
[[ $froms == "python:3.11-slim" ]] || die "the Dockerfile builds FROM $froms;" \
  "scripts/image.sh makes a stand-in for python:3.11-slim only"

# Debian bookworm's Python 3.11 laid out where the Dockerfile relies on the official image:
# python3, pip and python on PATH, pip allowed to install as root, useradd, CA certificates.
make_stand_in() {
  local rootfs container arch
  rootfs=$(mktemp "$tmpfs/helios-base.XXXXXX.tar")
  cleanup+=("$rootfs")
  arch=$(dpkg --print-architecture)
  # The merged-usr hook: without it apt picks the usrmerge package, which pulls in perl (+49 MB).
  # EXTERNALLY-MANAGED goes: Debian's PEP 668 marker, which the official image does not have,
  # would refuse `pip install` outside a virtualenv. /dev is left out: root mode puts the
  # host's device nodes in the tarball.
  # shellcheck disable=SC2016 # $1 is the hook's argument, expanded by mmdebstrap's shell
  if ! TMPDIR=$tmpfs mmdebstrap --quiet --variant=minbase --architectures="$arch" \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --include=python3,python3-pip,ca-certificates,netbase,tzdata \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --customize-hook='rm -f "$1"/usr/lib/python3.11/EXTERNALLY-MANAGED' \
    --customize-hook='ln -s /usr/bin/python3 "$1"/usr/local/bin/python' \
    bookworm - \
    "deb http://deb.debian.org/debian bookworm main" \
    "deb http://deb.debian.org/debian bookworm-updates main" \
    "deb http://deb.debian.org/debian-security bookworm-security main" \
    2>"$logs/image-stand-in.log" | mmtarfilter --path-exclude='/dev/*' >"$rootfs"; then
    tail -n 30 "$logs/image-stand-in.log" >&2
    die "mmdebstrap failed (the whole log: $logs/image-stand-in.log)"
  fi
  container=$(bah from --pull=never scratch)
  bah add --quiet "$container" "$rootfs" / >/dev/null
  bah config --os linux --arch "$arch" \
    --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env LANG=C.UTF-8 --cmd '["python3"]' \
    --label io.helios.stand-in="debian bookworm minbase, python3 python3-pip (mmdebstrap)" \
    "$container"
  bah commit --quiet --rm "$container" "$base" >/dev/null
}

# What the build can see: Dockerfile, .dockerignore and the paths .dockerignore lets in (its
# ! lines), as git pathspecs.
mapfile -t context < <(echo Dockerfile; echo .dockerignore; sed -n 's/^!//p' .dockerignore)
# Those files as git lists them (tracked, or new and not ignored), NUL-separated; a file deleted
# from the tree is left out.
context_files() {
  local file
  while IFS= read -r -d '' file; do
    if [[ -e $file ]]; then printf '%s\0' "$file"; fi
  done < <(git ls-files -z --cached --others --exclude-standard -- "${context[@]}")
}

SECONDS=0
if ! bah inspect --type image "$base" >/dev/null 2>&1; then
  step "stand-in for $base: Debian bookworm minbase + Python 3.11 + pip (mmdebstrap)"
  make_stand_in
fi
base_seconds=$SECONDS

# The commit goes into a label; -dirty when the files the build sees differ from it. The
# rebuild key leaves the commit out (a commit that changes none of those files reuses the
# image and its label) but not the dirty flag, so committing the changes relabels the image.
revision=$(git rev-parse HEAD)
[[ -z $(git status --porcelain -- "${context[@]}") ]] || revision+=-dirty
key=$({
  bah inspect --type image --format '{{.FromImageID}}' "$base"
  [[ $revision == *-dirty ]] && echo dirty || echo clean
  tar -c --null --files-from=<(context_files) --sort=name --mtime=@0 \
    --owner=0 --group=0 --numeric-owner -f -
} | sha256sum | cut -d' ' -f1)

built=$(bah inspect --type image --format '{{index .OCIv1.Config.Labels "io.helios.context"}}' \
  "$name" 2>/dev/null || true)
if [[ $built != "$key" ]]; then
  step "build $name from the Dockerfile (revision $revision; log in $logs/image.log)"
  # No --layers: with vfs every cached step is a full copy of the root filesystem, slower than
  # building again (measured 89-99 s against 35 s); the key above is the cache instead.
  # pip in RUN checks PyPI's certificate against the machine's CA bundle, mounted, never copied.
  if ! bah bud --pull=never --isolation chroot --layers=false \
      -v /etc/ssl/certs:/etc/ssl/certs:ro \
      --label "org.opencontainers.image.revision=$revision" --label "io.helios.context=$key" \
      -f Dockerfile -t "$name" . >"$logs/image.log" 2>&1; then
    tail -n 30 "$logs/image.log" >&2
    die "the image build failed (the whole log: $logs/image.log)"
  fi
  # The image this tag named before is now nameless; on vfs each is a full copy.
  bah rmi --prune >/dev/null
fi
build_seconds=$((SECONDS - base_seconds))

id=$(bah inspect --type image --format '{{.FromImageID}}' "$name")
saved=false
if [[ $(cat "$out/helios.id" 2>/dev/null) != "$id" || ! -f $out/helios.oci.tar \
      || ! -f $out/helios.docker.tar ]]; then
  step "save $out/helios.oci.tar and helios.docker.tar"
  rm -f "$out/helios.id" "$out"/*.tmp
  # skopeo refuses to overwrite a docker-archive; writing beside and renaming also means an
  # interrupted save never leaves a half archive under the real name.
  TMPDIR=$tmpfs skopeo copy --quiet "$store$name" "oci-archive:$out/helios.oci.tar.tmp:$name"
  TMPDIR=$tmpfs skopeo copy --quiet "$store$name" "docker-archive:$out/helios.docker.tar.tmp:$name"
  mv "$out/helios.oci.tar.tmp" "$out/helios.oci.tar"
  mv "$out/helios.docker.tar.tmp" "$out/helios.docker.tar"
  echo "$name" >"$out/helios.ref"
  echo "$id" >"$out/helios.id"
  saved=true
fi
save_seconds=$((SECONDS - base_seconds - build_seconds))

if [[ $built == "$key" ]] && ! $saved; then
  step "$name ($revision) is up to date"
else
  step "$name ($revision): base ${base_seconds}s, build ${build_seconds}s, save ${save_seconds}s"
fi
du -h "$out/helios.oci.tar" "$out/helios.docker.tar" >&2
echo "$name"
