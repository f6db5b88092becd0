"""The ceiling for `make bench`: a do-nothing grpc.aio BidService (health checked, on uvloop)
that answers every SubmitBid with the same bid. Helios's bidder is measured against it behind
the same Envoy config.

    python loadtest/null_bidder.py PORT [--interceptor]

``--interceptor`` adds the platform's ServiceInterceptor, every service's one interceptor
(loadtest/interceptor_cost.py measures what it costs per call).
"""

from __future__ import annotations

import sys
from typing import Any

import grpc
import uvloop
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from helios.bidder.v1 import bidder_pb2, bidder_pb2_grpc

_REPLY = bidder_pb2.BidResponse(bid_request_id="r", user_id="u", bid_price=0.35, currency="USD")


class NullBidService(bidder_pb2_grpc.BidServiceServicer):
    async def SubmitBid(self, request: Any, context: Any) -> bidder_pb2.BidResponse:
        return _REPLY


async def main(port: int, intercepted: bool) -> None:
    interceptors = []
    if intercepted:
        from helios.platform.interceptors import ServiceInterceptor

        interceptors.append(ServiceInterceptor())
    server = grpc.aio.server(interceptors=interceptors, options=[("grpc.so_reuseport", 0)])
    bidder_pb2_grpc.add_BidServiceServicer_to_server(NullBidService(), server)
    checker = health.aio.HealthServicer()  # type: ignore[attr-defined]
    health_pb2_grpc.add_HealthServicer_to_server(checker, server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    # The gateway health-checks the BidService by name, as it does Helios's bidder.
    for name in ("", bidder_pb2.DESCRIPTOR.services_by_name["BidService"].full_name):
        await checker.set(name, health_pb2.HealthCheckResponse.SERVING)
    await server.wait_for_termination()


if __name__ == "__main__":
    uvloop.run(main(int(sys.argv[1]), "--interceptor" in sys.argv[2:]))
