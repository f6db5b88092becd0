"""Alembic environment: runs the migrations over the async (asyncpg) engine.

Two processes migrating at once (``make up`` and a test session, two replicas starting) are
serialised by a PostgreSQL advisory lock, so the second one finds the schema at head.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from helios.analytics.models import Base

# Any constant shared by every migrating process; the value is arbitrary.
_LOCK_KEY = 0x48454C494F53


def _run(connection: Connection) -> None:
    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    context.configure(connection=connection, target_metadata=Base.metadata,
                      transaction_per_migration=False)
    with context.begin_transaction():
        context.run_migrations()


async def _run_online(url: str) -> None:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_run)
    finally:
        await engine.dispose()


def _main() -> None:
    url = context.config.attributes.get("database_url")
    if not url:
        raise RuntimeError("alembic config lacks attributes['database_url']; "
                           "use helios.analytics.migrate.migrate()")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=Base.metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
    else:
        asyncio.run(_run_online(url))


_main()
