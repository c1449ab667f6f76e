"""Scores: Wilson interval and exact McNemar against hand calculations; per-endpoint aggregates."""

from __future__ import annotations

import pytest

from qtui.evidence.records import QualityRecord
from qtui.quality.scores import (
    Rate,
    compare,
    items_needed,
    mcnemar_exact,
    paired_drop_interval,
    paired_items_needed,
    score_endpoint,
    wilson_interval,
)


def rec(
    endpoint: str, item: str, passed: bool, reason: str | None = None, **kw: object
) -> QualityRecord:
    return QualityRecord(
        endpoint=endpoint,
        item_id=item,
        passed=passed,
        reason=reason or ("ok" if passed else "wrong"),  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


def test_wilson_45_of_50_by_hand() -> None:
    # p = 0.9, z = 1.96, z²/n = 3.8415/50 = 0.076829, denominator 1.076829
    # centre = (0.9 + 0.038415) / 1.076829 = 0.871460
    # half = 1.96 * sqrt(0.09/50 + 3.8415/10000) / 1.076829 = 1.96 * 0.046735 / 1.076829 = 0.085063
    low, high = wilson_interval(45, 50)  # type: ignore[misc]
    assert low == pytest.approx(0.78640, abs=1e-4)
    assert high == pytest.approx(0.95652, abs=1e-4)


def test_wilson_edges() -> None:
    # k = 0: upper bound is z²/(n + z²) = 3.8415/13.8415
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.27753), abs=1e-5)
    low, high = wilson_interval(10, 10)  # type: ignore[misc]
    assert low == pytest.approx(1 - 0.27753, abs=1e-5) and high == pytest.approx(1.0)
    assert wilson_interval(0, 0) is None
    with pytest.raises(ValueError):
        wilson_interval(3, 2)


def test_mcnemar_exact_by_hand() -> None:
    # b=7, c=1: n=8, P(X ≤ 1) = (C(8,0) + C(8,1)) / 2^8 = 9/256; two-sided = 18/256
    assert mcnemar_exact(7, 1) == pytest.approx(0.0703125)
    assert mcnemar_exact(1, 7) == pytest.approx(0.0703125)
    # b=10, c=0: 2 * 1/1024
    assert mcnemar_exact(10, 0) == pytest.approx(0.001953125)
    # b=c: the two tails overlap; capped at 1
    assert mcnemar_exact(3, 3) == 1.0
    assert mcnemar_exact(0, 0) == 1.0
    with pytest.raises(ValueError):
        mcnemar_exact(-1, 2)


def test_rate() -> None:
    assert Rate(3, 4).value == 0.75
    assert Rate(0, 0).value is None and Rate(0, 0).interval is None


def test_score_endpoint_counts_errors_schema_retries_and_tags() -> None:
    records = [
        rec("fp8", "a", True, tags=["task:math"], retries=1),
        rec("fp8", "b", False, tags=["task:math"]),
        rec("fp8", "c", False, "schema_failure", check="json_schema", tags=["task:ext"]),
        rec("fp8", "d", True, check="json_schema", tags=["task:ext"], retries=2),
        rec("fp8", "e", False, "error", retries=2),
        rec("bf16", "a", True),  # other endpoints are ignored
    ]
    s = score_endpoint("fp8", records)
    assert s.items == 5
    assert (s.success.k, s.success.n, s.answered) == (2, 4, 4)
    assert s.errors == 1
    assert s.reasons == {"ok": 2, "wrong": 1, "schema_failure": 1, "error": 1}
    assert (s.schema_failure.k, s.schema_failure.n) == (1, 2)
    assert s.retries == 5
    assert (s.retry_rate.k, s.retry_rate.n) == (3, 5)
    assert {t: (r.k, r.n) for t, r in s.by_tag.items()} == {"task:ext": (1, 2), "task:math": (1, 2)}


