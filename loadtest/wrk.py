"""wrk, the benchmarks' load generator for `POST /bid`, closed loop or at a constant rate.

wrk (Debian) runs loadtest/bid.lua: every request has a body of its own (a distinct request id,
the next user of the ids given), and with a rate the sends follow one schedule shared by all
connections, so the offered rate does not depend on how fast answers come back, as long as a
connection is free when a send is due. A send that found none is counted as late: then the
achieved rate falls short of the offered one, and the run says so. wrk itself costs a few tens
of microseconds of CPU per request, so a paced run leaves the machine its headroom. Only
127.0.0.1 is targeted, and every run is bounded by ``seconds``.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from loadtest.common import tool

SCRIPT = Path(__file__).with_name("bid.lua")
_RESULT = re.compile(r"RESULT (\d+) (\d+) (\d+) (\d+) (\S+) (\S+) (\S+) (\S+) (\d+) (\d+)")


@dataclass
class Run:
    """One wrk run: ``offered`` is 0 for a closed loop. ``sent`` requests were written,
    ``requests`` answered, ``errors`` of those not 2xx/3xx; ``socket_errors`` connections
    failed. The rest of ``sent`` was still in flight when the run ended."""

    offered: float
    connections: int
    sent: int
    requests: int
    errors: int
    socket_errors: int
    late: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def kept_rate(self) -> bool:
        """A paced run sent at the offered rate (within 2 %, fewer than 1 % of sends late)."""
        return (self.offered > 0 and self.rps >= 0.98 * self.offered
                and self.late <= 0.01 * self.requests)


def run(url: str, users: Sequence[str], *, seconds: float, connections: int,
        rate: float = 0, run_id: str | None = None, site: str = "news.example") -> Run:
    """``POST {url}/bid`` for ``seconds``; ``users`` are taken in turn (and again from the first
    when the run needs more); request ids are ``{run_id}-1``, ``{run_id}-2``, ..."""
    with tempfile.NamedTemporaryFile("w", suffix=".users") as listing:
        listing.write("\n".join(users) + "\n")
        listing.flush()
        out = subprocess.run(
            [tool("wrk"), "-t1", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "5s",
             "-s", str(SCRIPT), url, "--", listing.name, f"{rate:g}",
             run_id or f"w{uuid.uuid4().hex[:8]}", site],
            capture_output=True, text=True, check=True)
    match = _RESULT.search(out.stdout)
    if match is None:
        raise RuntimeError(f"wrk printed no result:\n{out.stdout}\n{out.stderr}")
    requests, errors, socket_errors, micros, p50, p95, p99, top, late, sent = (
        float(g) for g in match.groups())
    return Run(rate, connections, int(sent), int(requests), int(errors), int(socket_errors),
               int(late), micros / 1e6,
               p50 / 1e3, p95 / 1e3, p99 / 1e3, top / 1e3)
