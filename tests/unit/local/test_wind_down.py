"""`down` of a group: processes stopped and teardowns run, newest first; a failing teardown
does not stop the others, and is reported."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from helios.local.process import Spec
from helios.local.supervisor import Step, Task, Teardown, wind_down


def test_steps_are_undone_newest_first_and_failures_reported(tmp_path: Path) -> None:
    def spec(name: str) -> Spec:
        return Spec(name=name, argv=[sys.executable], log=tmp_path / f"{name}.log")

    def broken() -> str:
        raise RuntimeError("mount busy")

    done: list[str] = []
    events: list[dict[str, Any]] = []
    group: list[Step] = [Task("first", lambda: "up only"), Teardown("sweep", lambda: "swept"),
             spec("a"), Teardown("broken", broken), spec("b")]

    failed = wind_down(group, lambda s: done.append(s.name), events.append)

    assert done == ["b", "a"]
    assert [(e["name"], e["said"]) for e in events] == [("broken", "FAILED: mount busy"),
                                                        ("sweep", "swept")]
    assert failed == ["broken: mount busy"]
