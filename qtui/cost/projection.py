"""Roofline projection of a capacity measured on one GPU onto another (pure).

Decode is bound by memory bandwidth, prefill by dense matmul throughput at the precision. A
precision the target has no tensor cores for runs 16-bit matmuls (as the simulator's
`compute_flops` models it: FP8/INT8 on the GPU's FP8/INT8 units where it has them, else bf16;
weight-only int4 always 16-bit). FP8 follows vLLM's own rule (docs/memory.md cites the source):
below compute capability 8.9 it runs as weight-only FP8 (Marlin W8A16: 1-byte weights, 16-bit
matmuls), below 8.0 vLLM refuses it. A measured figure always wins over a projection.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from qtui.data import GpuSpec, gpu_specs


def matmul_units(gpu: GpuSpec, precision: str) -> str:
    """Which tensor-core rate a precision's matmuls run at: fp8, int8, or bf16 (16-bit where
    the GPU has no such units, and for weight-only formats such as int4)."""
    p = precision.lower()
    if p.startswith("fp8") and gpu.fp8_dense_tflops:
        return "fp8"
    if p in ("int8", "w8a8") and gpu.int8_dense_tops:
        return "int8"
    return "bf16"


def dense_flops(gpu: GpuSpec, precision: str) -> float:
    """Dense FLOP/s the GPU's matmuls run at for a precision (16-bit where it has no units)."""
    units = matmul_units(gpu, precision)
    if units == "fp8":
        return (gpu.fp8_dense_tflops or 0.0) * 1e12
    if units == "int8":
        return (gpu.int8_dense_tops or 0.0) * 1e12
    return (gpu.bf16_dense_tflops or 0.0) * 1e12


FP8_NATIVE_CC = 8.9  # vLLM Fp8LinearMethod: use_marlin = not has_device_capability(89)
FP8_MIN_CC = 8.0  # vLLM Fp8Config.get_min_capability() == 80


def fp8_fallback(gpu: GpuSpec, precision: str) -> tuple[bool, str]:
    """(supported, how) for FP8 on ``gpu`` as vLLM runs it: native W8A8 at compute ≥ 8.9,
    weight-only Marlin W8A16 at 8.0-8.9, unsupported below 8.0 ("" for other precisions)."""
    cc = gpu.compute_capability
    if not precision.lower().startswith("fp8") or cc is None or cc >= FP8_NATIVE_CC:
        return True, ""
    if cc < FP8_MIN_CC:
        return False, (
            f"vLLM's fp8 needs compute capability ≥ {FP8_MIN_CC:.1f}; {gpu.key} has {cc:.1f}"
        )
    return True, f"fp8 as weight-only Marlin W8A16 (compute {cc:.1f} < {FP8_NATIVE_CC:.1f})"


@dataclass(frozen=True, slots=True)
class Projection:
    rps: float
    factor: float
    basis: str  # "projected from H100: decode × 1.43 (bandwidth), prefill × 1.00 (fp8 TFLOPS)"


def project(
    measured_rps: float,
    from_gpu: str,
    to_gpu: str,
    precision: str,
    decode_share: float,
    specs: Mapping[str, GpuSpec] | None = None,
) -> Projection:
    """Capacity on ``to_gpu``: a request's time = decode_share / bw ratio + rest / flops ratio.

    ``decode_share`` is the fraction of a request's measured GPU time spent decoding (0-1).
    """
    if not 0.0 <= decode_share <= 1.0:
        raise ValueError(f"decode_share must be within 0-1, got {decode_share}")
    table = gpu_specs() if specs is None else specs
    for g in (from_gpu, to_gpu):
        if g not in table:
            raise KeyError(f"GPU {g!r} is not in qtui/data/gpus.toml; known: {', '.join(table)}")
    a, b = table[from_gpu], table[to_gpu]
    ok, how = fp8_fallback(b, precision)
    if not ok:
        raise ValueError(how)
    bw = b.memory_bandwidth_tb_s / a.memory_bandwidth_tb_s
    fa, fb = dense_flops(a, precision), dense_flops(b, precision)
    fl = fb / fa if fa > 0 and fb > 0 else bw
    factor = 1.0 / (decode_share / bw + (1.0 - decode_share) / fl)
    rate = f"bf16 TFLOPS: {how}" if how else f"{matmul_units(b, precision)} TFLOPS"
    basis = (
        f"projected from {from_gpu}: decode × {bw:.2f} (bandwidth), "
        f"prefill × {fl:.2f} ({rate}), {decode_share:.0%} decode"
    )
    return Projection(measured_rps * factor, factor, basis)
