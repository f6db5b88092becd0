#!/usr/bin/env bash
# `make image-test`: builds the image (`make image`, which skips what has not changed), then
# runs it as the chart's pods would, locked down, with umoci and runc (tests/image/).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
# The virtualenv (pytest) and helm, which renders the chart whose commands the tests run.
bash scripts/install.sh
apt_install umoci runc
bash scripts/image.sh
step "pytest tests/image"
pytest tests/image "$@"
