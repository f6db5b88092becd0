"""Schemathesis, driven by the OpenAPI document the gateway serves, against the whole mesh:
every operation, with checks that no answer is a server error, that each status and body is
one the document declares, and that bodies match their schema.

``HELIOS_SCHEMATHESIS_EXAMPLES`` sets the cases per operation (`make test`: 100; `make fuzz`:
many more). The run's summary is written to test-artifacts/schemathesis.txt.
"""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from tests.conftest import Mesh
from tests.harness import BIN, ROOT

pytestmark = pytest.mark.e2e

EXAMPLES = int(os.environ.get("HELIOS_SCHEMATHESIS_EXAMPLES", "100"))
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance")


def test_schemathesis_finds_nothing_wrong_on_any_operation(mesh: Mesh) -> None:
    result = subprocess.run(
        [str(BIN / "schemathesis"), "run", f"{mesh.gateway.url}/openapi.json",
         "--checks", ",".join(CHECKS), "--max-examples", str(EXAMPLES),
         "--header", f"authorization: Bearer {mesh.gateway.token()}",
         "--generation-database", "none", "--no-color", "--workers", "2",
         "--request-timeout", "10", "--suppress-health-check", "all"],
        capture_output=True, text=True, timeout=1800, check=False, cwd=ROOT)
    summary = result.stdout[result.stdout.rfind("SUMMARY"):]
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / "schemathesis.txt").write_text(result.stdout + result.stderr)

    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    tested = re.search(r"Tested: (\d+)", summary)
    assert tested is not None and int(tested.group(1)) == 7, summary
    cases = re.search(r"(\d+) generated, (\d+) passed", summary)
    assert cases is not None and cases.group(1) == cases.group(2), summary
