#!/usr/bin/env bash
# `make down`: stops what `make up` (or a test run) started, newest first, and the supervisor.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
[[ -x "$VENV/bin/helios" ]] || exit 0
helios local down
