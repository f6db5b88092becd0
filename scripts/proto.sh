#!/usr/bin/env bash
# Generates the Python protobuf/gRPC modules (with .pyi stubs), the descriptor set the Envoy
# gateway's transcoder needs and the OpenAPI document it serves, from protos/. The one way to
# regenerate; never edit the output.
#   scripts/proto.sh          regenerate
#   scripts/proto.sh check    fail when the committed output differs from a fresh generation
#   scripts/proto.sh lint     buf lint (STANDARD)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

googleapis=$(python -c 'import google.api, os; print(os.path.dirname(os.path.dirname(google.api.__path__[0])))')
protos=$(cd protos && find helios -name '*.proto' | sort)
# The public HTTP API: the services with google.api.http annotations.
public=(helios/bidder/v1/bidder.proto helios/analytics/v1/analytics.proto)

generate() {
  local out=$1
  mkdir -p "$out/gateway"
  # shellcheck disable=SC2086
  python -m grpc_tools.protoc -Iprotos -I"$googleapis" \
    --python_out="$out" --pyi_out="$out" --grpc_python_out="$out" \
    --plugin=protoc-gen-mypy_grpc="$VENV/bin/protoc-gen-mypy_grpc" --mypy_grpc_out="$out" \
    --include_imports --include_source_info --descriptor_set_out="$out/gateway/helios.binpb" \
    $protos
  # protoc-gen-openapiv2 insists on a Go package per file, which these protos have no use for:
  # the M options give it one.
  local go_packages="" p
  for p in $protos; do go_packages+=",M$p=helios/$(dirname "$p")"; done
  python -m grpc_tools.protoc -Iprotos -I"$googleapis" \
    --plugin=protoc-gen-openapiv2="$TOOLS_BIN/protoc-gen-openapiv2" --openapiv2_out="$out/gateway" \
    --openapiv2_opt="allow_merge=true,merge_file_name=openapi,json_names_for_fields=false,openapi_configuration=protos/openapi.yaml$go_packages" \
    "${public[@]}"
  mv "$out/gateway/openapi.swagger.json" "$out/gateway/openapi.json"
}

case "${1:-generate}" in
  generate)
    generate "$ROOT"
    step "generated Python modules under helios/*/v1/, gateway/helios.binpb and gateway/openapi.json"
    ;;
  check)
    tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
    generate "$tmp"
    (cd "$tmp" && find . -type f | sort) > "$tmp.list"
    stale=0
    while read -r f; do
      cmp -s "$tmp/$f" "$ROOT/$f" || { echo "stale: $f (run: make proto)"; stale=1; }
    done < "$tmp.list"
    rm -f "$tmp.list"
    ((stale == 0)) || die "generated code is out of date"
    step "generated code is up to date"
    ;;
  lint)
    work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
    mkdir -p "$work/third_party/google/api"
    cp "$googleapis"/google/api/{annotations,http}.proto "$work/third_party/google/api/"
    cp -r protos "$work/protos"
    cat > "$work/buf.yaml" <<YAML
version: v2
modules:
  - path: protos
  - path: third_party
lint:
  use: [STANDARD]
  ignore: [third_party]
  # SubmitBid and GetOutcome return the message itself, not a *Response wrapper: Envoy 1.40's
  # transcoder supports response_body only for google.api.HttpBody, and the HTTP answer must be
  # the flat bid (outcome). Waived here rather than in a proto comment, which would show up in
  # the OpenAPI document.
  ignore_only:
    RPC_RESPONSE_STANDARD_NAME:
      - protos/helios/bidder/v1/bidder.proto
      - protos/helios/analytics/v1/analytics.proto
YAML
    (cd "$work" && buf lint)
    step "buf lint clean"
    ;;
  *) die "usage: scripts/proto.sh [generate|check|lint]" ;;
esac
