"""`helios preflight`: does this process reach the Kafka, PostgreSQL and Redis its settings name?

The Helm chart runs it as the first pre-install hook, so an install against infrastructure that
is missing or unreachable fails within the timeout, naming each server it could not reach and
why, instead of leaving the schema and topic jobs to retry for as long as Kubernetes lets them.
Each server is tried until it answers or the time is up (it may still be starting).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from helios.platform.settings import Environ, database_url, kafka_bootstrap, libpq_url, redis_url


@dataclass(frozen=True)
class Result:
    server: str
    # host:port, never a password.
    where: str
    # None when it answered, else what went wrong the last time it was tried.
    problem: str | None


def run(env: Environ, timeout: float) -> list[Result]:
    """Each server, tried until it answers or ``timeout`` seconds have passed in all."""
    deadline = time.monotonic() + timeout
    bootstrap, redis, database = kafka_bootstrap(env), redis_url(env), database_url(env)
    checks: list[tuple[str, str, Callable[[float], None]]] = [
        ("Kafka", bootstrap, lambda wait: _kafka(bootstrap, wait)),
        ("PostgreSQL", _where(database), lambda wait: _postgres(database, wait)),
        ("Redis", _where(redis), lambda wait: _redis(redis, wait)),
    ]
    return [Result(name, where, _until_answered(check, deadline))
            for name, where, check in checks]


def _until_answered(check: Callable[[float], None], deadline: float) -> str | None:
    while True:
        wait = max(min(5.0, deadline - time.monotonic()), 0.5)
        try:
            check(wait)
            return None
        except Exception as exc:  # every failure is reported, by its own words
            problem = f"{type(exc).__name__}: {exc}".strip()
        if time.monotonic() + 1 > deadline:
            return problem
        time.sleep(1)


def _kafka(bootstrap: str, wait: float) -> None:
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0,
                         "socket.connection.setup.timeout.ms": int(wait * 1000)})
    if not admin.list_topics(timeout=wait).brokers:
        raise RuntimeError("no broker in the cluster's metadata")


def _postgres(url: str, wait: float) -> None:
    import asyncpg

    async def select_one() -> None:
        connection = await asyncpg.connect(libpq_url(url), timeout=wait)
        try:
            await connection.fetchval("SELECT 1", timeout=wait)
        finally:
            await connection.close(timeout=wait)

    asyncio.run(select_one())


def _redis(url: str, wait: float) -> None:
    import redis

    with redis.Redis.from_url(url, socket_timeout=wait, socket_connect_timeout=wait) as client:
        client.ping()


def _where(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}{parts.path}"
