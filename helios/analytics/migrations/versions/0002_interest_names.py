"""user_interests becomes the interest names strongest first; the scores move to interest_scores

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# The names in helios.platform.interests.ranked order: highest score first, a tie going to the
# name first in code-point order. COLLATE "C" compares UTF-8 bytes, which is code-point order;
# the database's default collation (en_US and the like) would not be.
_RANK = """
UPDATE auction_outcomes
SET user_interests = (
    SELECT jsonb_agg(key ORDER BY value::float8 DESC, key COLLATE "C")
    FROM jsonb_each(interest_scores))
WHERE interest_scores <> '{}'::jsonb
"""


def upgrade() -> None:
    # The map of scores keeps its data under a new name (a catalog change, no rewrite), and the
    # new column's constant default costs no rewrite either (PostgreSQL 11+): only rows with
    # interests, the enriched ones, are written.
    op.alter_column("auction_outcomes", "user_interests", new_column_name="interest_scores")
    op.add_column("auction_outcomes", sa.Column("user_interests", postgresql.JSONB,
                                                nullable=False, server_default="[]"))
    op.execute(_RANK)


def downgrade() -> None:
    op.drop_column("auction_outcomes", "user_interests")
    op.alter_column("auction_outcomes", "interest_scores", new_column_name="user_interests")
