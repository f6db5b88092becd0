"""The template renders to a config Envoy accepts, with the routes and policies it promises."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jinja2
import pytest
import yaml

from helios.gateway import credentials, render
from helios.gateway.settings import GatewaySettings


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> GatewaySettings:
    made = GatewaySettings.from_env({
        "HELIOS_GATEWAY_PORT": "18080", "HELIOS_GATEWAY_ADMIN_PORT": "19901",
        "HELIOS_GATEWAY_TLS_PORT": "18443", "HELIOS_GATEWAY_METRICS_PORT": "19105",
        "HELIOS_GATEWAY_BIDDER_TARGETS": "127.0.0.1:6001,127.0.0.1:6002",
        "HELIOS_GATEWAY_ANALYTICS_TARGET": "analytics.svc:6003",
        "HELIOS_STATE_DIR": str(tmp_path_factory.mktemp("state")),
    })
    credentials.ensure(made)
    return made


def config(settings: GatewaySettings) -> dict[str, Any]:
    loaded = yaml.safe_load(render.render(settings))
    assert isinstance(loaded, dict)
    return loaded


def listener(cfg: dict[str, Any], name: str = "public_http") -> dict[str, Any]:
    (found,) = [x for x in cfg["static_resources"]["listeners"] if x["name"] == name]
    return dict(found)


def manager(cfg: dict[str, Any], name: str = "public_http") -> dict[str, Any]:
    typed: dict[str, Any] = listener(cfg, name)["filter_chains"][0]["filters"][0]["typed_config"]
    return typed


def http_filter(cfg: dict[str, Any], name: str) -> dict[str, Any]:
    found = [f["typed_config"] for f in manager(cfg)["http_filters"] if f["name"] == name]
    assert len(found) == 1, name
    return dict(found[0])


def walk(node: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def test_a_variable_missing_from_the_context_fails_the_render(
        settings: GatewaySettings, tmp_path: Path) -> None:
    (tmp_path / render.TEMPLATE).write_text("port: {{ admin_port }}\nother: {{ not_a_setting }}\n")

    with pytest.raises(jinja2.UndefinedError, match="not_a_setting"):
        render.render(dataclasses.replace(settings, template_dir=tmp_path))


def test_listens_on_the_port_with_admin_on_localhost(settings: GatewaySettings) -> None:
    cfg = config(settings)

    assert cfg["admin"]["address"]["socket_address"] == {"address": "127.0.0.1",
                                                         "port_value": 19901}
    assert listener(cfg)["address"]["socket_address"] == {"address": "0.0.0.0",
                                                          "port_value": 18080}
    https = listener(cfg, "public_https")
    assert https["address"]["socket_address"] == {"address": "0.0.0.0", "port_value": 18443}
    tls = https["filter_chains"][0]["transport_socket"]["typed_config"]["common_tls_context"]
    assert tls["tls_certificates"] == [{"certificate_chain": {"filename": str(settings.tls_cert)},
                                        "private_key": {"filename": str(settings.tls_key)}}]


def test_both_listeners_handle_http_alike(settings: GatewaySettings) -> None:
    cfg = config(settings)
    plain, secure = manager(cfg), manager(cfg, "public_https")

    for hcm in (plain, secure):
        del hcm["stat_prefix"], hcm["access_log"]
    assert plain == secure


def test_tls_port_0_leaves_out_the_https_listener(settings: GatewaySettings) -> None:
    cfg = config(dataclasses.replace(settings, tls_port=0))

    assert [x["name"] for x in cfg["static_resources"]["listeners"]] == [
        "refusals", "public_http", "metrics"]


def test_the_metrics_listener_forwards_only_the_prometheus_stats_to_the_admin(
        settings: GatewaySettings) -> None:
    cfg = config(settings)
    metrics = listener(cfg, "metrics")
    hcm = metrics["filter_chains"][0]["filters"][0]["typed_config"]
    routes = hcm["route_config"]["virtual_hosts"][0]["routes"]
    admin = {c["name"]: c for c in cfg["static_resources"]["clusters"]}["admin"]

    assert metrics["address"]["socket_address"] == {"address": "0.0.0.0", "port_value": 19105}
    assert hcm["normalize_path"] is True
    assert [r["match"] for r in routes] == [
        {"path": "/stats/prometheus",
         "headers": [{"name": ":method", "string_match": {"exact": "GET"}}]},
        {"prefix": "/"}]
    assert routes[0]["route"]["cluster"] == "admin"
    assert routes[1]["direct_response"]["status"] == 404
    assert admin["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"][
        "address"]["socket_address"] == {"address": "127.0.0.1", "port_value": 19901}
    # The admin itself is still on localhost only.
    assert cfg["admin"]["address"]["socket_address"]["address"] == "127.0.0.1"


def test_metrics_port_0_leaves_out_the_listener_and_the_admin_cluster(
        settings: GatewaySettings) -> None:
    cfg = config(dataclasses.replace(settings, metrics_port=0))

    assert "metrics" not in [x["name"] for x in cfg["static_resources"]["listeners"]]
    assert "admin" not in [c["name"] for c in cfg["static_resources"]["clusters"]]


def test_every_typed_config_names_its_type(settings: GatewaySettings) -> None:
    typed = [value for key, value in walk(config(settings)) if key == "typed_config"]

    assert len(typed) >= 6
    assert all(value["@type"].startswith("type.googleapis.com/envoy.") for value in typed)


def test_each_bidder_target_is_its_own_http2_endpoint(settings: GatewaySettings) -> None:
    clusters = {c["name"]: c for c in config(settings)["static_resources"]["clusters"]}

    bidder = clusters["bidder"]
    addresses = [e["endpoint"]["address"]["socket_address"]
                 for e in bidder["load_assignment"]["endpoints"][0]["lb_endpoints"]]
    assert addresses == [{"address": "127.0.0.1", "port_value": 6001},
                         {"address": "127.0.0.1", "port_value": 6002}]
    assert bidder["lb_policy"] == "ROUND_ROBIN"
    protocol = bidder["typed_extension_protocol_options"][
        "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]
    assert "http2_protocol_options" in protocol["explicit_http_config"]
    check = bidder["health_checks"][0]
    assert check["grpc_health_check"]["service_name"] == "helios.bidder.v1.BidService"
    assert check["no_traffic_interval"] == check["interval"] == "1s"
    analytics = clusters["analytics"]["load_assignment"]["endpoints"][0]["lb_endpoints"]
    assert analytics[0]["endpoint"]["address"]["socket_address"] == {
        "address": "analytics.svc", "port_value": 6003}


def test_healthz_depends_on_the_bidder_cluster(settings: GatewaySettings) -> None:
    health = http_filter(config(settings), "envoy.filters.http.health_check")

    assert health["pass_through_mode"] is False
    assert health["headers"][0]["string_match"] == {"exact": "/healthz"}
    # Envoy truncates to a whole percent; below 1 it would never report unhealthy.
    assert health["cluster_min_healthy_percentages"]["bidder"]["value"] >= 1


def test_transcoder_policy(settings: GatewaySettings) -> None:
    transcoder = http_filter(config(settings), "envoy.filters.http.grpc_json_transcoder")

    assert transcoder["proto_descriptor"] == str(settings.descriptor)
    assert transcoder["services"] == ["helios.bidder.v1.BidService",
                                      "helios.analytics.v1.AnalyticsService"]
    assert transcoder["print_options"]["preserve_proto_field_names"] is True
    assert transcoder["print_options"]["always_print_primitive_fields"] is True
    assert transcoder["convert_grpc_status"] is True
    assert transcoder["max_request_body_size"] == 64 * 1024
    assert transcoder["request_validation_options"] == {
        "reject_unknown_method": True, "reject_unknown_query_parameters": True}


def test_filters_run_normalise_then_health_then_transcode_then_route(
        settings: GatewaySettings) -> None:
    names = [f["name"] for f in manager(config(settings))["http_filters"]]

    assert names == ["envoy.filters.http.header_mutation", "envoy.filters.http.lua",
                     "envoy.filters.http.health_check", "envoy.filters.http.local_ratelimit",
                     "envoy.filters.http.jwt_authn", "envoy.filters.http.grpc_json_transcoder",
                     "envoy.filters.http.router"]


def test_auth_off_leaves_out_the_token_check(settings: GatewaySettings) -> None:
    cfg = config(dataclasses.replace(settings, auth=False))

    names = [f["name"] for f in manager(cfg)["http_filters"]]
    assert "envoy.filters.http.jwt_authn" not in names
    assert "requirement_name" not in render.render(dataclasses.replace(settings, auth=False))


def test_tokens_are_checked_against_the_jwks_issuer_and_audience(
        settings: GatewaySettings) -> None:
    jwt = http_filter(config(settings), "envoy.filters.http.jwt_authn")

    provider = jwt["providers"]["helios"]
    assert provider["issuer"] == "helios-local"
    assert provider["audiences"] == ["helios-api"]
    assert provider["local_jwks"] == {"filename": str(settings.jwks)}
    routes = {r["name"]: r for r in manager(config(settings))["route_config"][
        "virtual_hosts"][0]["routes"]}
    assert routes["api"]["typed_per_filter_config"]["envoy.filters.http.jwt_authn"][
        "requirement_name"] in jwt["requirement_map"]
    assert "envoy.filters.http.jwt_authn" not in routes["bid"]["typed_per_filter_config"]


def test_routes_and_timeouts(settings: GatewaySettings) -> None:
    route_config = manager(config(settings))["route_config"]
    routes = {r["name"]: r for r in route_config["virtual_hosts"][0]["routes"]}

    assert routes["bid"]["match"] == {"path": "/bid"}
    assert routes["bid"]["route"]["cluster"] == "bidder"
    assert routes["bid"]["route"]["timeout"] == "2s"
    assert routes["api"]["match"] == {"path_separated_prefix": "/api/outcomes"}
    assert routes["api"]["route"]["timeout"] == "10s"
    dashboard = routes["dashboard"]
    assert dashboard["direct_response"]["body"] == {"filename": str(settings.dashboard)}
    assert routes["openapi"]["direct_response"]["body"] == {"filename": str(settings.openapi)}
    assert route_config["max_direct_response_body_size_bytes"] == 1024 * 1024
    assert next(iter(routes)) == "grpc_refused"


def test_the_dashboards_policy_allows_exactly_its_inline_blocks() -> None:
    page = "<style>a{}</style><script>1</script><script>2</script>"

    policy = dict(render.dashboard_headers(page))["content-security-policy"]

    # sha256 of "1", "2" and "a{}", base64.
    assert "script-src 'sha256-a4ayc/80/OGda4BO/1o/V0etpOqiLx1JwB5S3beHW0s=' " \
           "'sha256-1HNeOiZeFu7gP1lxi5tdAwGcB9i2xR+Q2jpmbuwTqzU='" in policy
    assert "style-src 'sha256-" in policy


def test_request_ids_are_kept_and_generated(settings: GatewaySettings) -> None:
    hcm = manager(config(settings))

    assert hcm["generate_request_id"] is True
    assert hcm["preserve_external_request_id"] is True


def test_write_names_the_variable_of_a_missing_file(
        settings: GatewaySettings, tmp_path: Path) -> None:
    missing = dataclasses.replace(settings, dashboard=tmp_path / "nope.html")

    with pytest.raises(render.GatewayConfigError, match="HELIOS_GATEWAY_DASHBOARD"):
        render.write(missing, tmp_path / "envoy.yaml")


def test_envoy_accepts_the_rendered_config(settings: GatewaySettings, tmp_path: Path) -> None:
    path = render.write(settings, tmp_path / "out" / "envoy.yaml")

    render.validate(path)


def test_validate_reports_envoys_reason(settings: GatewaySettings, tmp_path: Path) -> None:
    broken = tmp_path / "envoy.yaml"
    broken.write_text(render.render(settings).replace("lb_policy: ROUND_ROBIN",
                                                      "lb_policy: NO_SUCH_POLICY", 1))

    with pytest.raises(render.GatewayConfigError, match="NO_SUCH_POLICY"):
        render.validate(broken)
