"""The golden items judged by today's rule (``qtui.quality.summary``), as of one moment (pure).

``Evidence`` judges here when asked; the app instead takes a ``JudgeJob`` (the items so far) to
a thread and hands the ``Judged`` back, so the same function gives the same figures either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from qtui.config.profile import QualityFloor
from qtui.evidence.records import QualityRecord
from qtui.quality.agreement import PairCache
from qtui.quality.summary import summarize


@dataclass(frozen=True)
class Judged:
    """The judgement of the first ``items`` golden items: rows by endpoint and the whole doc."""

    items: int = 0
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    doc: dict[str, Any] = field(default_factory=dict)


def judge(
    items: Sequence[QualityRecord],
    endpoints: Sequence[str],
    baseline: str,
    floor: QualityFloor,
    cache: PairCache | None = None,
) -> Judged:
    """Verdicts, noise floor and per-tag verdicts of ``items`` (``summarize``'s document)."""
    doc = summarize(items, endpoints, baseline, floor, cache).to_dict()
    rows = {r["endpoint"]: r for r in doc["endpoints"] if r["items"]}
    return Judged(len(items), rows, doc)


@dataclass(frozen=True)
class JudgeJob:
    """The items to judge, copied at one moment; ``run`` may go to a thread (one at a time per
    ``cache``). ``owner``: the evidence the result belongs to (a replay's seek replaces it)."""

    owner: object
    items: tuple[QualityRecord, ...]
    endpoints: tuple[str, ...]
    baseline: str
    floor: QualityFloor
    cache: PairCache = field(repr=False, compare=False)

    def run(self) -> Judged:
        return judge(self.items, self.endpoints, self.baseline, self.floor, self.cache)
