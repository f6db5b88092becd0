"""The local credentials: made once, private keys private, a certificate the CA verifies for
localhost, and tokens the JWKS verifies with the gateway's issuer and audience."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from helios.gateway import credentials
from helios.gateway.settings import GatewaySettings


@pytest.fixture
def settings(tmp_path: Path) -> GatewaySettings:
    return GatewaySettings.from_env({"HELIOS_STATE_DIR": str(tmp_path)})


def test_everything_is_made_once(settings: GatewaySettings) -> None:
    made = credentials.ensure(settings)

    assert {p.name for p in made} == {"ca.pem", "ca-key.pem", "gateway.pem", "gateway-key.pem",
                                      "signing-key.pem", "jwks.json"}
    assert credentials.ensure(settings) == []
    for key in (p for p in made if p.name.endswith("key.pem")):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_the_certificate_is_for_localhost_and_signed_by_the_ca(
        settings: GatewaySettings) -> None:
    credentials.ensure(settings)
    cert = x509.load_pem_x509_certificate(settings.tls_cert.read_bytes())
    ca = x509.load_pem_x509_certificate(credentials.ca_path(settings).read_bytes())

    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in names.get_values_for_type(x509.DNSName)
    assert cert.issuer == ca.subject
    public = ca.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    cert.verify_directly_issued_by(ca)


def test_a_token_verifies_against_the_jwks_with_the_gateways_claims(
        settings: GatewaySettings) -> None:
    credentials.ensure(settings)
    (key,) = json.loads(settings.jwks.read_text())["keys"]
    public = jwt.algorithms.ECAlgorithm.from_jwk(json.dumps(key))
    assert isinstance(public, ec.EllipticCurvePublicKey)

    token = credentials.token(settings, seconds=60, subject="alice", now=1_000_000)
    claims = jwt.decode(token, public, algorithms=["ES256"], audience="helios-api",
                        issuer="helios-local", options={"verify_exp": False})

    assert claims["sub"] == "alice"
    assert claims["exp"] - claims["iat"] == 60
    assert jwt.get_unverified_header(token)["kid"] == key["kid"]


def test_a_token_without_a_signing_key_says_how_to_make_one(settings: GatewaySettings) -> None:
    with pytest.raises(FileNotFoundError, match="helios credentials"):
        credentials.token(settings)
