"""Hostile and careless input through the real gateway, against the whole mesh.

Every answer is a 2xx, or a 4xx whose body is a JSON google.rpc.Status naming what was wrong:
never a 5xx, never an exception's text, never an internal header. A bid answered 200 is stored
by analytics (nothing accepted at the front door is refused by a later hop), and the services
stay healthy.

Two parts: the classes of input found so far, a test each, and generated requests (Hypothesis)
that look for the next class. ``HELIOS_FUZZ_EXAMPLES`` sets how many requests each generated
test sends: a few hundred in `make test`, many more in `make fuzz`.
"""

from __future__ import annotations

import asyncio
import json
import os
import urllib.parse
import uuid
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helios.platform.settings import libpq_url
from tests.conftest import Mesh
from tests.harness import eventually
from tests.http import Reply, request

pytestmark = pytest.mark.e2e

EXAMPLES = int(os.environ.get("HELIOS_FUZZ_EXAMPLES", "300"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
# What must never reach a client: exception class names, parser and driver messages.
INTERNAL = ("Traceback", "Exception", "Error parsing", "DecodeError", "asyncpg", "sqlalchemy",
            "Unexpected <", "PostgreSQL", "psycopg", "protobuf", "reset reason", "upstream")
FILTERS = ("user_id", "site_domain", "win_status", "enriched", "min_price", "max_price", "from",
           "to")
PAGING = ("page", "page_size", "ordering")
API_PATHS = ("/api/outcomes", "/api/outcomes/stats", "/api/outcomes/winners",
             "/api/outcomes/daily-stats", "/api/outcomes/daily_stats")


def check(reply: Reply, what: str) -> None:
    """The rules every answer follows, whatever was sent."""
    assert reply.status < 500, f"{what}: {reply.status} {reply.body[:300]!r}"
    leaked = [n for n in reply.headers if n == "server" or n.startswith(("x-envoy-", "grpc-"))]
    assert not leaked, f"{what}: internal headers {leaked}"
    if reply.status >= 400 and reply.body:
        body = reply.json()
        assert set(body) <= {"code", "message", "details"}, (what, body)
        assert isinstance(body["code"], int) and body["code"] > 0, (what, body)
        assert isinstance(body["message"], str) and body["message"], (what, body)
        assert not [m for m in INTERNAL if m in body["message"]], (what, body)


def refused(reply: Reply, status: int, field: str) -> None:
    """A 4xx JSON status whose message starts with the field it blames."""
    check(reply, field)
    assert reply.status == status, (field, reply.status, reply.body)
    assert reply.json()["message"].startswith(f"{field}: "), reply.json()


def api(mesh: Mesh, path: str) -> Reply:
    return request("GET", f"{mesh.gateway.url}{path}", headers=mesh.gateway.auth())


def bid(mesh: Mesh, body: Any, **headers: str) -> Reply:
    return request("POST", f"{mesh.gateway.url}/bid", body, headers=headers)


def rid() -> str:
    return f"hostile-{uuid.uuid4().hex[:12]}"


class Accepted:
    """The ids of bids answered 200, checked against PostgreSQL when the module ends."""

    def __init__(self) -> None:
        self.ids: set[str] = set()


@pytest.fixture(scope="module")
def accepted(mesh: Mesh) -> Iterator[Accepted]:
    found = Accepted()
    yield found
    if found.ids:
        eventually(lambda: stored(mesh, found.ids) == found.ids, timeout=60, interval=0.5)
    assert_healthy(mesh)


def stored(mesh: Mesh, ids: set[str]) -> set[str]:
    import asyncpg

    async def query() -> set[str]:
        conn = await asyncpg.connect(libpq_url(mesh.infra.database_url))
        try:
            rows = await conn.fetch("SELECT bid_request_id FROM auction_outcomes "
                                    "WHERE bid_request_id = ANY($1::text[])", list(ids))
        finally:
            await conn.close()
        return {row["bid_request_id"] for row in rows}

    return asyncio.run(query())


def assert_healthy(mesh: Mesh) -> None:
    assert request("GET", f"{mesh.gateway.url}/healthz").status == 200
    for service in (mesh.profiles, mesh.bidder, mesh.auction, mesh.analytics):
        assert service.alive, f"{service.name} exited"
        with grpc.insecure_channel(service.target) as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(),
                                                              timeout=5)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING, service.name


# ---- the classes found so far ------------------------------------------------------------

@pytest.mark.parametrize("parameter", FILTERS + PAGING)
def test_invalid_utf8_in_a_query_value_is_400_naming_it(mesh: Mesh, parameter: str) -> None:
    refused(api(mesh, f"/api/outcomes?{parameter}=%ED%A0%80"), 400, parameter)


@pytest.mark.parametrize("path", ["/api/outcomes/%ED%A0%80", "/api/outcomes/%ED%A0%80/",
                                  "/api/outcomes/%FF%FE"])
def test_invalid_utf8_in_a_path_segment_is_400_naming_it(mesh: Mesh, path: str) -> None:
    refused(api(mesh, path), 400, "bid_request_id")


# Whitespace around a filter is trimmed (a tab alone is no filter); inside, it is refused.
@pytest.mark.parametrize("value", ["%00", "a%00b", "a%09b", "a%0Ab", "%7F", "%C2%85", "%E2%80%8B"])
@pytest.mark.parametrize("parameter", ["user_id", "site_domain"])
def test_control_characters_in_a_text_filter_are_400_naming_it(
        mesh: Mesh, parameter: str, value: str) -> None:
    refused(api(mesh, f"/api/outcomes/stats?{parameter}={value}"), 400, parameter)


@pytest.mark.parametrize("value", ["%1B", "x%7F", "%C2%9F"])
def test_control_characters_in_an_outcome_id_are_400(mesh: Mesh, value: str) -> None:
    refused(api(mesh, f"/api/outcomes/{value}"), 400, "bid_request_id")


@pytest.mark.parametrize("path", ["/api/outcomes/%00", "/api/outcomes/x%00/", "/bid%00"])
def test_an_encoded_nul_in_the_path_is_400_naming_the_path(mesh: Mesh, path: str) -> None:
    refused(api(mesh, path), 400, "path")


@pytest.mark.parametrize(("parameter", "value"), [
    ("max_price", "1e308"), ("min_price", "1e-999999"), ("max_price", "100000000"),
    ("min_price", "9" * 400), ("page", "99999999999999999999"), ("page", "10001"),
    ("page_size", "9" * 30), ("from", "9999-12-31T23:00:00-02:00"),
    ("to", "0001-01-01T00:00:00+01:00"),
])
def test_numbers_and_times_out_of_range_are_400_naming_them(
        mesh: Mesh, parameter: str, value: str) -> None:
    refused(api(mesh, f"/api/outcomes?{parameter}={value}"), 400, parameter)


@pytest.mark.parametrize("timeout", ["1n", "999999H", "bogus", "0m", "-1S"])
def test_a_grpc_timeout_header_on_a_bid_is_ignored(mesh: Mesh, accepted: Accepted,
                                                   timeout: str) -> None:
    request_id = rid()
    reply = bid(mesh, {"request_id": request_id, "user_id": "user-001"},
                **{"grpc-timeout": timeout})
    check(reply, timeout)
    assert reply.status == 200, reply.body
    accepted.ids.add(request_id)


def test_a_grpc_content_type_over_http1_is_415(mesh: Mesh) -> None:
    reply = bid(mesh, b"\x00\x00\x00\x00\x05hello", **{"content-type": "application/grpc"})
    check(reply, "grpc")
    assert reply.status == 415


@pytest.mark.parametrize(("field", "value"), [
    ("user_id", "\x00"), ("user_id", "user\x00001"), ("request_id", "r\n1"),
    ("request_id", "r\x85"), ("user_id", "\u200b"), ("user_id", "\u202euser"),
    ("device_type", "\x07"), ("page_url", "https://x.example/\x00"),
])
def test_control_characters_in_a_bid_field_are_400_naming_it(
        mesh: Mesh, field: str, value: str) -> None:
    body = {"request_id": rid(), "user_id": "user-001", field: value}
    refused(bid(mesh, body), 400, field)


@pytest.mark.parametrize(("nested", "field", "value"), [
    ("site", "domain", "news\x00.example"), ("site", "domain", "x" * 254),
    ("site", "page", "\x1b[31m"), ("device", "type", "\x00"),
])
def test_bad_nested_fields_are_400_naming_them(mesh: Mesh, nested: str, field: str,
                                               value: str) -> None:
    body = {"request_id": rid(), "user_id": "user-001", nested: {field: value}}
    refused(bid(mesh, body), 400, f"{nested}.{field}")


def test_invalid_utf8_in_a_bid_body_is_400(mesh: Mesh) -> None:
    reply = bid(mesh, b'{"request_id": "\xed\xa0\x80", "user_id": "u"}')
    check(reply, "utf-8 body")
    assert reply.status == 400


@pytest.mark.parametrize("value", ["ünïcødé-✓", "名前-001", "😀", "e\u0301", "a b"])
def test_printable_unicode_ids_are_accepted_and_stored(mesh: Mesh, accepted: Accepted,
                                                       value: str) -> None:
    request_id = f"{rid()}-{value}"
    reply = bid(mesh, {"request_id": request_id, "user_id": value,
                       "site": {"domain": f"{value}.example"}})
    check(reply, value)
    assert reply.status == 200, reply.body
    accepted.ids.add(request_id)
    one = api(mesh, f"/api/outcomes/{urllib.parse.quote(request_id, safe='')}")
    check(one, value)


# ---- generated requests --------------------------------------------------------------------

def encoded(data: bytes) -> str:
    return urllib.parse.quote_from_bytes(data, safe="")


hostile_bytes = st.one_of(
    st.binary(max_size=40),
    st.text(max_size=40).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.sampled_from([b"\xed\xa0\x80", b"\x00", b"\xff", b"%", b"1e308", b"-1", b"9" * 25,
                     b"NaN", b"inf", b"9999-12-31T23:59:59-23:59", b"true", b"", b" "]),
)
text = st.one_of(st.text(max_size=60), st.sampled_from(
    ["\x00", "\u0085", "\u2028", "\ufeff", "user-001", "x" * 200, "\udcff"]))
header_values = st.sampled_from(["1n", "999999H", "bogus", "1S", "identity", "x" * 100, "\t",
                                 "application/grpc", "application/json", "text/plain", ""])
hostile_headers = st.dictionaries(
    st.sampled_from(["grpc-timeout", "grpc-encoding", "grpc-accept-encoding", "x-envoy-retry-on",
                     "x-envoy-upstream-rq-timeout-ms", "x-envoy-max-retries", "te",
                     "content-type", "x-request-id", "x-forwarded-for", "accept-encoding"]),
    header_values, max_size=4)


@st.composite
def api_requests(draw: st.DrawFn) -> tuple[str, str, dict[str, str]]:
    if draw(st.booleans()):
        path = draw(st.sampled_from(API_PATHS))
        names = st.one_of(st.sampled_from(FILTERS + PAGING), st.text(
            alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12))
        pairs = draw(st.lists(st.tuples(names, hostile_bytes), max_size=4))
        query = "&".join(f"{n}={encoded(v)}" for n, v in pairs)
        target = f"{path}?{query}" if query else path
    else:
        target = f"/api/outcomes/{encoded(draw(hostile_bytes)) or 'x'}"
        if draw(st.booleans()):
            target += "/"
    method = draw(st.sampled_from(["GET", "GET", "GET", "HEAD", "POST", "DELETE", "OPTIONS"]))
    return method, target, draw(hostile_headers)


@FUZZ
@given(api_requests())
def test_generated_api_requests_get_no_server_error(
        mesh: Mesh, accepted: Accepted, generated: tuple[str, str, dict[str, str]]) -> None:
    method, target, headers = generated
    headers = {**headers, **mesh.gateway.auth()}
    check(request(method, f"{mesh.gateway.url}{target}", headers=headers),
          f"{method} {target} {headers}")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(text, children,
                                                                       max_size=3),
    max_leaves=6)
