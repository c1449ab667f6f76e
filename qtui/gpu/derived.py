"""Figures derived from GPU telemetry and vLLM metrics: pure arithmetic, units in the names.

Formulas (hand-checked in tests/gpu/test_derived.py and written out in docs/gpu-telemetry.md):
- kWh = J / 3.6e6
- kWh per 1M output tokens = kWh(window) / tokens(window) × 1e6
- cost ($ per 1M tokens) = kWh per 1M × $/kWh;  CO2 (kg per 1M) = kWh per 1M × kg/kWh
- average power (W) = J / s
- KV-cache capacity (tokens) = num_gpu_blocks × block_size; free = capacity × (1 − usage)
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from qtui.evidence.records import GpuSample, ProcessSample

J_PER_KWH = 3.6e6
UINT64 = 2**64


@dataclass(frozen=True, slots=True)
class Figure:
    """A derived number, or None with the reason it cannot be computed."""

    value: float | None
    unit: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ReplicaMemory:
    """GPU memory one replica holds, and what it was measured from."""

    bytes: int | None
    basis: Literal["process", "gpu", "none"]
    reason: str = ""


def memory_per_replica(
    gpus: Sequence[GpuSample], processes: Sequence[ProcessSample]
) -> ReplicaMemory:
    """Sum of the endpoint's process memory (exact); else of its GPUs' used memory (whole GPU)."""
    known = [p.used_memory for p in processes if p.used_memory is not None]
    if known:
        return ReplicaMemory(sum(known), "process")
    used = [g.memory_used for g in gpus if g.state == "ok" and g.memory_used is not None]
    if used:
        return ReplicaMemory(sum(used), "gpu", "per-process memory unavailable: whole-GPU usage")
    if not gpus and not processes:
        return ReplicaMemory(None, "none", "no GPU attributed to this endpoint")
    return ReplicaMemory(None, "none", "no memory reading (GPU lost or query not supported)")


@dataclass(frozen=True, slots=True)
class KvHeadroom:
    """vLLM KV cache in tokens: capacity, in use, free."""

    capacity_tokens: int
    used_tokens: float
    free_tokens: float
    usage: float  # 0-1


def kv_cache_config(labels: Mapping[str, str]) -> tuple[int, int] | None:
    """(num_gpu_blocks, block_size) from vllm:cache_config_info labels; None if absent/"None"."""
    try:
        return int(labels["num_gpu_blocks"]), int(labels["block_size"])
    except (KeyError, ValueError):
        return None


def kv_headroom(usage: float, num_gpu_blocks: int, block_size: int) -> KvHeadroom:
    """Free KV-cache tokens from vllm:kv_cache_usage_perc (a 0-1 fraction despite the name)."""
    if not 0.0 <= usage <= 1.0:
        raise ValueError(f"kv_cache_usage_perc must be within 0-1, got {usage}")
    if num_gpu_blocks < 0 or block_size <= 0:
        raise ValueError("num_gpu_blocks must be ≥ 0 and block_size > 0")
    capacity = num_gpu_blocks * block_size
    used = capacity * usage
    return KvHeadroom(capacity, used, capacity - used, usage)


@dataclass(frozen=True, slots=True)
class EnergyDelta:
    """Energy over a window from a monotonic counter; resets are skipped, not guessed."""

    joules: float
    resets: int  # intervals dropped because the counter went backwards (driver reload, reboot)


def energy_delta_mj(readings_mj: Sequence[int | float], *, wrap: int = UINT64) -> EnergyDelta:
    """Sum of consecutive increases of a mJ counter; a uint64 wrap is unwrapped, a reset skipped."""
    total = 0.0
    resets = 0
    for prev, cur in itertools.pairwise(readings_mj):
        if cur >= prev:
            total += cur - prev
        elif prev > wrap * 0.99:  # counter went over the top of uint64
            total += wrap - prev + cur
        else:
            resets += 1
    return EnergyDelta(total / 1000.0, resets)


def energy_delta_j(readings_j: Sequence[float | None]) -> EnergyDelta:
    """Same as energy_delta_mj for readings in J (as GpuSample.energy_j); Nones are skipped."""
    mj = [r * 1000.0 for r in readings_j if r is not None]
    return energy_delta_mj(mj)


def kwh(joules: float) -> float:
    return joules / J_PER_KWH


def energy_per_million_tokens(joules: float, output_tokens: int) -> Figure:
    """kWh per 1M output tokens over one window (energy and tokens from the same window)."""
    if output_tokens <= 0:
        return Figure(None, "kWh/1M tok", "no output tokens in the window")
    if joules < 0:
        return Figure(None, "kWh/1M tok", "negative energy (counter reset)")
    return Figure(kwh(joules) / output_tokens * 1e6, "kWh/1M tok")


def energy_cost_per_million(kwh_per_million: Figure, usd_per_kwh: float) -> Figure:
    """$ of electricity per 1M output tokens."""
    if kwh_per_million.value is None:
        return Figure(None, "$/1M tok", kwh_per_million.reason)
    return Figure(kwh_per_million.value * usd_per_kwh, "$/1M tok")


def co2_per_million(kwh_per_million: Figure, kg_per_kwh: float | None) -> Figure:
    """kg CO2 per 1M output tokens at a grid intensity (None when no intensity is configured)."""
    if kg_per_kwh is None:
        return Figure(None, "kg CO2/1M tok", "no grid intensity configured")
    if kwh_per_million.value is None:
        return Figure(None, "kg CO2/1M tok", kwh_per_million.reason)
    return Figure(kwh_per_million.value * kg_per_kwh, "kg CO2/1M tok")


def average_power_w(joules: float, seconds: float) -> Figure:
    """Mean power over a window from the energy counter (smoother than instantaneous power)."""
    if seconds <= 0:
        return Figure(None, "W", "empty window")
    return Figure(joules / seconds, "W")


def endpoint_energy_j(series: Iterable[Sequence[float | None]]) -> EnergyDelta:
    """Energy of a multi-GPU replica: the per-GPU counter deltas added up."""
    total = 0.0
    resets = 0
    for per_gpu in series:
        d = energy_delta_j(per_gpu)
        total += d.joules
        resets += d.resets
    return EnergyDelta(total, resets)
