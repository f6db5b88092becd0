"""Session fixtures: the real infrastructure, and Helios processes started on free ports.

- ``infra``: Kafka, Redis and PostgreSQL run by the supervisor (`helios local up infra`, as
  `make up` starts them; or the servers named by HELIOS_KAFKA_BOOTSTRAP_SERVERS /
  HELIOS_REDIS_URL / HELIOS_DATABASE_URL), with topics and a PostgreSQL database of this
  session's own (helios.local.scratch: created, migrated, removed at the end) and the demo
  profiles seeded.
- ``service_env``: the environment for child processes pointing at ``infra``.
- ``launcher``: starts ``helios serve <name>`` and Envoy for one test; stops them after it.
- ``mesh``: the whole mesh (all four services behind a gateway) for the session.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from helios.local.mesh import HELIOS, Gateway, Launcher, Service, launched
from helios.local.scratch import scratch
from helios.platform import kafka, settings

# The profile lookup's budget for processes the tests start, instead of the default 50 ms: the
# tests' subject is what a bid says, and two cores busy with other work can hold a lookup past
# 50 ms now and then. The deadline is the subject where a test sets its own (a frozen profile
# service, tmax) and in the unit tests of the budget.
PROFILE_DEADLINE_MS = "2000"


@dataclass(frozen=True)
class Infra:
    kafka_bootstrap: str
    redis_url: str
    database_url: str
    topic_prefix: str
    topics: kafka.Topics


@dataclass(frozen=True)
class Mesh:
    profiles: Service
    bidder: Service
    auction: Service
    analytics: Service
    gateway: Gateway
    infra: Infra


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    subprocess.run([str(HELIOS), "local", "up", "infra"], check=True)
    env = os.environ
    from helios.profiles.seed import run as seed_profiles

    seed_profiles(settings.redis_url(env))
    with scratch(env, "test") as own:
        yield Infra(settings.kafka_bootstrap(env), settings.redis_url(env), own.database_url,
                    own.prefix, own.topics)


@pytest.fixture(scope="session")
def service_env(infra: Infra) -> dict[str, str]:
    return {
        **os.environ,
        "HELIOS_KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap,
        "HELIOS_KAFKA_TOPIC_PREFIX": infra.topic_prefix,
        "HELIOS_REDIS_URL": infra.redis_url,
        "HELIOS_DATABASE_URL": infra.database_url,
        "HELIOS_LOG_LEVEL": "INFO",
        # The suite's outcomes are dated from 2026-03 on; the retention has tests of its own
        # (tests/integration/analytics/test_analytics_partitions.py).
        "HELIOS_ANALYTICS_RETENTION_DAYS": "3650",
    }


@pytest.fixture(scope="session")
def log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("logs")


@pytest.fixture
def launcher(service_env: dict[str, str], log_dir: Path) -> Iterator[Launcher]:
    with launched(service_env, log_dir) as started:
        yield started


@pytest.fixture(scope="session")
def mesh(infra: Infra, service_env: dict[str, str], log_dir: Path) -> Iterator[Mesh]:
    mesh_logs = log_dir / "mesh"
    mesh_logs.mkdir(exist_ok=True)
    with launched(service_env, mesh_logs) as start:
        profiles = start.start("profiles")
        bidder = start.start("bidder", {"HELIOS_BIDDER_PROFILES_TARGET": profiles.target,
                                        "HELIOS_BIDDER_PROFILE_DEADLINE_MS": PROFILE_DEADLINE_MS})
        auction = start.start("auction")
        analytics = start.start("analytics")
        # Every test sends from 127.0.0.1: one client to the per-address limit on /api, which
        # tests/integration/gateway/test_security.py checks with limits of its own.
        gateway = start.start_gateway([bidder.target], analytics.target,
                                      {"HELIOS_GATEWAY_API_RATE": "100000",
                                       "HELIOS_GATEWAY_API_BURST": "100000"})
        yield Mesh(profiles, bidder, auction, analytics, gateway, infra)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A skipped test hides a broken build (a missing server, a missing tool): fail the run."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter is not None else 0
    if skipped and exitstatus == 0 and reporter is not None:
        reporter.write_line(f"{skipped} test(s) skipped: every test must run", red=True)
        session.exitstatus = 1
