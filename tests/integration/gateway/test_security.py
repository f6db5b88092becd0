"""The gateway's locks, with real Envoy in front of the recording upstream: TLS with a verified
certificate, bearer tokens on the analytics API, rate limits per client and for /bid, no
internal headers in either direction, a JSON 415 for gRPC on the public listener, and the
dashboard's security headers."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import pytest

from helios.local.mesh import Gateway, Launcher, Service, launched
from tests.http import Reply, request
from tests.integration.gateway.test_gateway import received, start_gateway, start_upstream

API_PATHS = ["/api/outcomes", "/api/outcomes/", "/api/outcomes/stats", "/api/outcomes/stats/",
             "/api/outcomes/winners/", "/api/outcomes/daily-stats", "/api/outcomes/some-id/"]
UNAUTHENTICATED = 16


@pytest.fixture(scope="module")
def launcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Launcher]:
    with launched(dict(os.environ), tmp_path_factory.mktemp("security")) as started:
        yield started


@pytest.fixture(scope="module")
def upstream(launcher: Launcher) -> Service:
    return start_upstream(launcher)


@pytest.fixture(scope="module")
def gateway(launcher: Launcher, upstream: Service) -> Gateway:
    return start_gateway(launcher, upstream)


def rid() -> str:
    return f"sec-{uuid.uuid4().hex[:12]}"


def bid(gateway: Gateway, **headers: str) -> Reply:
    return request("POST", f"{gateway.url}/bid", {"request_id": rid(), "user_id": "u"},
                   headers=headers)


# --- TLS ------------------------------------------------------------------------------------

def test_https_answers_with_a_certificate_the_local_ca_verifies(gateway: Gateway) -> None:
    reply = request("POST", f"{gateway.https_url}/bid", {"request_id": rid(), "user_id": "u"},
                    ca=str(gateway.ca))
    assert reply.status == 200, reply.body

    api = request("GET", f"{gateway.https_url}/api/outcomes/stats", ca=str(gateway.ca),
                  headers=gateway.auth())
    assert api.status == 200, api.body


def test_https_is_refused_by_a_client_that_does_not_trust_the_local_ca(
        gateway: Gateway) -> None:
    import ssl

    with pytest.raises(ssl.SSLCertVerificationError):
        request("GET", f"{gateway.https_url}/healthz")


# --- bearer tokens --------------------------------------------------------------------------

@pytest.mark.parametrize("path", API_PATHS)
def test_the_api_needs_a_token_on_every_path_form(gateway: Gateway, path: str) -> None:
    reply = request("GET", f"{gateway.url}{path}")

    assert reply.status == 401
    assert reply.json() == {"code": UNAUTHENTICATED, "message": "Jwt is missing"}
    assert reply.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("path", API_PATHS)
def test_a_valid_token_opens_every_path_form(gateway: Gateway, path: str) -> None:
    assert request("GET", f"{gateway.url}{path}", headers=gateway.auth()).status == 200


def other_key_token(gateway: Gateway, launcher: Launcher) -> str:
    """A token with the right claims, signed by a key the gateway does not know."""
    import dataclasses

    from helios.gateway import credentials

    assert gateway.settings is not None
    elsewhere = launcher.log_dir / "other-key"
    stranger = dataclasses.replace(gateway.settings, signing_key=elsewhere / "key.pem",
                                   jwks=elsewhere / "jwks.json", tls_port=0)
    credentials.ensure(stranger)
    return credentials.token(stranger)


@pytest.mark.parametrize(("kind", "message"), [
    ("expired", "Jwt is expired"),
    ("audience", "Audiences in Jwt are not allowed"),
    ("issuer", "Jwt issuer is not configured"),
    ("signature", "Jwt verification fails"),
    ("garbage", "Jwt header is an invalid JSON"),
])
def test_a_bad_token_is_401_saying_what_is_wrong(gateway: Gateway, launcher: Launcher,
                                                  kind: str, message: str) -> None:
    import dataclasses

    from helios.gateway import credentials

    settings = gateway.settings
    assert settings is not None
    makers: dict[str, Callable[[], str]] = {
        "expired": lambda: gateway.token(seconds=-120),
        "audience": lambda: gateway.token(audience="another-api"),
        "issuer": lambda: credentials.token(dataclasses.replace(settings,
                                                                jwt_issuer="someone-else")),
        "signature": lambda: other_key_token(gateway, launcher),
        "garbage": lambda: "not.a.jwt",
    }
    token = makers[kind]()

    reply = request("GET", f"{gateway.url}/api/outcomes/stats",
                    headers={"authorization": f"Bearer {token}"})

    assert reply.status == 401
    assert reply.json() == {"code": UNAUTHENTICATED, "message": message}


def test_bids_the_dashboard_and_the_openapi_document_need_no_token(gateway: Gateway) -> None:
    assert bid(gateway).status == 200
    assert request("GET", f"{gateway.url}/").status == 200
    document = request("GET", f"{gateway.url}/openapi.json")
    assert document.status == 200
    assert document.json()["info"]["title"] == "Helios"


def test_auth_off_opens_the_api(launcher: Launcher, upstream: Service) -> None:
    open_gateway = start_gateway(launcher, upstream, {"HELIOS_GATEWAY_AUTH": "off"})
    assert request("GET", f"{open_gateway.url}/api/outcomes/stats").status == 200
    open_gateway.stop()


# --- rate limits ----------------------------------------------------------------------------

def test_the_api_is_limited_per_client_address(launcher: Launcher,
                                               upstream: Service) -> None:
    limited = start_gateway(launcher, upstream, {"HELIOS_GATEWAY_API_RATE": "1",
                                                 "HELIOS_GATEWAY_API_BURST": "3"})
    auth = limited.auth()
    url = f"{limited.url}/api/outcomes/stats"
    statuses = [request("GET", url, headers=auth).status for _ in range(6)]
    # A second client (another loopback address) has a bucket of its own.
    other = request("GET", url.replace("127.0.0.1", "127.0.0.2"), headers=auth,
                    source="127.0.0.2")
    over = request("GET", url, headers=auth)
    limited.stop()

    assert statuses[:3] == [200, 200, 200]
    assert 429 in statuses[3:]
    assert other.status == 200
    assert over.status == 429
    assert over.headers["retry-after"] == "1"
    assert over.json() == {"code": 8, "message": "too many requests: retry after the number "
                                                 "of seconds in retry-after"}


def test_bids_share_one_bucket_whoever_sends_them(launcher: Launcher,
                                                  upstream: Service) -> None:
    limited = start_gateway(launcher, upstream, {"HELIOS_GATEWAY_BID_RATE": "1",
                                                 "HELIOS_GATEWAY_BID_BURST": "2"})
    first = [bid(limited).status for _ in range(4)]
    elsewhere = request("POST", f"{limited.url.replace('127.0.0.1', '127.0.0.2')}/bid",
                        {"request_id": rid(), "user_id": "u"}, source="127.0.0.2")
    limited.stop()

    assert first[:2] == [200, 200]
    assert 429 in first[2:]
    assert elsewhere.status == 429
    assert elsewhere.headers["retry-after"] == "1"


# --- headers --------------------------------------------------------------------------------

def leaked(reply: Reply) -> list[str]:
    return [name for name in reply.headers
            if name == "server" or name.startswith(("x-envoy-", "grpc-"))]


def test_no_reply_names_envoy_or_carries_grpc_or_timing_headers(gateway: Gateway) -> None:
    replies = {
        "bid": bid(gateway),
        "bad bid": request("POST", f"{gateway.url}/bid", {"user_id": "u"}),
        "api": request("GET", f"{gateway.url}/api/outcomes/stats", headers=gateway.auth()),
        "not found upstream": request("GET", f"{gateway.url}/api/outcomes/missing",
                                      headers=gateway.auth()),
        "no route": request("GET", f"{gateway.url}/nowhere"),
        "no token": request("GET", f"{gateway.url}/api/outcomes"),
        "grpc": request("POST", f"{gateway.url}/bid", b"\x00", headers={
            "content-type": "application/grpc"}),
        "dashboard": request("GET", f"{gateway.url}/"),
        "healthz": request("GET", f"{gateway.url}/healthz"),
    }

    assert {name: leaked(reply) for name, reply in replies.items() if leaked(reply)} == {}
    assert all(r.headers.get("x-content-type-options") == "nosniff" for r in replies.values()
               if r.headers.get("content-type", "").startswith(("application/json", "text/")))


@pytest.mark.parametrize("timeout", ["1n", "999999H", "bogus", "1S"])
def test_a_clients_grpc_timeout_never_reaches_the_service(
        gateway: Gateway, upstream: Service, timeout: str) -> None:
    request_id = rid()

    reply = bid(gateway, **{"grpc-timeout": timeout, "x-request-id": request_id})

    assert reply.status == 200, reply.body
    assert received(upstream, request_id)["deadline"] is None


def test_client_x_envoy_and_grpc_headers_are_removed_before_routing(
        gateway: Gateway, upstream: Service) -> None:
    request_id = rid()

    reply = bid(gateway, **{"x-request-id": request_id, "x-envoy-upstream-rq-timeout-ms": "1",
                            "x-envoy-retry-on": "5xx", "x-envoy-debug": "1",
                            "grpc-encoding": "bogus", "grpc-custom": "x"})

    assert reply.status == 200, reply.body
    names = received(upstream, request_id)["metadata"]
    assert not [n for n in names if n in {"x-envoy-retry-on", "x-envoy-debug", "grpc-custom",
                                          "x-envoy-upstream-rq-timeout-ms"}]


@pytest.mark.parametrize("content_type", ["application/grpc", "application/grpc+proto",
                                          "Application/GRPC-web"])
@pytest.mark.parametrize("path", ["/bid", "/api/outcomes"])
def test_a_grpc_content_type_is_415_json(gateway: Gateway, upstream: Service,
                                         content_type: str, path: str) -> None:
    before = upstream.log_text().count('"msg": "call"')

    reply = request("POST", f"{gateway.url}{path}", b"\x00\x00\x00\x00\x00",
                    headers={"content-type": content_type})

    assert reply.status == 415
    assert reply.headers["content-type"] == "application/json"
    assert reply.json()["code"] == 3
    assert "gRPC" in reply.json()["message"]
    assert upstream.log_text().count('"msg": "call"') == before


def test_the_dashboard_has_a_content_security_policy(gateway: Gateway) -> None:
    reply = request("GET", f"{gateway.url}/")
    policy = reply.headers["content-security-policy"]

    assert "default-src 'none'" in policy
    assert "script-src 'sha256-" in policy and "'unsafe-inline'" not in policy
    assert "frame-ancestors 'none'" in policy
    assert reply.headers["x-frame-options"] == "DENY"
    assert reply.headers["referrer-policy"] == "no-referrer"


def test_the_api_is_never_cached(gateway: Gateway) -> None:
    reply = request("GET", f"{gateway.url}/api/outcomes/stats", headers=gateway.auth())
    assert reply.headers["cache-control"] == "no-store"
