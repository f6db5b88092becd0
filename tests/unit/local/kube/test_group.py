"""The kube group's order, up and down: the kubelet stops before the pods are removed through
the CRI, which happens while containerd still runs; the host is swept after every daemon."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from helios.local.kube.group import steps
from helios.local.layout import Layout
from helios.local.process import Spec
from helios.local.supervisor import Task, Teardown, wind_down


def test_down_removes_pods_between_the_kubelet_and_containerd(tmp_path: Path) -> None:
    group = steps(Layout(tmp_path / "state", tmp_path / "cache"),
                  {"HELIOS_LOCAL_NODE_IP": "192.0.2.2"})
    done: list[str] = []

    def recorder(name: str) -> Callable[[], str]:
        def run() -> str:
            done.append(name)
            return "ok"
        return run

    for step in group:
        if isinstance(step, Teardown):
            # Only the order is under test: the real teardowns would sweep this machine.
            object.__setattr__(step, "run", recorder(step.name))

    wind_down(group, lambda spec: done.append(spec.name), lambda event: None)

    assert done.index("kubelet") < done.index("kube-pods") < done.index("containerd")
    assert done[-2:] == ["etcd", "kube-host"]
    # Up: the host is checked and recorded before the first daemon, CoreDNS waited for last.
    names = [s.name for s in group if isinstance(s, Task | Spec)]
    assert names[0] == "kube-host" and names[-1] == "kube-ready"
