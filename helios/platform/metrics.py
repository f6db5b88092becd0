"""Prometheus metrics: the per-service `/metrics` endpoint and the gRPC server metrics."""

from __future__ import annotations

from prometheus_client import Counter, Histogram, start_http_server

GRPC_HANDLED = Counter(
    "helios_grpc_server_handled_total",
    "gRPC calls handled, by method and status code.",
    ["grpc_method", "grpc_code"],
)
GRPC_SECONDS = Histogram(
    "helios_grpc_server_handling_seconds",
    "Time to handle a gRPC call, by method.",
    ["grpc_method"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)


def serve_metrics(port: int, host: str = "0.0.0.0") -> None:
    """Starts the `/metrics` HTTP endpoint in a daemon thread. Port 0 disables it."""
    if port:
        start_http_server(port, addr=host)
