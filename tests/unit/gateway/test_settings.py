from __future__ import annotations

from pathlib import Path

import pytest

from helios.gateway.settings import REPO, GatewaySettings, split_target
from helios.platform.settings import SettingsError


def test_defaults_are_the_fixed_interface() -> None:
    settings = GatewaySettings.from_env({})

    assert settings.port == 8080
    assert settings.admin_port == 9901
    assert settings.metrics_port == 9105
    assert settings.bidder_targets == ("127.0.0.1:50052",)
    assert settings.analytics_target == "127.0.0.1:50054"
    assert settings.descriptor == REPO / "gateway" / "helios.binpb"
    assert settings.dashboard == REPO / "gateway" / "dashboard" / "index.html"
    assert settings.template_dir == REPO / "gateway"
    assert settings.openapi == REPO / "gateway" / "openapi.json"
    assert settings.tls_port == 8443
    assert settings.tls_cert == REPO / ".helios" / "tls" / "gateway.pem"
    assert (settings.auth, settings.jwt_issuer, settings.jwt_audience) == (
        True, "helios-local", "helios-api")
    assert settings.jwks == REPO / ".helios" / "auth" / "jwks.json"
    assert (settings.api_rate, settings.api_burst) == (50, 100)


def test_the_state_dir_moves_the_local_credentials(tmp_path: Path) -> None:
    settings = GatewaySettings.from_env({"HELIOS_STATE_DIR": str(tmp_path)})

    assert settings.tls_key == tmp_path / "tls" / "gateway-key.pem"
    assert settings.signing_key == tmp_path / "auth" / "signing-key.pem"


def test_auth_can_be_turned_off() -> None:
    assert GatewaySettings.from_env({"HELIOS_GATEWAY_AUTH": "off"}).auth is False


def test_every_bidder_target_is_kept_in_order() -> None:
    settings = GatewaySettings.from_env(
        {"HELIOS_GATEWAY_BIDDER_TARGETS": " 127.0.0.1:6001, bidder-1.svc:6002 ,,"})

    assert settings.bidder_targets == ("127.0.0.1:6001", "bidder-1.svc:6002")


def test_the_gateway_dir_moves_every_file_and_each_can_be_moved_alone(tmp_path: Path) -> None:
    settings = GatewaySettings.from_env({"HELIOS_GATEWAY_DIR": str(tmp_path),
                                         "HELIOS_GATEWAY_DASHBOARD": str(tmp_path / "d.html")})

    assert settings.descriptor == tmp_path / "helios.binpb"
    assert settings.template_dir == tmp_path
    assert settings.dashboard == tmp_path / "d.html"


def test_relative_paths_become_absolute_because_envoy_reads_them() -> None:
    settings = GatewaySettings.from_env({"HELIOS_GATEWAY_DESCRIPTOR": "x/helios.binpb"})

    assert settings.descriptor.is_absolute()


@pytest.mark.parametrize(("name", "value"), [
    ("HELIOS_GATEWAY_BIDDER_TARGETS", "127.0.0.1"),
    ("HELIOS_GATEWAY_BIDDER_TARGETS", "127.0.0.1:50052,:80"),
    ("HELIOS_GATEWAY_BIDDER_TARGETS", " , "),
    ("HELIOS_GATEWAY_ANALYTICS_TARGET", "analytics:http"),
    ("HELIOS_GATEWAY_ANALYTICS_TARGET", "analytics:70000"),
    ("HELIOS_GATEWAY_PORT", "eighty"),
    ("HELIOS_GATEWAY_ADMIN_PORT", "0"),
    ("HELIOS_GATEWAY_AUTH", "maybe"),
    ("HELIOS_GATEWAY_API_RATE", "0"),
    ("HELIOS_GATEWAY_TLS_PORT", "-1"),
    ("HELIOS_GATEWAY_METRICS_PORT", "65536"),
])
def test_a_malformed_variable_is_named(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        GatewaySettings.from_env({name: value})


def test_split_target_handles_names_and_ipv6() -> None:
    assert split_target("bidder.helios.svc:50052") == ("bidder.helios.svc", 50052)
    assert split_target("[::1]:50052") == ("::1", 50052)
