"""The exceptions services raise, and their gRPC status codes.

    HeliosError                  base; INTERNAL
    ├── InvalidArgument          bad input; INVALID_ARGUMENT (HTTP 400 through the gateway)
    ├── NotFound                 no such entity; NOT_FOUND (404)
    ├── Unavailable              a dependency is down; UNAVAILABLE (503)
    └── DeadlineExceeded         out of time; DEADLINE_EXCEEDED (504)

Servicers raise these; :mod:`helios.platform.interceptors` turns them into a status with the
message, in one place. The message is shown to the caller, so it says what was wrong and names
the field.
"""

from __future__ import annotations

import grpc


class HeliosError(Exception):
    code = grpc.StatusCode.INTERNAL


class InvalidArgument(HeliosError):
    code = grpc.StatusCode.INVALID_ARGUMENT

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field


class NotFound(HeliosError):
    code = grpc.StatusCode.NOT_FOUND


class Unavailable(HeliosError):
    code = grpc.StatusCode.UNAVAILABLE


class DeadlineExceeded(HeliosError):
    code = grpc.StatusCode.DEADLINE_EXCEEDED
