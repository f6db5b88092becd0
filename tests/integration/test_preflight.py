"""`helios preflight`, as the chart's first pre-install hook runs it: all is well against the
session's servers; a missing one is named, with why, within the timeout."""

from __future__ import annotations

import subprocess
import time

from helios.local.mesh import HELIOS, free_port
from tests.conftest import Infra


def preflight(service_env: dict[str, str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(HELIOS), "preflight", "--timeout", "4"], capture_output=True,
                          text=True, env={**service_env, **env}, timeout=60)


def test_every_server_answers(infra: Infra, service_env: dict[str, str]) -> None:
    result = preflight(service_env)
    assert result.returncode == 0, result.stderr
    assert [line.rsplit(": ", 1)[1] for line in result.stdout.splitlines()] == ["ok"] * 3


def test_an_unreachable_server_is_named_with_the_reason_and_nothing_hangs(
        infra: Infra, service_env: dict[str, str]) -> None:
    closed = free_port()
    started = time.monotonic()
    result = preflight(service_env, HELIOS_REDIS_URL=f"redis://127.0.0.1:{closed}/0",
                       HELIOS_DATABASE_URL="postgresql://helios:wrong@localhost:5432/helios")
    assert time.monotonic() - started < 15
    assert result.returncode == 1
    assert result.stderr.strip() == (f"helios: cannot reach PostgreSQL (localhost:5432/helios), "
                                     f"Redis (127.0.0.1:{closed}/0)")
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines())
    assert lines[f"Kafka at {infra.kafka_bootstrap}"] == "ok"
    assert "password authentication failed" in lines["PostgreSQL at localhost:5432/helios"]
    assert "Connection refused" in lines[f"Redis at 127.0.0.1:{closed}/0"]
