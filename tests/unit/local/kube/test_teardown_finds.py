"""What the teardown looks for: the mounts under the state directory (deepest first, escapes
undone, a neighbouring folder left alone), and processes in a pod's cgroup."""

from __future__ import annotations

from pathlib import Path

from helios.local.kube.teardown import mounts_under, pod_processes

STATE = Path("/s/kube")
MOUNTINFO = """\
22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
95 22 0:50 / /s/kube/kubelet/pods/ab/volumes/projected/api rw shared:40 - tmpfs tmpfs rw
96 22 0:51 / /s/kube/containerd/state/sandboxes/1/shm rw shared:41 - tmpfs shm rw
97 22 0:52 / /s/kube/my\\040dir rw shared:42 - tmpfs tmpfs rw
98 22 0:53 / /s/kube-other/mnt rw shared:43 - tmpfs tmpfs rw
99 95 0:54 / /s/kube/kubelet/pods/ab/volumes/projected/api/deeper rw shared:44 - tmpfs tmpfs rw
"""


def test_mounts_under_the_state_directory_deepest_first() -> None:
    found = mounts_under(MOUNTINFO, STATE)

    assert found[0].endswith("api/deeper")
    assert found[1].endswith("projected/api")
    assert set(found[2:]) == {
        "/s/kube/containerd/state/sandboxes/1/shm",
        "/s/kube/my dir"}
    assert not [m for m in found if "kube-other" in m]


def test_processes_in_a_pod_cgroup_are_found(tmp_path: Path) -> None:
    for pid, cgroup in {"10": "5:memory:/kubepods/besteffort/pod1/abc\n",
                        "11": "5:memory:/user.slice\n", "12": "0::/kubepods/burstable\n"}.items():
        (tmp_path / pid).mkdir()
        (tmp_path / pid / "cgroup").write_text(cgroup)
    (tmp_path / "self").mkdir()

    assert sorted(pod_processes(tmp_path)) == [10, 12]
