"""The supervisor behind `make up`, as an operator uses it: `helios local up` starts the mesh
in the background, `status` shows every process with its pid, port and health, a service
killed with SIGKILL is SERVING again within 10 s with nobody typing anything, and `down`
stops everything. Run on free ports and a state directory of its own, against the session's
Kafka, PostgreSQL and Redis (as external servers), so it shares nothing with `make up`."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from helios.local.mesh import HELIOS, free_port
from helios.local.probes import grpc_serving, wait
from tests.conftest import Infra


@pytest.fixture(scope="module")
def local_env(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    env = {**os.environ,
           "HELIOS_STATE_DIR": str(tmp_path_factory.mktemp("local-state")),
           "HELIOS_KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap,
           "HELIOS_KAFKA_TOPIC_PREFIX": infra.topic_prefix,
           "HELIOS_DATABASE_URL": infra.database_url, "HELIOS_REDIS_URL": infra.redis_url,
           "HELIOS_LOCAL_RESERVE_PORTS": "false"}
    for name in ("PROFILES", "BIDDER", "AUCTION", "ANALYTICS"):
        env[f"HELIOS_{name}_GRPC_PORT"] = str(free_port())
        env[f"HELIOS_{name}_METRICS_PORT"] = "0"
    for name in ("PORT", "TLS_PORT", "ADMIN_PORT", "METRICS_PORT"):
        env[f"HELIOS_GATEWAY_{name}"] = str(free_port())
    yield env
    local(env, "down")


def local(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(HELIOS), "local", *args], env=env, capture_output=True,
                          text=True, timeout=180, check=False)


def status(env: dict[str, str]) -> dict[str, list[str]]:
    lines = local(env, "status").stdout.splitlines()[1:]
    return {line.split()[0]: line.split() for line in lines}


def test_up_starts_everything_and_status_shows_it(local_env: dict[str, str]) -> None:
    up = local(local_env, "up", "infra", "mesh")
    assert up.returncode == 0, up.stdout + up.stderr
    assert "Helios is up" in up.stdout

    rows = status(local_env)
    assert set(rows) == {"kafka", "postgres", "redis", "profiles", "auction", "analytics",
                         "bidder", "envoy"}
    assert [rows[n][1] for n in ("kafka", "postgres", "redis")] == ["external"] * 3
    for name in ("profiles", "auction", "analytics", "bidder", "envoy"):
        _, state, pid, _, health = rows[name][:5]
        assert (state, health) == ("running", "ok"), rows[name]
        assert psutil.pid_exists(int(pid))
    assert rows["bidder"][3] == local_env["HELIOS_BIDDER_GRPC_PORT"]
    assert local(local_env, "status").returncode == 0


def test_a_killed_bidder_is_serving_again_within_ten_seconds(
        local_env: dict[str, str]) -> None:
    pid = int(status(local_env)["bidder"][2])
    target = f"127.0.0.1:{local_env['HELIOS_BIDDER_GRPC_PORT']}"

    os.kill(pid, signal.SIGKILL)
    killed = time.monotonic()
    # Not SERVING first (the old process is gone), then SERVING from the new one.
    assert wait(lambda: not grpc_serving(target)(), 5)
    assert wait(grpc_serving(target), 10)
    back = time.monotonic() - killed

    row = status(local_env)["bidder"]
    assert int(row[2]) != pid
    assert row[5] == "1", row  # one restart
    assert back < 10


def test_down_stops_every_process_and_the_supervisor(local_env: dict[str, str]) -> None:
    pids = [int(row[2]) for row in status(local_env).values() if row[2].isdigit()]
    supervisor = int((Path(local_env["HELIOS_STATE_DIR"]) / "run" / "supervisor.pid")
                     .read_text())

    down = local(local_env, "down")

    assert down.returncode == 0, down.stderr
    assert not [p for p in [*pids, supervisor] if psutil.pid_exists(p)
                and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
    assert "no supervisor is running" in local(local_env, "status").stdout
