"""The gRPC BidService: the request and its call context in, the bid out."""

from __future__ import annotations

from typing import Any

from helios.bidder.bidding import Bidder
from helios.bidder.v1.bidder_pb2 import BidResponse, SubmitBidRequest
from helios.bidder.v1.bidder_pb2_grpc import BidServiceServicer
from helios.platform.interceptors import request_id


class BidServicer(BidServiceServicer):
    def __init__(self, bidder: Bidder) -> None:
        self._bidder = bidder

    async def SubmitBid(self, request: SubmitBidRequest,
                        context: Any) -> BidResponse:
        return await self._bidder.submit(request, request_id=request_id(context),
                                         remaining=context.time_remaining())
