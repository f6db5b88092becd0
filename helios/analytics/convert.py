"""Stored rows and query results to protobuf messages."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp

from helios.analytics.models import AS_SENT, StoredOutcome
from helios.analytics.queries import DayStats, OutcomePage, Stats
from helios.analytics.v1 import analytics_pb2 as pb


def outcome_message(row: StoredOutcome) -> pb.Outcome:
    message = pb.Outcome(
        **{name: getattr(row, name) for name in AS_SENT},
        bid_price=float(row.bid_price),
        currency=row.currency,
        user_interests=row.user_interests,
        interest_scores=row.interest_scores,
        # A loss is stored without a price; the API says 0, as the Kafka message does.
        win_price=float(row.win_price) if row.win_price is not None else 0.0,
        auction_timestamp=_timestamp(row.auction_timestamp),
    )
    if row.bid_timestamp is not None:
        message.timestamp.CopyFrom(_timestamp(row.bid_timestamp))
    return message


def outcome_messages(rows: Iterable[StoredOutcome]) -> list[pb.Outcome]:
    return [outcome_message(row) for row in rows]


def list_response(page: OutcomePage) -> pb.ListOutcomesResponse:
    return pb.ListOutcomesResponse(count=page.count, page=page.page, page_size=page.page_size,
                                   next_page_token=page.next_page_token,
                                   total_pages=page.total_pages,
                                   results=outcome_messages(page.rows))


def winners_response(page: OutcomePage) -> pb.ListWinnersResponse:
    return pb.ListWinnersResponse(count=page.count, page=page.page, page_size=page.page_size,
                                  next_page_token=page.next_page_token,
                                  total_pages=page.total_pages,
                                  results=outcome_messages(page.rows))


def stats_response(stats: Stats) -> pb.GetStatsResponse:
    return pb.GetStatsResponse(
        total=stats.total, wins=stats.wins, losses=stats.losses, win_rate=stats.win_rate,
        revenue=float(stats.revenue), average_win_price=float(stats.average_win_price),
        average_bid_price=float(stats.average_bid_price), enriched_count=stats.enriched_count)


def daily_response(days: Iterable[DayStats]) -> pb.GetDailyStatsResponse:
    return pb.GetDailyStatsResponse(results=[
        pb.DailyStats(date=day.day.isoformat(), total=day.total, wins=day.wins,
                      revenue=float(day.revenue), average_win_price=float(day.average_win_price))
        for day in days])


def _timestamp(value: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp
