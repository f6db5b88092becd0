"""Alembic migrations of the analytics schema; run them with :func:`helios.analytics.migrate`."""
