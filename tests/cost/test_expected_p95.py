"""The p95 expected at a given per-replica load, read off the measured levels."""

from __future__ import annotations

import pytest

from qtui.cost.capacity import expected_p95
from qtui.evidence.levels import LevelPoint


def pt(level: float, rps: float, ttft: float, e2e: float, err: float = 0.0) -> LevelPoint:
    # 128 output and 512 input tokens per request
    return LevelPoint(level, rps, rps * 512, rps * 128, ttft, None, e2e, err)


SWEEP = [
    pt(1, 0.5, 0.05, 2.0),
    pt(4, 1.9, 0.08, 2.4),
    pt(16, 6.0, 0.30, 4.0),
    pt(32, 9.0, 0.70, 7.0),  # ttft 700 ms > 500 ms: first breach
    pt(64, 9.5, 0.45, 7.9),  # passes again: noise after a breach, not capacity
]


def test_expected_p95_interpolates_the_load_curve() -> None:
    # between (6.0 req/s, 4.0 s) and (9.0 req/s, 7.0 s): at 7.5 req/s, 4.0 + (1.5 ÷ 3) × 3.0 = 5.5 s
    est = expected_p95(SWEEP, 7.5)
    assert est is not None and est.p95_s == pytest.approx(5.5) and not est.lower_bound
    # ttft at 7.5 req/s: 0.30 + 0.5 × (0.70 − 0.30) = 0.50 s
    ttft = expected_p95(SWEEP, 7.5, "ttft")
    assert ttft is not None and ttft.p95_s == pytest.approx(0.50)


def test_expected_p95_at_the_edges() -> None:
    low = expected_p95(SWEEP, 0.1)
    assert low is not None and low.p95_s == 2.0 and not low.lower_bound
    high = expected_p95(SWEEP, 20)  # beyond 9.5 req/s measured: at least 7.9 s
    assert high is not None and high.p95_s == 7.9 and high.lower_bound
    assert expected_p95(SWEEP, 5, "itl") is None  # never measured
