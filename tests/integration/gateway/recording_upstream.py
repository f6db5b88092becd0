"""A recording stand-in for the bidder and analytics services, run as a subprocess:

    python tests/integration/gateway/recording_upstream.py PORT

It serves BidService and AnalyticsService through the real platform runner and interceptor
(health, request ids in the JSON log context, error mapping) and logs every call it receives as
one JSON line: `{"msg": "call", "method": ..., "request": {...}, "request_id": ...,
"metadata": [names], "deadline": seconds or null}`. Gateway tests read those lines to see
exactly what Envoy forwarded (path normalisation, query parameters, x-request-id, which headers
and whether a deadline reached the service) without depending on the real services' business
rules.

Replies are fixed: an empty request_id is INVALID_ARGUMENT naming the field, the outcome id
"missing" is NOT_FOUND, anything else answers a well-formed message.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import grpc.aio
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message

from helios.analytics.v1 import analytics_pb2 as apb
from helios.auction.v1 import auction_pb2
from helios.bidder.v1 import bidder_pb2 as bpb
from helios.platform import errors
from helios.platform import logging as helios_logging
from helios.platform.server import Registration, Service, run

log = logging.getLogger("recording_upstream")

Reply = Callable[[Any], Message]


def _bid(request: bpb.SubmitBidRequest) -> Message:
    if not request.request_id:
        raise errors.InvalidArgument("request_id", "is required")
    return bpb.BidResponse(bid_request_id=request.request_id, user_id=request.user_id,
                           bid_price=0.35, currency="USD", enrichment_reason="no_profile")


def _outcome(request: apb.GetOutcomeRequest) -> Message:
    if request.bid_request_id == "missing":
        raise errors.NotFound(f"no outcome {request.bid_request_id!r}")
    return auction_pb2.AuctionOutcome(bid_request_id=request.bid_request_id)


BID = {"SubmitBid": (bpb.SubmitBidRequest, _bid)}
ANALYTICS: dict[str, tuple[type[Message], Reply]] = {
    "ListOutcomes": (apb.ListOutcomesRequest, lambda _: apb.ListOutcomesResponse(page=1)),
    "GetStats": (apb.GetStatsRequest, lambda _: apb.GetStatsResponse()),
    "ListWinners": (apb.ListWinnersRequest, lambda _: apb.ListWinnersResponse(page=1)),
    "GetDailyStats": (apb.GetDailyStatsRequest, lambda _: apb.GetDailyStatsResponse()),
    "GetOutcome": (apb.GetOutcomeRequest, _outcome),
}


def _handler(method: str, reply: Reply) -> Callable[[Any, Any], Awaitable[Message]]:
    async def handle(request: Message, context: grpc.aio.ServicerContext[Any, Any]) -> Message:
        log.info("call", extra={"method": method,
                                "request": MessageToDict(request,
                                                         preserving_proto_field_name=True),
                                "metadata": sorted(k for k, _ in
                                                   context.invocation_metadata() or ()),
                                "deadline": context.time_remaining()})
        return reply(request)

    return handle


def _registration(service: str, methods: dict[str, tuple[type[Message], Reply]]) -> Registration:
    handlers = {
        name: grpc.unary_unary_rpc_method_handler(
            _handler(name, reply), request_deserializer=request_type.FromString,
            response_serializer=lambda message: message.SerializeToString())
        for name, (request_type, reply) in methods.items()
    }
    generic = grpc.method_handlers_generic_handler(service, handlers)
    return Registration(service, lambda server: server.add_generic_rpc_handlers((generic,)))


def main() -> None:
    helios_logging.configure("recording-upstream")
    service = Service(
        name="recording-upstream", grpc_port=int(sys.argv[1]), metrics_port=0,
        registrations=[_registration("helios.bidder.v1.BidService", dict(BID)),
                       _registration("helios.analytics.v1.AnalyticsService", ANALYTICS)],
        grace_seconds=0.5, drain_seconds=0.1, host="127.0.0.1",
    )
    asyncio.run(run(service))


if __name__ == "__main__":
    main()
