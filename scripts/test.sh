#!/usr/bin/env bash
# `make test`: installs what is missing, runs the static checks, starts the infrastructure and
# runs the whole pytest suite against the real Kafka, Redis, PostgreSQL and Envoy. The tests
# start the Helios processes they need themselves, on free ports.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
bash scripts/install.sh
bash scripts/check.sh
helios local up infra
step "pytest"
# pytest exits 5 when it collects nothing; with set -e that fails this script, as it should.
pytest "$@"
