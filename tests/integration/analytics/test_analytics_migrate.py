"""The migrations against real PostgreSQL: idempotent, and the schema the code expects."""

from __future__ import annotations

from helios.analytics.migrate import migrate
from tests.conftest import Infra
from tests.integration.analytics.support import db_fetch


def test_migrate_is_idempotent(infra: Infra) -> None:
    # The session database was migrated by the infra fixture: this is the second run.
    migrate(infra.database_url)
    migrate(infra.database_url)
    versions = db_fetch(infra.database_url, "SELECT version_num FROM alembic_version")
    assert [r["version_num"] for r in versions] == ["0001"]


def test_schema_has_the_filter_indexes_and_the_rollup(infra: Infra) -> None:
    indexes = {r["indexname"] for r in db_fetch(
        infra.database_url,
        "SELECT indexname FROM pg_indexes WHERE tablename = 'auction_outcomes'")}
    assert {"ix_outcomes_auction_ts", "ix_outcomes_user_ts", "ix_outcomes_site_ts",
            "ix_outcomes_win_ts", "ix_outcomes_win_price",
            "ix_outcomes_bid_price", "auction_outcomes_bid_request_id_key"} <= indexes
    columns = {r["column_name"]: (r["data_type"], r["numeric_precision"], r["numeric_scale"])
               for r in db_fetch(infra.database_url,
                                 "SELECT column_name, data_type, numeric_precision, numeric_scale "
                                 "FROM information_schema.columns "
                                 "WHERE table_name = 'auction_outcomes'")}
    assert columns["bid_price"] == ("numeric", 12, 4)
    assert columns["win_price"] == ("numeric", 12, 4)
    assert columns["user_interests"][0] == "jsonb"
    assert columns["auction_timestamp"][0] == "timestamp with time zone"
    assert db_fetch(infra.database_url, "SELECT count(*) AS n FROM auction_outcomes_daily "
                                        "WHERE false")[0]["n"] == 0
