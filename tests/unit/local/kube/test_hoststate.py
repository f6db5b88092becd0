"""The sysctls recorded before the cluster are written back after it, and a record made once is
never overwritten by a second `up` (which would record the cluster's values)."""

from __future__ import annotations

from pathlib import Path

from helios.local.kube.hoststate import Record, read_sysctls, record, restore_sysctls


def proc(tmp_path: Path, values: dict[str, str]) -> Path:
    for name, value in values.items():
        path = tmp_path.joinpath(*name.split("."))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(value + "\n")
    return tmp_path


def test_changed_values_are_written_back_and_the_others_left(tmp_path: Path) -> None:
    root = proc(tmp_path, {"net.ipv4.ip_forward": "1", "vm.overcommit_memory": "0"})

    restored, failed = restore_sysctls({"net.ipv4.ip_forward": "0", "vm.overcommit_memory": "0",
                                        "kernel.missing": "1"}, root)

    assert (restored, failed) == (["net.ipv4.ip_forward"], ["kernel.missing"])
    assert read_sysctls(("net.ipv4.ip_forward", "vm.overcommit_memory", "kernel.missing"),
                        root) == {"net.ipv4.ip_forward": "0", "vm.overcommit_memory": "0"}


def test_a_record_is_made_once(tmp_path: Path) -> None:
    path = tmp_path / "host-before.json"
    Record({"net.ipv4.ip_forward": "0"}, ("ip filter",)).save(path)

    said = record(path)

    assert "kept" in said
    assert Record.load(path) == Record({"net.ipv4.ip_forward": "0"}, ("ip filter",))
    assert Record.load(tmp_path / "none.json") is None
