"""Prometheus text exposition → plain samples, via prometheus_client's own parser."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

from qtui.errors import QtuiError


class NotPrometheus(QtuiError):
    """The body of a /metrics response is not Prometheus text."""


@dataclass(frozen=True, slots=True)
class Sample:
    """One line of a metric family: full sample name, labels, value."""

    name: str
    labels: dict[str, str]
    value: float


Families = dict[str, list[Sample]]


def parse_prometheus(text: str, source: str = "/metrics") -> Families:
    """Parse exposition text into {family name: samples}; raise NotPrometheus on anything else."""
    head = text.lstrip()[:1]
    if head in ("<", "{", "["):
        kind = "HTML" if head == "<" else "JSON"
        raise NotPrometheus(f"{source}: got {kind}, not Prometheus text (is this a /metrics URL?)")
    families: Families = {}
    try:
        for fam in text_string_to_metric_families(text):
            families.setdefault(fam.name, []).extend(
                Sample(s.name, dict(s.labels), float(s.value)) for s in fam.samples
            )
    except (ValueError, TypeError, IndexError, KeyError) as exc:
        first = str(exc).splitlines()[0][:80] if str(exc) else type(exc).__name__
        raise NotPrometheus(f"{source}: not Prometheus text ({first})") from None
    if not families:
        raise NotPrometheus(f"{source}: empty response, no metrics exposed")
    return families
