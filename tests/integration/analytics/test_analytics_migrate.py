"""The migrations against real PostgreSQL: idempotent, the schema the code expects, 0002's
conversion of stored rows, and 0003's move of a flat table's rows into daily partitions."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command

from helios.analytics import partitions
from helios.analytics.migrate import alembic_config, migrate
from helios.platform.interests import ranked
from tests.conftest import Infra
from tests.integration.analytics.support import db_fetch

HEAD = "0003"


def test_migrate_is_idempotent(infra: Infra) -> None:
    # The session database was migrated by the infra fixture: this is the second run.
    migrate(infra.database_url)
    migrate(infra.database_url)
    versions = db_fetch(infra.database_url, "SELECT version_num FROM alembic_version")
    assert [r["version_num"] for r in versions] == [HEAD]


def test_schema_has_the_filter_indexes_and_the_rollup(infra: Infra) -> None:
    indexes = {r["indexname"] for r in db_fetch(
        infra.database_url,
        "SELECT indexname FROM pg_indexes WHERE tablename = 'auction_outcomes'")}
    assert indexes == {"ix_outcomes_auction_ts", "ix_outcomes_user_ts", "ix_outcomes_site_ts",
                       "ix_outcomes_win_price", "ix_outcomes_bid_price", "auction_outcomes_pkey"}
    columns = {r["column_name"]: (r["data_type"], r["numeric_precision"], r["numeric_scale"])
               for r in db_fetch(infra.database_url,
                                 "SELECT column_name, data_type, numeric_precision, numeric_scale "
                                 "FROM information_schema.columns "
                                 "WHERE table_name = 'auction_outcomes'")}
    assert columns["bid_price"] == ("numeric", 12, 4)
    assert columns["win_price"] == ("numeric", 12, 4)
    assert columns["user_interests"][0] == "jsonb"
    assert columns["interest_scores"][0] == "jsonb"
    assert columns["auction_timestamp"][0] == "timestamp with time zone"
    assert db_fetch(infra.database_url, "SELECT count(*) AS n FROM auction_outcomes_daily "
                                        "WHERE false")[0]["n"] == 0


@pytest.fixture
def scratch_url(infra: Infra) -> Iterator[str]:
    """A database of this test's own on the session's server, so it can be migrated to an older
    revision and filled with rows of the old shape; dropped afterwards. Its default collation is
    a language's (ICU en-US, as managed PostgreSQL often has), in which "apple" sorts before
    "Zebra": the migration's order must not depend on it."""
    name = f"{infra.database_url.rsplit('/', 1)[1]}_m{uuid.uuid4().hex[:8]}"
    db_fetch(infra.database_url, f'CREATE DATABASE "{name}" TEMPLATE template0 '
                                 "LOCALE_PROVIDER icu ICU_LOCALE 'en-US'")
    yield infra.database_url.rsplit("/", 1)[0] + "/" + name
    db_fetch(infra.database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# bid_request_id -> user_interests as 0001 stored it (interest -> score). Ties, and names whose
# order differs between code points and a language ("Zebra" before "apple"), test the order.
OLD_ROWS = {
    "m-1": {"technology": 0.95, "sports": 0.7},
    "m-2": {"sports": 0.8, "autos": 0.8, "music": 0.1},
    "m-3": {"apple": 0.5, "Zebra": 0.5, "éclair": 0.5, "b": 0.9},
    "m-4": {},
}


def test_0002_turns_stored_scores_into_names_strongest_first_and_back(scratch_url: str) -> None:
    collated = db_fetch(scratch_url, "SELECT array_agg(x ORDER BY x) AS names "
                                     "FROM unnest(ARRAY['Zebra', 'apple']) AS x")
    assert collated[0]["names"] == ["apple", "Zebra"], "the database's collation is not ICU's"
    config = alembic_config(scratch_url)
    command.upgrade(config, "0001")
    for request_id, scores in OLD_ROWS.items():
        db_fetch(scratch_url, "INSERT INTO auction_outcomes (bid_request_id, user_id, bid_price, "
                              "currency, enriched, user_interests, win_status, "
                              "auction_timestamp) VALUES ($1, 'u', 0.85, 'USD', $2, $3::jsonb, "
                              "false, now())", request_id, bool(scores), json.dumps(scores))

    command.upgrade(config, "0002")

    stored = db_fetch(scratch_url, "SELECT bid_request_id, user_interests, interest_scores "
                                   "FROM auction_outcomes")
    rows = {r["bid_request_id"]: (json.loads(r["user_interests"]),
                                  json.loads(r["interest_scores"])) for r in stored}
    assert rows == {request_id: (ranked(scores), scores)
                    for request_id, scores in OLD_ROWS.items()}
    assert rows["m-3"][0] == ["b", "Zebra", "apple", "éclair"]
    # A row written after the migration without interests gets the new column's default.
    db_fetch(scratch_url, "INSERT INTO auction_outcomes (bid_request_id, user_id, bid_price, "
                          "currency, enriched, win_status, auction_timestamp) "
                          "VALUES ('m-5', 'u', 0.35, 'USD', false, false, now())")
    fresh = db_fetch(scratch_url, "SELECT user_interests, interest_scores FROM auction_outcomes "
                                  "WHERE bid_request_id = 'm-5'")[0]
    assert (json.loads(fresh["user_interests"]), json.loads(fresh["interest_scores"])) == ([], {})

    command.downgrade(config, "0001")

    restored = {r["bid_request_id"]: json.loads(r["user_interests"])
                for r in db_fetch(scratch_url, "SELECT bid_request_id, user_interests "
                                               "FROM auction_outcomes")}
    assert restored == {**OLD_ROWS, "m-5": {}}


def test_0003_moves_every_row_of_the_flat_table_into_its_days_partition(scratch_url: str,
                                                                        ) -> None:
    config = alembic_config(scratch_url)
    command.upgrade(config, "0002")
    start = datetime(2026, 11, 1, 22, tzinfo=UTC)
    # 3,000 rows over three days, one exactly at midnight, and ids with gaps.
    db_fetch(scratch_url, "INSERT INTO auction_outcomes (id, bid_request_id, user_id, bid_price, "
                          "win_price, currency, enriched, win_status, auction_timestamp) "
                          "SELECT g * 3, 'f-' || g, 'u', 0.85, CASE WHEN g % 2 = 0 THEN 0.85 "
                          "END, 'USD', true, g % 2 = 0, $1::timestamptz + g * interval '1 min' "
                          "FROM generate_series(1, 3000) AS g", start)
    db_fetch(scratch_url, "SELECT setval('auction_outcomes_id_seq', 9000)")
    before = db_fetch(scratch_url, "SELECT * FROM auction_outcomes ORDER BY id")

    command.upgrade(config, "0003")

    after = db_fetch(scratch_url, "SELECT * FROM auction_outcomes ORDER BY id")
    assert [dict(r) for r in after] == [dict(r) for r in before]
    days = {partitions.day_of(r["part"]) for r in db_fetch(
        scratch_url, "SELECT DISTINCT tableoid::regclass::text AS part FROM auction_outcomes")}
    assert days == {start.date() + timedelta(days=n) for n in range(4)}
    assert db_fetch(scratch_url, "SELECT to_regclass('auction_outcomes_flat') AS t")[0]["t"] \
        is None
    # New rows take ids after the copied ones; a copied outcome redelivered is a duplicate.
    inserted = db_fetch(scratch_url, "INSERT INTO auction_outcomes (bid_request_id, user_id, "
                                     "bid_price, currency, enriched, win_status, "
                                     "auction_timestamp) VALUES ('f-new', 'u', 0.35, 'USD', "
                                     "false, false, now()) RETURNING id")
    assert inserted[0]["id"] > 9000
    refused = db_fetch(scratch_url, "INSERT INTO auction_outcomes (bid_request_id, user_id, "
                                    "bid_price, currency, enriched, win_status, "
                                    "auction_timestamp) SELECT bid_request_id, user_id, "
                                    "bid_price, currency, enriched, false, auction_timestamp "
                                    "FROM auction_outcomes WHERE bid_request_id = 'f-1' "
                                    "ON CONFLICT (bid_request_id, auction_timestamp) DO NOTHING "
                                    "RETURNING id")
    assert refused == []
