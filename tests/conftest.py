"""Session fixtures: the real infrastructure, and Helios processes started on free ports.

- ``infra``: Kafka, Redis and PostgreSQL started by ``scripts/infra.sh`` (or the existing servers
  named by HELIOS_KAFKA_BOOTSTRAP_SERVERS / HELIOS_REDIS_URL / HELIOS_DATABASE_URL), with a
  topic prefix and a PostgreSQL database of this session's own (created, migrated, dropped at
  the end) and the demo profiles seeded.
- ``service_env``: the environment for child processes pointing at ``infra``.
- ``launcher``: starts ``helios serve <name>`` and Envoy for one test; stops them after it.
- ``mesh``: the whole mesh (all four services behind a gateway) for the session.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from helios.platform import kafka, settings
from tests.harness import ROOT, Gateway, Launcher, ServiceProcess, delete_topics, launched


@dataclass(frozen=True)
class Infra:
    kafka_bootstrap: str
    redis_url: str
    database_url: str
    topic_prefix: str
    topics: kafka.Topics


@dataclass(frozen=True)
class Mesh:
    profiles: ServiceProcess
    bidder: ServiceProcess
    auction: ServiceProcess
    analytics: ServiceProcess
    gateway: Gateway
    infra: Infra


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    subprocess.run(["bash", str(ROOT / "scripts" / "infra.sh"), "start"], check=True)
    env = os.environ
    session = uuid.uuid4().hex[:8]
    bootstrap = settings.kafka_bootstrap(env)
    prefix = f"test-{session}-"
    topics = kafka.Topics.from_env({"HELIOS_KAFKA_TOPIC_PREFIX": prefix})
    kafka.ensure_topics(bootstrap, topics.partitions())

    base_url = settings.database_url(env)
    db_name = f"helios_test_{session}"
    database_url = base_url.rsplit("/", 1)[0] + "/" + db_name
    asyncio.run(_admin(base_url, f'CREATE DATABASE "{db_name}"'))

    from helios.analytics.migrate import migrate
    from helios.profiles.seed import run as seed_profiles

    migrate(database_url)
    seed_profiles(settings.redis_url(env))
    yield Infra(bootstrap, settings.redis_url(env), database_url, prefix, topics)

    asyncio.run(_admin(base_url, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
    delete_topics(bootstrap, list(topics.partitions()))


@pytest.fixture(scope="session")
def service_env(infra: Infra) -> dict[str, str]:
    return {
        **os.environ,
        "HELIOS_KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap,
        "HELIOS_KAFKA_TOPIC_PREFIX": infra.topic_prefix,
        "HELIOS_REDIS_URL": infra.redis_url,
        "HELIOS_DATABASE_URL": infra.database_url,
        "HELIOS_LOG_LEVEL": "INFO",
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
        bidder = start.start("bidder", {"HELIOS_BIDDER_PROFILES_TARGET": profiles.target})
        auction = start.start("auction")
        analytics = start.start("analytics")
        # Every test sends from 127.0.0.1: one client to the per-address limit on /api, which
        # tests/integration/gateway/test_security.py checks with limits of its own.
        gateway = start.start_gateway([bidder.target], analytics.target,
                                      {"HELIOS_GATEWAY_API_RATE": "100000",
                                       "HELIOS_GATEWAY_API_BURST": "100000"})
        yield Mesh(profiles, bidder, auction, analytics, gateway, infra)


async def _admin(base_url: str, sql: str) -> None:
    """Runs one statement (CREATE/DROP DATABASE) on the server of ``base_url``."""
    import asyncpg

    conn = await asyncpg.connect(_plain(base_url))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)



def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A skipped test hides a broken build (a missing server, a missing tool): fail the run."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter is not None else 0
    if skipped and exitstatus == 0 and reporter is not None:
        reporter.write_line(f"{skipped} test(s) skipped: every test must run", red=True)
        session.exitstatus = 1