def test_compare_pairs_items_and_counts_discordant() -> None:
    base = [True] * 8 + [False] * 2
    mine = [True] * 1 + [False] * 7 + [True] * 1 + [False] * 1
    records = [rec("bf16", str(i), p) for i, p in enumerate(base)]
    records += [rec("fp8", str(i), p) for i, p in enumerate(mine)]
    records += [rec("fp8", "extra", True)]  # not answered by the baseline: unpaired
    paired = compare("fp8", "bf16", records)
    assert paired.pairs == 10
    assert (paired.both_pass, paired.only_baseline, paired.only_endpoint) == (1, 7, 1)
    assert paired.p_value == pytest.approx(0.0703125)
    assert not paired.significant
    # headline delta: 3/11 − 8/10
    assert paired.delta == pytest.approx(3 / 11 - 0.8)


def test_compare_skips_errored_items() -> None:
    records = [rec("bf16", "a", True), rec("fp8", "a", False, "error"), rec("fp8", "b", True)]
    paired = compare("fp8", "bf16", records)
    assert paired.pairs == 0 and paired.p_value == 1.0


def test_paired_drop_interval_by_hand() -> None:
    """Newcombe (1998) method 10 on a = 40 both pass, b = 6 only the baseline, c = 2 only the
    endpoint, d = 2 neither (n = 50), by hand:
    p1 = 46/50 = 0.92, p2 = 42/50 = 0.84, D = 0.08;
    Wilson 46/50: (0.8116, 0.9685); Wilson 42/50: (0.7149, 0.9166);
    ad − bc = 80 − 12 = 68 > n/2 = 25 → 43; √(46·4·42·8) = √61824 = 248.64; φ = 0.1729;
    L = 0.08 − √(0.1084² − 2·0.1729·0.1084·0.0766 + 0.0766²) = 0.08 − √0.014746 = −0.0414;
    U = 0.08 + √(0.1251² − 2·0.1729·0.1251·0.0485 + 0.0485²) = 0.08 + √0.015903 = 0.2061."""
    lo, hi = paired_drop_interval(40, 6, 2, 2) or (0.0, 0.0)
    assert lo == pytest.approx(-0.0414, abs=2e-4)
    assert hi == pytest.approx(0.2061, abs=2e-4)
    # the interval follows the sign: the same table with the roles swapped is its mirror
    lo2, hi2 = paired_drop_interval(40, 2, 6, 2) or (0.0, 0.0)
    assert (lo2, hi2) == pytest.approx((-hi, -lo))
    # ad − bc < 0: φ = (ad − bc)/√(margins), no correction; no discordance: a narrow interval
    assert paired_drop_interval(0, 0, 0, 0) is None
    lo3, hi3 = paired_drop_interval(360, 0, 0, 40) or (1.0, 1.0)
    assert lo3 < 0 < hi3 and hi3 - lo3 < 0.02


def test_items_needed_by_hand() -> None:
    """n = (1.95996 + 0.84162)² · (ψ − δ²) / (m − δ)² = 7.8489 · …"""
    # b = 6, c = 2 of 50: ψ = 0.16, δ = 0.08; margin 0.05: 7.8489 · 0.1536 / 0.0009 = 1339.5
    assert paired_items_needed(6, 2, 50, 0.05) == 1340
    # δ = 0.005 (b = 3, c = 1 of 400), ψ = 0.01, margin 0.02:
    # 7.8489 · (0.01 − 0.000025) / 0.015² = 7.8489 · 0.009975 / 0.000225 = 347.97 → 348
    assert paired_items_needed(3, 1, 400, 0.02) == 348
    # no discordance yet: ψ counts as 1/pairs (1/100): 7.8489 · 0.01 / 0.02² = 196.2 → 197
    assert paired_items_needed(0, 0, 100, 0.02) == 197
    assert items_needed(0.1, 0.0) is None  # the estimate sits on the limit: nothing decides
