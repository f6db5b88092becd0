#!/usr/bin/env bash
# Static checks: generated code up to date, buf lint, shellcheck, the Prometheus rules, ruff,
# mypy --strict.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
bash scripts/proto.sh check
bash scripts/proto.sh lint
step "shellcheck"
shellcheck -x scripts/*.sh .ci/run
step "promtool: the chart's Prometheus rules and their unit tests"
promtool check rules charts/helios/files/rules.yaml
(cd tests/charts && promtool test rules rules_test.yaml)
step "ruff"
ruff check helios tests loadtest
step "mypy --strict"
mypy helios tests loadtest
