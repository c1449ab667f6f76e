"""A load-level point builder and the hand-checked sweep the capacity and p95 tests share."""

from __future__ import annotations

from qtui.evidence.levels import LevelPoint


def pt(
    level: float, rps: float, ttft: float, e2e: float, err: float = 0.0, **kw: object
) -> LevelPoint:
    """A point of 512 input and 128 output tokens per request; ITL p95 not measured."""
    return LevelPoint(level, rps, rps * 512, rps * 128, ttft, None, e2e, err, **kw)  # type: ignore[arg-type]


# SLO of the tests: TTFT p95 ≤ 500 ms
SWEEP = [
    pt(1, 0.5, 0.05, 2.0),
    pt(4, 1.9, 0.08, 2.4),
    pt(16, 6.0, 0.30, 4.0),
    pt(32, 9.0, 0.70, 7.0),  # ttft 700 ms > 500 ms: first breach
    pt(64, 9.5, 0.45, 7.9),  # passes again: noise after a breach, not capacity
]
