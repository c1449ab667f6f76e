"""Roofline projection by hand (issue 19)."""

from __future__ import annotations

import pytest

from qtui.cost.projection import dense_flops, project
from qtui.data import gpu_specs


def test_decode_bound_scales_with_bandwidth() -> None:
    # H100 3.35 TB/s → H200 4.8 TB/s: 10 req/s × 4.8 / 3.35 = 14.328 req/s
    p = project(10.0, "H100", "H200", "bf16", decode_share=1.0)
    assert p.rps == pytest.approx(14.328, abs=1e-3)
    assert p.basis.startswith("projected from H100: decode × 1.43 (bandwidth)")


def test_mixed_share_is_a_harmonic_blend() -> None:
    # H100 → A100-80GB bf16: bw 2.039/3.35 = 0.6087, flops 312/989.4 = 0.31534
    # factor = 1 / (0.5/0.6087 + 0.5/0.31534) = 1 / (0.82144 + 1.58559) = 0.41545
    p = project(10.0, "H100", "A100-80GB", "bf16", decode_share=0.5)
    assert p.factor == pytest.approx(0.41545, abs=1e-4)


def test_fp8_on_a_gpu_without_fp8_runs_16_bit() -> None:
    a100 = gpu_specs()["A100-80GB"]
    assert dense_flops(a100, "fp8") == 312e12
    # prefill-only: fp8 on H100 1978.9 TFLOPS vs A100 bf16 312 → 312 / 1978.9 = 0.15766
    assert project(10.0, "H100", "A100-80GB", "fp8", 0.0).factor == pytest.approx(0.15766, abs=1e-4)


def test_unknown_gpu_and_bad_share() -> None:
    with pytest.raises(KeyError, match=r"'T9' is not in qtui/data/gpus\.toml"):
        project(1.0, "H100", "T9", "bf16", 0.5)
    with pytest.raises(ValueError, match="decode_share"):
        project(1.0, "H100", "H200", "bf16", 1.5)


def test_fp8_follows_vllms_rule_native_marlin_or_refused() -> None:
    from qtui.cost.projection import fp8_fallback

    g = gpu_specs()
    # vLLM fp8.py: use_marlin = not has_device_capability(89); Fp8Config min capability 80
    assert fp8_fallback(g["L4"], "fp8") == (True, "")  # Ada 8.9: native FP8
    assert fp8_fallback(g["A100-80GB"], "fp8") == (
        True, "fp8 as weight-only Marlin W8A16 (compute 8.0 < 8.9)"
    )  # fmt: skip
    assert fp8_fallback(g["T4"], "fp8") == (
        False, "vLLM's fp8 needs compute capability ≥ 8.0; T4 has 7.5"
    )  # fmt: skip
    assert fp8_fallback(g["T4"], "int8") == (True, "")
    p = project(10.0, "H100", "A10G", "fp8", 0.5)
    assert "prefill × 0.06 (bf16 TFLOPS: fp8 as weight-only Marlin W8A16 (compute 8.6" in p.basis
    with pytest.raises(ValueError, match=r"T4 has 7\.5"):
        project(10.0, "H100", "T4", "fp8", 0.5)


def test_the_basis_names_the_rate_the_matmuls_run_at() -> None:
    # int4-AWQ is weight-only: its matmuls are 16-bit on every GPU
    assert "prefill × 0.07 (bf16 TFLOPS)" in project(1.0, "H100", "T4", "int4-awq", 0.5).basis
    # INT8 W8A8 runs on the T4's INT8 units (130 TOPS vs the H100's 1978.9)
    assert "(int8 TFLOPS)" in project(1.0, "H100", "T4", "int8", 0.5).basis
