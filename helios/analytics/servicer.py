"""The gRPC AnalyticsService: parse the parameters, ask the queries, shape the reply.

Errors are raised (InvalidArgument from parsing, NotFound from a lookup) and mapped to status
codes by the platform interceptor.
"""

from __future__ import annotations

from typing import Any

from helios.analytics import convert
from helios.analytics.filters import parse_bid_request_id, parse_filters, parse_page
from helios.analytics.queries import OutcomeQueries
from helios.analytics.v1 import analytics_pb2 as pb
from helios.analytics.v1.analytics_pb2_grpc import AnalyticsServiceServicer

Context = Any  # grpc.aio.ServicerContext; unused by every method


class AnalyticsServicer(AnalyticsServiceServicer):
    def __init__(self, queries: OutcomeQueries) -> None:
        self._queries = queries

    async def ListOutcomes(self, request: pb.ListOutcomesRequest,
                           context: Context) -> pb.ListOutcomesResponse:
        filters = parse_filters(request)
        page = await self._queries.page(filters, parse_page(request, filters))
        return convert.list_response(page)

    async def ListWinners(self, request: pb.ListWinnersRequest,
                          context: Context) -> pb.ListWinnersResponse:
        filters = parse_filters(request).with_wins_only()
        page = await self._queries.page(filters, parse_page(request, filters))
        return convert.winners_response(page)

    async def GetStats(self, request: pb.GetStatsRequest,
                       context: Context) -> pb.GetStatsResponse:
        return convert.stats_response(await self._queries.stats(parse_filters(request)))

    async def GetDailyStats(self, request: pb.GetDailyStatsRequest,
                            context: Context) -> pb.GetDailyStatsResponse:
        return convert.daily_response(await self._queries.daily(parse_filters(request)))

    async def GetOutcome(self, request: pb.GetOutcomeRequest,
                         context: Context) -> pb.Outcome:
        outcome = await self._queries.get(parse_bid_request_id(request.bid_request_id))
        return convert.outcome_message(outcome)
