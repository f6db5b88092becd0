"""Fixtures of the local Kubernetes' tests (`make kube-test` runs them; they are outside `make
test`'s testpaths).

- ``kube``: the cluster, started by the supervisor (`helios local up kube`, which returns at
  once when it already runs), as a :class:`Kube` with kubectl and exec helpers.
- ``namespace``: a namespace of the module's own, deleted after it.

Test pods run ``localhost/testbox:1`` (Debian's busybox-static): sh, wget, nslookup, httpd.
Traffic goes only to this machine's addresses and the cluster's own ranges.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from helios.local.kube.cluster import Cluster
from helios.local.layout import Layout
from helios.local.mesh import HELIOS

TESTBOX = "localhost/testbox:1"


@dataclass(frozen=True)
class Kube:
    cluster: Cluster

    def kubectl(self, *args: str, stdin: str | None = None, timeout: float = 90) -> str:
        return self.cluster.kubectl(*args, stdin=stdin, timeout=timeout)

    def apply(self, *objects: dict[str, Any]) -> None:
        self.kubectl("apply", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List",
                                                           "items": list(objects)}))

    def get(self, *args: str) -> Any:
        return json.loads(self.kubectl("get", *args, "-o", "json"))

    def exec(self, namespace: str, pod: str, script: str,
             timeout: float = 30) -> subprocess.CompletedProcess[str]:
        """``sh -c script`` in the pod; the result whatever its status."""
        return subprocess.run(
            [self.cluster.bin("kubectl"), "--kubeconfig", str(self.cluster.kubeconfig), "-n",
             namespace, "exec", pod, "--", "sh", "-c", script],
            capture_output=True, text=True, timeout=timeout, check=False)


def local(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """`helios local ...` as an operator types it."""
    return subprocess.run([str(HELIOS), "local", *args], capture_output=True, text=True,
                          timeout=timeout, check=False)


def cluster() -> Cluster:
    return Cluster.from_env(Layout.from_env(os.environ), os.environ)


@pytest.fixture(scope="session")
def kube() -> Kube:
    up = local("up", "kube")
    assert up.returncode == 0, up.stdout + up.stderr
    return Kube(cluster())


@pytest.fixture(scope="module")
def namespace(kube: Kube) -> Iterator[str]:
    name = f"helios-test-{uuid.uuid4().hex[:6]}"
    kube.kubectl("create", "namespace", name)
    yield name
    kube.kubectl("delete", "namespace", name, "--wait=false")


def pod(name: str, namespace: str, script: str, *, labels: dict[str, str] | None = None,
        port: int | None = None) -> dict[str, Any]:
    """A testbox pod running ``script`` as nobody, with a read-only root and an emptyDir at
    /www (a mount the teardown has to remove, besides the token's projected volume)."""
    container: dict[str, Any] = {
        "name": "main", "image": TESTBOX, "imagePullPolicy": "Never",
        "command": ["sh", "-c", script],
        "securityContext": {"runAsUser": 65534, "runAsNonRoot": True,
                            "readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False,
                            "capabilities": {"drop": ["ALL"]},
                            "seccompProfile": {"type": "RuntimeDefault"}},
        "volumeMounts": [{"name": "www", "mountPath": "/www"}],
    }
    if port is not None:
        container["ports"] = [{"containerPort": port}]
        container["readinessProbe"] = {"tcpSocket": {"port": port}, "periodSeconds": 1}
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
            "spec": {"terminationGracePeriodSeconds": 1, "containers": [container],
                     "volumes": [{"name": "www", "emptyDir": {}}]}}


# httpd answering "web <pod name>" on 8080.
WEB = 'echo "web $(hostname)" > /www/index.html && exec httpd -f -p 8080 -h /www'
SLEEP = "exec sleep 3600"
