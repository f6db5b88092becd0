"""The benchmarks' load generator (loadtest/wrk.py with loadtest/bid.lua, run by the real wrk)
against a small HTTP server that records every request: a paced run keeps its offered rate,
every request has its own id, the users are taken in turn, and what wrk reports it sent is
what arrived."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from loadtest import wrk


class Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    bodies: ClassVar[list[dict[str, object]]] = []

    def do_POST(self) -> None:
        assert self.path == "/bid"
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        type(self).bodies.append(body)
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    Recorder.bodies = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_a_paced_run_keeps_the_offered_rate_with_a_body_of_its_own_per_request(
        server: str) -> None:
    users = [f"user-{i:03d}" for i in range(1, 51)]
    run = wrk.run(server, users, seconds=3, connections=16, rate=200, run_id="paced",
                  site="pace.example")

    assert run.kept_rate, run
    assert 570 <= run.sent <= 630, run
    assert run.errors == 0
    bodies = Recorder.bodies
    # ``sent`` counts every request built; one built for a connection that was then replaced
    # is counted but never arrives, so it is an upper bound (what the soak's check needs).
    assert run.requests <= len(bodies) <= run.sent
    ids = [b["request_id"] for b in bodies]
    assert len(set(ids)) == len(ids)
    assert set(ids) <= {f"paced-{n}" for n in range(1, run.sent + 1)}
    # The users in turn, from the first again once the list is used up.
    numbers = [int(str(i).rsplit("-", 1)[1]) for i in ids]
    expected = list(itertools.islice(itertools.cycle(users), run.sent))
    assert [b["user_id"] for b in bodies] == [expected[n - 1] for n in numbers]
    assert {json.dumps(b["site"]) for b in bodies} == {'{"domain": "pace.example"}'}


def test_a_closed_loop_is_not_paced(server: str) -> None:
    paced = wrk.run(server, ["u"], seconds=1, connections=4, rate=50)
    closed = wrk.run(server, ["u"], seconds=1, connections=4)

    assert 40 <= paced.sent <= 60, paced
    assert closed.offered == 0 and not closed.kept_rate
    assert closed.sent > 3 * paced.sent, (paced, closed)
