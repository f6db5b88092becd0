"""The cluster's certificates: each signed by its CA, with the identities the API server's
authorizers expect and the names clients dial, private keys for their owner only, kept across
runs and made again when the machine's address changes."""

from __future__ import annotations

import stat
from ipaddress import ip_address
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from helios.local.kube import pki
from helios.local.kube.cluster import API_SERVICE_IP
from tests.unit.local.kube.support import cluster_in


def load(folder: Path, name: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate((folder / f"{name}.crt").read_bytes())


def test_every_certificate_is_signed_by_its_ca_with_its_identity(tmp_path: Path) -> None:
    cluster = cluster_in(tmp_path)

    pki.ensure(cluster)

    for identity in pki.identities(cluster):
        cert = load(cluster.pki, identity.name)
        issuer = load(cluster.pki, identity.ca)
        cert.verify_directly_issued_by(issuer)
        cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
        usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        assert cn == identity.common_name
        assert (ExtendedKeyUsageOID.SERVER_AUTH if identity.server
                else ExtendedKeyUsageOID.CLIENT_AUTH) in usage
    kubelet = load(cluster.pki, "kubelet").subject
    assert kubelet.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "system:nodes"
    assert kubelet.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "system:node:node-a"


def test_the_api_servers_certificate_names_what_clients_dial(tmp_path: Path) -> None:
    cluster = cluster_in(tmp_path)
    pki.ensure(cluster)

    sans = load(cluster.pki, "apiserver").extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value

    assert {ip_address("192.0.2.2"), ip_address(API_SERVICE_IP),
            ip_address("127.0.0.1")} <= set(sans.get_values_for_type(x509.IPAddress))
    assert {"kubernetes.default.svc.cluster.local", "node-a"} <= set(
        sans.get_values_for_type(x509.DNSName))


def test_keys_are_private_and_kept_until_the_address_changes(tmp_path: Path) -> None:
    cluster = cluster_in(tmp_path)
    pki.ensure(cluster)
    first = load(cluster.pki, "ca").serial_number

    again = pki.ensure(cluster)
    kept = load(cluster.pki, "ca").serial_number
    pki.ensure(cluster_in(tmp_path, node_ip="192.0.2.3"))
    moved = load(cluster.pki, "ca").serial_number

    assert again.startswith("kept") and kept == first
    assert moved != first
    assert stat.S_IMODE((cluster.pki / "admin.key").stat().st_mode) == 0o600
    assert stat.S_IMODE(cluster.kubeconfig.stat().st_mode) == 0o600
    assert "server: https://192.0.2.3:6443" in cluster.kubeconfig.read_text()
