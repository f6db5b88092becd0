"""The cluster's facts: the versions file both the build script and the Python read, and the
node's address taken from the default route's device."""

from __future__ import annotations

from helios.local.kube.cluster import HERE, read_versions
from helios.local.network import default_device

ROUTES = """\
Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth1\t0002000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
eth0\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\t0\t0\t0
wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0
"""


def test_the_default_route_with_the_lowest_metric_names_the_device() -> None:
    assert default_device(ROUTES) == "eth0"
    assert default_device(ROUTES.splitlines()[0] + "\n") is None


def test_the_versions_file_names_every_image_and_version() -> None:
    versions = read_versions((HERE / "versions.env").read_text())

    assert versions["KUBERNETES_VERSION"] == "v1.37.2"
    assert versions["KUBE_ROUTER_VERSION"] == "v2.1.0"
    for image in ("PAUSE_IMAGE", "COREDNS_IMAGE", "TESTBOX_IMAGE"):
        # Full names: an image imported under a short one is not found by the kubelet.
        assert versions[image].startswith("localhost/"), image
