"""Reading a real process's Prometheus endpoint in a test: the text format, parsed by
prometheus_client's own parser."""

from __future__ import annotations

import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def samples(url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample at ``url`` (a /metrics or /stats/prometheus URL), by name and labels."""
    with urllib.request.urlopen(url, timeout=5) as reply:
        text = reply.read().decode()
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(url: str, name: str, **labels: str) -> float | None:
    """One sample's value, or None when the endpoint has no such series."""
    return samples(url).get((name, frozenset(labels.items())))
