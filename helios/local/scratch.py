"""A run's own corner of the shared Kafka and PostgreSQL: topics behind a prefix and a migrated
database, made at the start and removed at the end, so that a test session, a benchmark and
`make up` never see each other's messages or rows."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from helios.platform import kafka, settings
from helios.platform.settings import Environ


@dataclass(frozen=True)
class Scratch:
    prefix: str
    topics: kafka.Topics
    database_url: str

    def env(self) -> dict[str, str]:
        """What the services need to use this corner."""
        return {"HELIOS_KAFKA_TOPIC_PREFIX": self.prefix, "HELIOS_DATABASE_URL": self.database_url}


@contextlib.contextmanager
def scratch(env: Environ, label: str, *, topics: bool = True, database: bool = True,
            migrate: bool = True, keep: bool = False) -> Iterator[Scratch]:
    """Topics ``<label>-<run>-*`` (created) and a database ``helios_<label>_<run>`` (created and,
    with ``migrate``, migrated), removed when the block ends unless ``keep``."""
    run = uuid.uuid4().hex[:8]
    prefix = f"{label}-{run}-"
    names = kafka.Topics.from_env({"HELIOS_KAFKA_TOPIC_PREFIX": prefix})
    bootstrap = settings.kafka_bootstrap(env)
    base_url = settings.database_url(env)
    db_name = f"helios_{label.replace('-', '_')}_{run}"
    db_url = base_url.rsplit("/", 1)[0] + "/" + db_name if database else base_url
    if topics:
        kafka.ensure_topics(bootstrap, names.partitions())
    if database:
        asyncio.run(_admin(base_url, f'CREATE DATABASE "{db_name}"'))
    if database and migrate:
        from helios.analytics import migrate as migrations

        migrations.migrate(db_url)
    try:
        yield Scratch(prefix, names, db_url)
    finally:
        if keep:
            print(f"kept topics {prefix}* and database {db_url}")
        elif database:
            asyncio.run(_admin(base_url, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
        if topics and not keep:
            kafka.delete_topics(bootstrap, names.partitions())


async def _admin(base_url: str, sql: str) -> None:
    """Runs one statement (CREATE/DROP DATABASE) on the server of ``base_url``."""
    import asyncpg

    conn = await asyncpg.connect(settings.libpq_url(base_url))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()
