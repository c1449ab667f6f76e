"""The p95 expected at a given per-replica load, read off the measured levels."""

from __future__ import annotations

import pytest
from levelpoints import SWEEP

from qtui.cost.capacity import expected_p95


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
