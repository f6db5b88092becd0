"""The chart's dashboard and rules as the tests read them: the very files the chart ships
(charts/helios/files/), with each panel's queries made runnable outside Grafana."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.harness import ROOT

FILES = ROOT / "charts" / "helios" / "files"
DASHBOARD = FILES / "dashboard.json"
RULES = FILES / "rules.yaml"
RULES_TEST = ROOT / "tests" / "charts" / "rules_test.yaml"


def dashboard() -> dict[str, Any]:
    loaded = json.loads(DASHBOARD.read_text())
    assert isinstance(loaded, dict)
    return loaded


def panels(board: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
    """Every panel that is not a row, rows' nested (collapsed) panels included."""
    for panel in (board or dashboard())["panels"]:
        if panel["type"] == "row":
            yield from panel.get("panels", [])
        else:
            yield panel


@dataclass(frozen=True)
class Query:
    panel: str
    ref: str
    expr: str


def queries(variables: dict[str, str], board: dict[str, Any] | None = None) -> list[Query]:
    """Each panel target's expression with Grafana's variables replaced by ``variables``
    (name -> text, e.g. ``{"__rate_interval": "2m"}``); a variable left unreplaced fails."""
    found = []
    for panel in panels(board):
        for target in panel["targets"]:
            expr = re.sub(r"\$\{?(\w+)\}?", lambda m: variables[m.group(1)], target["expr"])
            found.append(Query(panel["title"], target["refId"], expr))
    return found


def template_variables(board: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in (board or dashboard())["templating"]["list"]}


def rules() -> list[dict[str, Any]]:
    """Every rule of every group, recording and alerting."""
    loaded = yaml.safe_load(RULES.read_text())
    return [rule for group in loaded["groups"] for rule in group["rules"]]


def alerts() -> dict[str, dict[str, Any]]:
    return {rule["alert"]: rule for rule in rules() if "alert" in rule}


def records() -> dict[str, dict[str, Any]]:
    return {rule["record"]: rule for rule in rules() if "record" in rule}


def tool(name: str) -> Path:
    """A Prometheus tool from Debian's `prometheus` package (scripts/install.sh)."""
    path = Path("/usr/bin") / name
    assert path.exists(), f"{name} is missing: run scripts/install.sh (Debian's prometheus)"
    return path
