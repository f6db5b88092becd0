#!/usr/bin/env bash
# Installs everything Helios needs on a Debian machine, idempotently: Debian packages,
# the Python virtualenv, Go command-line tools and the Kafka jars, and puts the commands the
# README uses (helios, grpcurl, ghz, helm, ...) on PATH. Safe to run again; each step is
# skipped when its result is already there.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

# prometheus: the real Prometheus (and promtool) the observability test scrapes the mesh with.
apt_install postgresql redis-server wrk chromium shellcheck prometheus
# Debian's prometheus package runs a Prometheus of its own (on :9090) where an init system
# starts services; the tests start theirs on free ports, so the package's is stopped and kept
# from starting at boot. (Containers with a policy-rc.d that refuses, like these machines,
# never start it.)
if [[ -d /run/systemd/system ]]; then
  if systemctl is-enabled --quiet prometheus 2>/dev/null || systemctl is-active --quiet prometheus; then
    step "systemctl disable --now prometheus (the tests run their own)"
    systemctl disable --now prometheus
  fi
elif [[ -x /etc/init.d/prometheus ]] && /etc/init.d/prometheus status >/dev/null 2>&1; then
  step "stop the prometheus package's service (the tests run their own)"
  /etc/init.d/prometheus stop
  update-rc.d prometheus disable >/dev/null 2>&1 || true
fi
if [[ ! -x "$VENV/bin/python" ]]; then
  step "python virtualenv in $VENV"
  python3 -m venv "$VENV"
fi
stamp="$VENV/.installed-$(sha256sum "$ROOT/pyproject.toml" | cut -c1-16)"
if [[ ! -f "$stamp" ]]; then
  step "pip install -e .[dev]"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q -e "${ROOT}[dev]"
  rm -f "$VENV"/.installed-* && touch "$stamp"
fi

go_tools=(
  "github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.3"
  "github.com/bojand/ghz/cmd/ghz@v0.120.0"
  "github.com/bufbuild/buf/cmd/buf@v1.75.0"
  "helm.sh/helm/v3/cmd/helm@v3.22.0"
  "github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2@v2.33.0"
)
mkdir -p "$TOOLS_BIN"
for mod in "${go_tools[@]}"; do
  name=$(basename "${mod%@*}")
  if [[ ! -x "$TOOLS_BIN/$name" ]]; then
    step "go install $mod"
    GOBIN="$TOOLS_BIN" go install "$mod"
  fi
done

# Keyed on the pom's hash: a changed version or dependency list refetches into a clean folder.
kafka_stamp="$KAFKA_HOME/.complete-$(sha256sum "$ROOT/scripts/kafka/pom.xml" | cut -c1-16)"
if [[ ! -f "$kafka_stamp" ]]; then
  step "Kafka jars (scripts/kafka/pom.xml) from Maven Central into $KAFKA_HOME"
  rm -rf "$KAFKA_HOME/libs" "$KAFKA_HOME"/.complete*
  mkdir -p "$KAFKA_HOME"
  mvn -q -B -f "$ROOT/scripts/kafka/pom.xml" \
    dependency:copy-dependencies -DoutputDirectory="$KAFKA_HOME/libs" -DincludeScope=runtime
  touch "$kafka_stamp"
fi

# The README's commands work in a new shell: links in a directory that is on every PATH
# (/usr/local/bin for root, else ~/.local/bin, with a warning when that is not on PATH).
if ((EUID == 0)); then links=/usr/local/bin; else links="$HOME/.local/bin"; fi
mkdir -p "$links"
for command in "$VENV/bin/helios" "$TOOLS_BIN"/*; do
  target="$links/$(basename "$command")"
  if [[ "$(readlink "$target" 2>/dev/null)" != "$command" ]]; then
    ln -sf "$command" "$target"
  fi
done
case ":$PATH:" in
  *":$links:"*) ;;
  *) step "add $links to PATH for helios, grpcurl, ghz and helm in a new shell" ;;
esac
step "install complete"
