"""Applying the analytics schema: ``alembic upgrade head`` with a configuration built in code,
so it works from an installed package without an ``alembic.ini`` on disk."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # Handed over as an attribute, not a main option: ConfigParser would treat a '%' in a
    # password as interpolation.
    config.attributes["database_url"] = database_url
    return config


def migrate(database_url: str) -> None:
    """Upgrades the database to the newest revision; a no-op when it is already there.

    Synchronous (it runs its own event loop): call it from a command or a test set-up, not
    from inside a running loop.
    """
    command.upgrade(alembic_config(database_url), "head")