bid_fields = st.fixed_dictionaries(
    {"request_id": text.map(lambda t: f"{rid()}{t}")},
    optional={"user_id": text | st.sampled_from(["user-001", "user-002", "nobody"]),
              "timestamp": text | st.sampled_from(["2026-01-01T00:00:00Z",
                                                   "0001-01-01T00:00:00Z",
                                                   "9999-12-31T23:59:59.999999999Z"]),
              "device_type": text, "page_url": text, "tmax": json_values,
              "site": st.fixed_dictionaries({}, optional={"domain": text, "page": text}),
              "device": st.fixed_dictionaries({}, optional={"ip": text, "type": text,
                                                            "user_agent": text}),
              "unknown": json_values})


@FUZZ
@given(body=st.one_of(bid_fields, bid_fields.map(lambda d: {**d, "user_id": "user-001"}),
                      json_values, st.binary(max_size=200)),
       headers=hostile_headers)
def test_generated_bids_get_no_server_error_and_every_accepted_one_is_stored(
        mesh: Mesh, accepted: Accepted, body: Any, headers: dict[str, str]) -> None:
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    reply = request("POST", f"{mesh.gateway.url}/bid", payload,
                    headers={"content-type": "application/json", **headers})
    check(reply, f"{payload[:200]!r} {headers}")
    if reply.status == 200:
        accepted.ids.add(reply.json()["bid_request_id"])
