"""Agreement with the baseline: flips, first divergent token, top-k KL against hand calculations."""

from __future__ import annotations

import math

import pytest

from qtui.evidence.records import QualityRecord
from qtui.quality.agreement import agreement, first_divergence, topk_kl

LN = math.log


def rec(
    endpoint: str, item: str, text: str, tokens: list[str], top: list[dict[str, float]]
) -> QualityRecord:
    return QualityRecord(
        endpoint=endpoint, item_id=item, passed=True, reason="ok", output_text=text,
        tokens=tokens, top_logprobs=top,
    )  # fmt: skip


def test_first_divergence() -> None:
    assert first_divergence(["a", "b", "c"], ["a", "x", "c"]) == 1
    assert first_divergence(["a", "b"], ["a", "b", "c"]) == 2
    assert first_divergence(["a"], ["a"]) is None
    assert first_divergence([], ["a"]) == 0


def test_kl_identical_is_zero() -> None:
    p = {"a": LN(0.5), "b": LN(0.3)}
    assert topk_kl(p, dict(p)) == pytest.approx(0.0, abs=1e-12)
    assert topk_kl({}, {}) == 0.0


def test_kl_by_hand_with_missing_token_floor() -> None:
    # P top-1: a=0.9; unseen mass 0.1 → b gets min(0.1, 0.9) = 0.1. Q: a=0.6, b=0.4.
    # KL = 0.9 ln(0.9/0.6) + 0.1 ln(0.1/0.4) = 0.364919 − 0.138629 = 0.226289
    kl = topk_kl({"a": LN(0.9)}, {"a": LN(0.6), "b": LN(0.4)})
    assert kl == pytest.approx(0.226289, abs=1e-6)


def test_kl_when_q_misses_p_top_token_is_large_but_finite() -> None:
    # Q's top-2 holds all its mass, so P's "c" gets the 1e-6 floor in Q
    kl = topk_kl({"c": LN(0.5), "a": LN(0.5)}, {"a": LN(0.5), "b": LN(0.5)})
    assert 5 < kl < 20


def test_agreement_flips_divergence_and_kl() -> None:
    same = [{"x": LN(0.5), "y": LN(0.5)}, {"z": 0.0}]
    records = [
        rec("bf16", "1", "x z", ["x", " z"], same),
        rec("fp8", "1", "x z", ["x", " z"], same),
        rec("bf16", "2", "x z", ["x", " z"], same),
        rec("fp8", "2", "y", ["y"], [{"x": LN(0.4), "y": LN(0.6)}]),
        rec("bf16", "3", "a b c", ["a", "b", "c"], [{}, {}, {}]),
        rec("fp8", "3", "a b d", ["a", "b", "d"], [{}, {}, {}]),  # no logprobs: no KL positions
        rec("fp8", "4", "only fp8", ["only"], [{}]),
    ]
    ag = agreement("fp8", "bf16", records)
    assert ag.pairs == 3
    assert ag.exact_matches == 1
    assert ag.match_rate == pytest.approx(1 / 3) and ag.flip_rate == pytest.approx(2 / 3)
    assert ag.diverged == 2
    assert ag.mean_first_divergence == pytest.approx((0 + 2) / 2)
    # KL positions: item 1 → 2 (identical, KL 0); item 2 → position 0 only
    assert ag.kl_positions == 3
    kl2 = 0.5 * LN(0.5 / 0.4) + 0.5 * LN(0.5 / 0.6)
    assert ag.mean_kl == pytest.approx(kl2 / 3)


def test_agreement_with_nothing_paired() -> None:
    ag = agreement("fp8", "bf16", [])
    assert ag.pairs == 0 and ag.match_rate is None and ag.flip_rate is None
    assert ag.mean_kl is None and ag.mean_first_divergence is None


def test_a_pair_cache_gives_the_same_agreement_and_is_filled_once() -> None:
    """The evidence judges a growing run again and again: pairs already compared are reused."""
    from qtui.evidence.records import QualityRecord
    from qtui.quality.agreement import PairCache, agreement

    def rec(ep: str, i: int, tok: str) -> QualityRecord:
        return QualityRecord(ep, f"i{i}", True, "ok", output_text=tok, tokens=[tok],
                             top_logprobs=[{tok: -0.1, "z": -2.5}])  # fmt: skip

    recs = [rec("bf16", i, "a") for i in range(3)] + [rec("fp8", i, "ab"[i % 2]) for i in range(3)]
    cache: PairCache = {}
    first = agreement("fp8", "bf16", recs, cache)
    assert len(cache) == 3 and first == agreement("fp8", "bf16", recs)
    cache[next(iter(cache))] = (False, 0, 9.0, 1)  # a cached pair is not computed again
    assert agreement("fp8", "bf16", recs, cache).mean_kl != first.mean_kl
