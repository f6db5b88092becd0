#!/usr/bin/env bash
# `make down`: stops what `make up` started, by the pids it recorded.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bash "$ROOT/scripts/services.sh" stop
bash "$ROOT/scripts/infra.sh" stop
