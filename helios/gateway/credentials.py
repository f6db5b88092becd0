"""The local gateway's credentials, made once and kept under the state directory:

    tls/ca.pem, tls/ca-key.pem          a local certificate authority (trust ca.pem to call
                                        https://localhost:8443 with verification on)
    tls/gateway.pem, tls/gateway-key.pem
                                        the HTTPS listener's certificate (localhost, 127.0.0.1,
                                        ::1 and the machine's name), signed by that CA
    auth/signing-key.pem                the key `helios token` signs bearer tokens with (ES256)
    auth/jwks.json                      its public half, which Envoy's jwt_authn verifies with

The paths are the gateway's settings (:class:`~helios.gateway.settings.GatewaySettings`), so a
deployment that brings its own certificate or identity provider points them elsewhere and this
module makes nothing. Private keys are written readable by their owner only.
"""

from __future__ import annotations

import datetime
import json
import os
import socket
import time
import uuid
from ipaddress import ip_address
from pathlib import Path

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from helios.gateway.settings import GatewaySettings

ALGORITHM = "ES256"
KEY_ID = "helios-local-1"
DEFAULT_TOKEN_SECONDS = 24 * 3600
_CERT_DAYS = 825  # the longest validity browsers accept for a server certificate


def ensure(settings: GatewaySettings) -> list[Path]:
    """Makes whichever of the credentials above are missing; returns the files it wrote."""
    written: list[Path] = []
    if settings.tls_port and not (settings.tls_cert.exists() and settings.tls_key.exists()):
        written += _make_tls(settings.tls_cert, settings.tls_key)
    if settings.auth and not settings.jwks.exists():
        written += _make_signing_key(settings.signing_key, settings.jwks)
    return written


def ca_path(settings: GatewaySettings) -> Path:
    """The local CA that signed the gateway's certificate."""
    return settings.tls_cert.parent / "ca.pem"


def token(settings: GatewaySettings, *, seconds: int = DEFAULT_TOKEN_SECONDS,
          subject: str = "local-user", audience: str | None = None,
          now: float | None = None) -> str:
    """A bearer token the local gateway accepts for ``seconds`` (negative: already expired)."""
    try:
        key = settings.signing_key.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(
            f"no signing key at {settings.signing_key}: run `make up` or `helios credentials` "
            "(HELIOS_GATEWAY_SIGNING_KEY moves it)") from None
    issued = int(time.time() if now is None else now)
    claims = {"iss": settings.jwt_issuer, "aud": audience or settings.jwt_audience,
              "sub": subject, "iat": issued, "nbf": issued - 5, "exp": issued + seconds,
              "jti": uuid.uuid4().hex}
    return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": KEY_ID})


def _make_tls(cert_path: Path, key_path: Path) -> list[Path]:
    ca_cert_path = cert_path.parent / "ca.pem"
    ca_key_path = cert_path.parent / "ca-key.pem"
    now = datetime.datetime.now(datetime.UTC)
    written: list[Path] = []
    if ca_cert_path.exists() and ca_key_path.exists():
        ca_key = serialization.load_pem_private_key(ca_key_path.read_bytes(), password=None)
        ca_cert = x509.load_pem_x509_certificate(ca_cert_path.read_bytes())
        assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    else:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                             f"Helios local CA ({socket.gethostname()})")])
        ca_cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(now + datetime.timedelta(days=3650))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                   .add_extension(x509.KeyUsage(
                       digital_signature=True, key_cert_sign=True, crl_sign=True,
                       content_commitment=False, key_encipherment=False,
                       data_encipherment=False, key_agreement=False, encipher_only=False,
                       decipher_only=False), critical=True)
                   .sign(ca_key, hashes.SHA256()))
        written += [_write_key(ca_key_path, ca_key), _write(ca_cert_path, _pem(ca_cert))]

    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName("localhost"),
                                     x509.DNSName(socket.gethostname()),
                                     x509.IPAddress(ip_address("127.0.0.1")),
                                     x509.IPAddress(ip_address("::1"))]
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=_CERT_DAYS))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    return [*written, _write_key(key_path, key), _write(cert_path, _pem(cert))]


def _make_signing_key(key_path: Path, jwks_path: Path) -> list[Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    public.update({"kid": KEY_ID, "alg": ALGORITHM, "use": "sig"})
    return [_write_key(key_path, key),
            _write(jwks_path, (json.dumps({"keys": [public]}, indent=2) + "\n").encode())]


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> Path:
    data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
    return _write(path, data, mode=0o600)


def _write(path: Path, data: bytes, mode: int = 0o644) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written beside and renamed, so a reader never sees half a file.
    partial = path.with_name(path.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as file:
        file.write(data)
    partial.replace(path)
    return path
