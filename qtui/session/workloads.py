"""Which workload ran when: the spans of a session between the app's `w` switches (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Span:
    """One workload kind from ``start`` to ``end`` (s since the session's first record)."""

    kind: str
    start: float
    end: float


def workload_spans(
    events: Iterable[Mapping[str, Any]], default: str, t0: float, t1: float
) -> list[Span]:
    """The workload kinds in order, from the ``load/workload`` events (a switch with `w`) and
    the workload each ``load/start`` names; ``default`` (the profile's) until the first. Times
    are offsets from ``t0``; the last span ends at ``t1``. Consecutive equal kinds merge."""
    changes: list[tuple[float, str]] = [(t0, default)]
    for e in sorted(events, key=lambda e: float(e.get("t") or 0.0)):
        if e.get("kind") != "load":
            continue
        v = e.get("value")
        kind = v if e.get("key") == "workload" else None
        if e.get("key") == "start" and isinstance(v, Mapping):
            kind = v.get("workload")
        if isinstance(kind, str) and kind:
            changes.append((max(t0, float(e.get("t") or t0)), kind))
    spans: list[Span] = []
    for i, (t, kind) in enumerate(changes):
        end = changes[i + 1][0] if i + 1 < len(changes) else max(t, t1)
        if spans and spans[-1].kind == kind:
            spans[-1] = Span(kind, spans[-1].start, end - t0)
        elif end > t or i + 1 == len(changes):
            spans.append(Span(kind, t - t0, end - t0))
    return spans


def clock(s: float) -> str:
    """Seconds as m:ss (h:mm:ss past an hour)."""
    m, sec = divmod(round(s), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"
