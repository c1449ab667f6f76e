"""SLO-compliant capacity from a sweep, and the p95 expected at a given per-replica load."""

from __future__ import annotations

import pytest

from qtui.config.profile import Slo
from qtui.cost.capacity import (
    NO_SWEEP,
    SLO_NEVER_MET,
    SweepPoint,
    capacity_from_sweep,
    expected_p95,
    slo_breaches,
)

SLO = Slo(ttft_p95_ms=500, e2e_p95_ms=8000, max_error_rate=0.01)


def pt(level: float, rps: float, ttft: float, e2e: float, err: float = 0.0) -> SweepPoint:
    # 128 output and 512 input tokens per request
    return SweepPoint(level, rps, rps * 512, rps * 128, ttft, None, e2e, err)


SWEEP = [
    pt(1, 0.5, 0.05, 2.0),
    pt(4, 1.9, 0.08, 2.4),
    pt(16, 6.0, 0.30, 4.0),
    pt(32, 9.0, 0.70, 7.0),  # ttft 700 ms > 500 ms: first breach
    pt(64, 9.5, 0.45, 7.9),  # passes again: noise after a breach, not capacity
]


def test_capacity_is_last_level_before_first_breach() -> None:
    cap = capacity_from_sweep(SWEEP, SLO)
    assert cap.usable and cap.met_slo
    assert (cap.rps, cap.output_tps, cap.input_tps) == (6.0, 768.0, 3072.0)
    assert cap.p95_s == 4.0
    assert cap.source == "load level 16" and cap.level == 16


def test_capacity_ignores_level_order_in_input() -> None:
    assert capacity_from_sweep(list(reversed(SWEEP)), SLO).source == "load level 16"


def test_no_sweep_and_never_met() -> None:
    assert capacity_from_sweep([], SLO).reason == NO_SWEEP
    never = capacity_from_sweep([pt(1, 0.5, 0.9, 2.0)], SLO)
    assert not never.usable
    assert never.reason == SLO_NEVER_MET
    assert never.detail == "level 1: ttft p95 900 ms > 500 ms"


def test_breaches_name_every_broken_slo() -> None:
    bad = SweepPoint(8, 3.0, 1, 1, ttft_p95_s=0.6, itl_p95_s=None, e2e_p95_s=9.0, error_rate=0.05)
    slo = Slo(ttft_p95_ms=500, itl_p95_ms=40, e2e_p95_ms=8000, max_error_rate=0.01)
    assert slo_breaches(bad, slo) == [
        "ttft p95 600 ms > 500 ms",
        "itl p95 not measured",
        "e2e p95 9000 ms > 8000 ms",
        "error rate 5.0% > 1.0%",
    ]
    assert slo_breaches(bad, Slo(max_error_rate=0.1)) == []  # no latency SLO set


def test_error_rate_alone_breaks_capacity() -> None:
    sweep = [pt(1, 0.5, 0.05, 2.0), pt(4, 1.9, 0.05, 2.0, err=0.02)]
    assert capacity_from_sweep(sweep, SLO).source == "load level 1"


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
