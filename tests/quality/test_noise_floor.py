"""The baseline's self-flip noise floor, against hand calculations (issue 18)."""

from __future__ import annotations

import pytest

from qtui.evidence.records import QualityRecord
from qtui.quality.agreement import agreement
from qtui.quality.noise import again_name, beyond_noise, noise_floor


def _records(endpoint: str, n: int, differ: int) -> list[QualityRecord]:
    """n answered items; the first `differ` answer "b" where the baseline says "a"."""
    return [
        QualityRecord(endpoint, f"i{i}", True, "ok", output_text="b" if i < differ else "a")
        for i in range(n)
    ]


def _set(self_differ: int, fp8_differ: int) -> list[QualityRecord]:
    return (
        _records("bf16", 100, 0)
        + _records(again_name("bf16"), 100, self_differ)
        + _records("fp8", 100, fp8_differ)
    )


def test_self_flip_rate_and_its_wilson_upper_bound() -> None:
    floor = noise_floor("bf16", _set(4, 0))
    assert floor is not None
    assert floor.self_flip_rate == pytest.approx(0.04)
    # Wilson 4/100, z = 1.96: centre (0.04 + 0.019208) / 1.038416 = 0.057018,
    # half 1.96 * sqrt(0.000384 + 0.00009604) / 1.038416 = 0.041355 → upper 0.098373
    assert floor.flip_upper == pytest.approx(0.098373, abs=1e-5)


def test_flips_within_the_floor_are_not_a_regression() -> None:
    recs = _set(4, 9)
    b = beyond_noise(agreement("fp8", "bf16", recs), noise_floor("bf16", recs))
    assert b.within_noise is True
    assert b.excess == pytest.approx(0.05)
    assert "within the noise floor" in b.text and "bf16 vs itself 4.0%" in b.text


def test_flips_beyond_the_floor_state_the_excess() -> None:
    recs = _set(4, 12)
    b = beyond_noise(agreement("fp8", "bf16", recs), noise_floor("bf16", recs))
    assert b.within_noise is False
    assert b.excess == pytest.approx(0.08)
    assert b.text.endswith("8.0% beyond the noise floor")


def test_no_second_pass_says_the_floor_is_unknown() -> None:
    recs = _records("bf16", 10, 0) + _records("fp8", 10, 3)
    assert noise_floor("bf16", recs) is None
    b = beyond_noise(agreement("fp8", "bf16", recs), None)
    assert b.within_noise is None and "noise floor unknown" in b.text


def test_summary_records_the_floor_and_each_endpoints_flips_against_it() -> None:
    from qtui.config.profile import QualityFloor
    from qtui.quality.summary import summarize

    recs = _set(4, 12)
    d = summarize(recs, ["bf16", "fp8"], "bf16", QualityFloor()).to_dict()
    assert d["noise_floor"]["self_flip_rate"] == pytest.approx(0.04)
    assert [e["endpoint"] for e in d["endpoints"]] == ["bf16", "fp8"]  # ~again is no endpoint
    fp8 = d["endpoints"][1]["agreement"]
    assert fp8["within_noise"] is False and fp8["flips_beyond_noise"] == pytest.approx(0.08)
