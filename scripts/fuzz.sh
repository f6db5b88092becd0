#!/usr/bin/env bash
# `make fuzz`: the long hostile-input run against the real gateway and mesh (localhost only):
# the generated requests of tests/e2e/test_hostile_input.py and Schemathesis over the served
# OpenAPI document, with many more cases than `make test` sends. Bounded by the case counts:
#   HELIOS_FUZZ_EXAMPLES (default 20000 per generated test), HELIOS_SCHEMATHESIS_EXAMPLES
#   (default 2000 per operation).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
bash scripts/install.sh
helios local up infra
export HELIOS_FUZZ_EXAMPLES=${HELIOS_FUZZ_EXAMPLES:-20000}
export HELIOS_SCHEMATHESIS_EXAMPLES=${HELIOS_SCHEMATHESIS_EXAMPLES:-2000}
step "hostile input: $HELIOS_FUZZ_EXAMPLES generated requests per test, Schemathesis $HELIOS_SCHEMATHESIS_EXAMPLES cases per operation"
pytest tests/e2e/test_hostile_input.py tests/e2e/test_openapi_fuzz.py \
  --hypothesis-show-statistics "$@"
step "Schemathesis summary (test-artifacts/schemathesis.txt):"
sed -n '/SUMMARY/,$p' test-artifacts/schemathesis.txt
