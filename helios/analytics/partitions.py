"""Daily partitions of ``auction_outcomes``: made ahead of time and on demand, dropped whole
once older than the retention.

One partition per UTC day of ``auction_timestamp``, named ``auction_outcomes_pYYYYMMDD`` (the
name is how a partition's day is found again). ``maintain`` runs when the analytics service
starts and every :data:`MAINTENANCE_SECONDS` after: it makes the partitions of yesterday to
:data:`AHEAD_DAYS` ahead, so midnight never waits on DDL, and drops those older than the
retention, with the hourly rollup's rows of those days. The daily rollup keeps every day.

Written here rather than with pg_partman: the rule is a few statements, and it then runs on any
PostgreSQL 13+ (a managed one included) without an extension to install and schedule.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)

PARENT = "auction_outcomes"
PREFIX = f"{PARENT}_p"
AHEAD_DAYS = 2
MAINTENANCE_SECONDS = 600.0
# Serialises DDL on the table between the processes that run maintain() or create days.
_LOCK = text("SELECT pg_advisory_xact_lock(hashtext('helios.analytics.partitions'))")


def name(day: date) -> str:
    return f"{PREFIX}{day:%Y%m%d}"


def day_of(table: str) -> date | None:
    """The day of a partition named by :func:`name`; None for any other table."""
    suffix = table.removeprefix(PREFIX)
    if suffix == table or len(suffix) != 8 or not suffix.isdigit():
        return None
    try:
        return datetime.strptime(suffix, "%Y%m%d").date()
    except ValueError:
        return None


def utc_day(instant: datetime) -> date:
    return instant.astimezone(UTC).date()


def create_statement(day: date) -> str:
    """``CREATE TABLE`` of one day's partition; a no-op when it exists."""
    return (f"CREATE TABLE IF NOT EXISTS {name(day)} PARTITION OF {PARENT} "
            f"FOR VALUES FROM ('{day.isoformat()} 00:00:00+00') "
            f"TO ('{(day + timedelta(days=1)).isoformat()} 00:00:00+00')")


@dataclass(frozen=True)
class Retention:
    """How many whole UTC days before today the raw rows are kept; 0 keeps them all."""

    days: int

    def horizon(self, today: date) -> date | None:
        """The oldest day kept, or None when every day is."""
        return today - timedelta(days=self.days) if self.days else None

    def expired(self, day: date, today: date) -> bool:
        horizon = self.horizon(today)
        return horizon is not None and day < horizon


async def existing(conn: AsyncConnection) -> set[date]:
    result = await conn.execute(text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        f"WHERE i.inhparent = '{PARENT}'::regclass"))
    return {day for (table,) in result if (day := day_of(table)) is not None}


async def create(engine: AsyncEngine, days: Iterable[date]) -> None:
    """Makes the partitions of ``days`` that do not exist, in one transaction."""
    async with engine.begin() as conn:
        await conn.execute(_LOCK)
        missing = set(days) - await existing(conn)
        for day in sorted(missing):
            await conn.execute(text(create_statement(day)))
    if missing:
        log.info("partitions created", extra={"days": [d.isoformat() for d in sorted(missing)]})


async def maintain(engine: AsyncEngine, retention: Retention, today: date) -> list[date]:
    """Makes yesterday's to AHEAD_DAYS ahead's partitions, drops the expired ones and the hourly
    sums of their days; returns the days dropped."""
    await create(engine, (today + timedelta(days=n) for n in range(-1, AHEAD_DAYS + 1)))
    async with engine.begin() as conn:
        await conn.execute(_LOCK)
        dropped = sorted(day for day in await existing(conn) if retention.expired(day, today))
        for day in dropped:
            await conn.execute(text(f"DROP TABLE {name(day)}"))
        horizon = retention.horizon(today)
        if horizon is not None:
            # The hourly sums serve only days that still have rows.
            await conn.execute(text("DELETE FROM auction_outcomes_hourly WHERE hour < :horizon"),
                               {"horizon": datetime.combine(horizon, datetime.min.time(), UTC)})
    if dropped:
        log.info("expired partitions dropped",
                 extra={"days": [d.isoformat() for d in dropped], "retention_days": retention.days})
    return dropped


async def keep_maintained(engine: AsyncEngine, retention: Retention,
                          clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                          retry_seconds: float = 30.0) -> None:
    """Runs :func:`maintain` now and every MAINTENANCE_SECONDS; the service's background task.
    A failure (PostgreSQL away, the schema not migrated yet) is logged and tried again sooner."""
    while True:
        try:
            await maintain(engine, retention, utc_day(clock()))
        except Exception as exc:  # any failure is retried: the loop must live on
            log.warning("partition maintenance failed; retrying",
                        extra={"error": f"{type(exc).__name__}: {exc}"})
            await asyncio.sleep(retry_seconds)
        else:
            await asyncio.sleep(MAINTENANCE_SECONDS)
