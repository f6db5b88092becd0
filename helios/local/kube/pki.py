"""The cluster's certificates and kubeconfigs, made once under ``.helios/kube/pki`` and kept
across `down` (so a restart does not invalidate a kubeconfig someone copied).

Two CAs: ``ca`` signs every serving and client certificate, ``front-proxy-ca`` the aggregation
layer's client (what an aggregated API such as metrics-server checks). The identities are what
the API server's Node and RBAC authorizers expect of each component (``system:node:<name>`` in
``system:nodes``, ``system:kube-proxy``, ...). Keys are ECDSA P-256, quick to make and taken by
every component, and readable by their owner only.

The certificates name this machine (its name and address): when either changes, the whole
directory is made again.
"""

from __future__ import annotations

import base64
import datetime
import os
from dataclasses import dataclass
from ipaddress import ip_address
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from helios.local.kube.cluster import API_SERVICE_IP, DOMAIN, Cluster

VALID = datetime.timedelta(days=3650)


@dataclass(frozen=True)
class Identity:
    """One leaf certificate: its file name, subject, SANs and whether it serves."""

    name: str
    common_name: str
    organisation: str | None = None
    sans: tuple[str, ...] = ()
    server: bool = False
    ca: str = "ca"


# Each component that talks to the API server has a kubeconfig of its own, with its identity.
CLIENTS = ("admin", "kubelet", "controller-manager", "scheduler", "kube-proxy", "kube-router",
           "metrics-server")


def identities(cluster: Cluster) -> list[Identity]:
    node = cluster.node_name
    return [
        Identity("apiserver", "kube-apiserver", server=True, sans=(
            "kubernetes", "kubernetes.default", "kubernetes.default.svc",
            f"kubernetes.default.svc.{DOMAIN}", "localhost", node, "127.0.0.1", cluster.node_ip,
            API_SERVICE_IP)),
        # The API server's client towards the kubelet (logs, exec, port-forward): the kubelet's
        # webhook authorizer allows system:masters.
        Identity("apiserver-kubelet-client", "kube-apiserver-kubelet-client", "system:masters"),
        Identity("admin", "helios-admin", "system:masters"),
        Identity("kubelet", f"system:node:{node}", "system:nodes"),
        Identity("kubelet-serving", f"system:node:{node}", "system:nodes", server=True,
                 sans=(node, "localhost", "127.0.0.1", cluster.node_ip)),
        Identity("controller-manager", "system:kube-controller-manager"),
        Identity("scheduler", "system:kube-scheduler"),
        Identity("kube-proxy", "system:kube-proxy"),
        # Bound to its ClusterRole by templates/rbac.yaml.
        Identity("kube-router", "system:kube-router"),
        # Its client (bound by templates/metrics-server.yaml) and its serving certificate, for
        # the name the API server checks when it proxies the aggregated metrics API.
        Identity("metrics-server", "system:metrics-server"),
        Identity("metrics-server-serving", "metrics-server", server=True,
                 sans=("metrics-server.kube-system.svc", cluster.node_ip)),
        Identity("front-proxy-client", "front-proxy-client", ca="front-proxy-ca"),
    ]


def ensure(cluster: Cluster) -> str:
    """Makes whatever is missing, and every kubeconfig; returns what it did."""
    pki = cluster.pki
    marker = pki / "node"
    node = f"{cluster.node_name} {cluster.node_ip}\n"
    if marker.exists() and marker.read_text() != node:
        for path in pki.iterdir():
            path.unlink()
    pki.mkdir(parents=True, exist_ok=True)
    marker.write_text(node)
    made: list[str] = []
    for ca in ("ca", "front-proxy-ca"):
        if not (pki / f"{ca}.crt").exists():
            _write_ca(pki, ca)
            made.append(ca)
    for identity in identities(cluster):
        if not (pki / f"{identity.name}.crt").exists():
            _write_leaf(pki, identity)
            made.append(identity.name)
    if not (pki / "sa.key").exists():
        key = ec.generate_private_key(ec.SECP256R1())
        _write_key(pki / "sa.key", key)
        (pki / "sa.pub").write_bytes(key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
        made.append("sa")
    for client in CLIENTS:
        target = cluster.kubeconfig if client == "admin" else pki / f"{client}.kubeconfig"
        write_kubeconfig(cluster, client, target)
    return (f"made {', '.join(made)}" if made else "kept") + f"; kubeconfig {cluster.kubeconfig}"


def write_kubeconfig(cluster: Cluster, client: str, target: Path) -> None:
    """A kubeconfig with the certificates in it, so a copy works anywhere on this machine."""
    pki = cluster.pki

    def data(name: str) -> str:
        return base64.b64encode((pki / name).read_bytes()).decode()

    target.parent.mkdir(parents=True, exist_ok=True)
    text = f"""apiVersion: v1
kind: Config
clusters:
- name: helios-local
  cluster:
    server: {cluster.api_url}
    certificate-authority-data: {data("ca.crt")}
users:
- name: {client}
  user:
    client-certificate-data: {data(f"{client}.crt")}
    client-key-data: {data(f"{client}.key")}
contexts:
- name: helios-local
  context: {{cluster: helios-local, user: {client}}}
current-context: helios-local
"""
    _write_private(target, text.encode())


def _name(common_name: str, organisation: str | None = None) -> x509.Name:
    parts = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation)] if organisation else []
    return x509.Name([*parts, x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_ca(pki: Path, name: str) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = _name(f"helios-local-{name}")
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + VALID)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True,
                                         crl_sign=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA256()))
    _write_key(pki / f"{name}.key", key)
    (pki / f"{name}.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _write_leaf(pki: Path, identity: Identity) -> None:
    ca_key = serialization.load_pem_private_key((pki / f"{identity.ca}.key").read_bytes(), None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    ca_cert = x509.load_pem_x509_certificate((pki / f"{identity.ca}.crt").read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    usage = ExtendedKeyUsageOID.SERVER_AUTH if identity.server else ExtendedKeyUsageOID.CLIENT_AUTH
    builder = (x509.CertificateBuilder()
               .subject_name(_name(identity.common_name, identity.organisation))
               .issuer_name(ca_cert.subject).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + VALID)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=True,
                                            content_commitment=False, data_encipherment=False,
                                            key_agreement=False, key_cert_sign=False,
                                            crl_sign=False, encipher_only=False,
                                            decipher_only=False), critical=True)
               .add_extension(x509.ExtendedKeyUsage([usage]), critical=False))
    if identity.sans:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([_san(value) for value in identity.sans if value]),
            critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    _write_key(pki / f"{identity.name}.key", key)
    (pki / f"{identity.name}.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _san(value: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ip_address(value))
    except ValueError:
        return x509.DNSName(value)


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    _write_private(path, key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(data)
