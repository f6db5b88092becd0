#!/usr/bin/env bash
# `make up`: everything, locally, in the background: install what is missing, then the
# supervisor starts Kafka, PostgreSQL and Redis, creates topics and schema, seeds the demo
# profiles, and starts the four services and the Envoy gateway, each waited for until it serves.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
started=$SECONDS
bash "$ROOT/scripts/install.sh"
step "starting the local Helios (helios local up: infra, then mesh)"
helios local up infra mesh
step "up in $((SECONDS - started))s"
