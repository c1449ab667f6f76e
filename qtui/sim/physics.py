"""GPU physics for the simulator: memory plan, step times, power (pure; see docs/simulator.md)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from qtui.data import GpuSpec, ModelShape
from qtui.errors import QtuiError

WEIGHT_BYTES = {"bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "int8": 1.0, "int4": 0.5 + 4 / 128}
"""Bytes per quantized weight; int4 adds a 16-bit scale and zero point per group of 128."""
KV_BYTES = {"bf16": 2.0, "fp16": 2.0, "fp8": 1.0}
BLOCK_SIZE = 16
"""vLLM's default KV-cache block size (tokens)."""
RESERVE_BYTES = 2.0e9
"""CUDA context, activation peak and CUDA graphs that vLLM's memory profiling sets aside."""
MEM_EFFICIENCY = 0.8
"""Fraction of peak memory bandwidth a decode step achieves."""
COMPUTE_EFFICIENCY = 0.5
"""Fraction of dense peak FLOP/s a prefill achieves (model FLOPs utilisation)."""
STEP_OVERHEAD_S = 2.8e-3
"""Fixed cost of one engine step (scheduler, launches, sampling, detokenise); calibrated on
SmolLM2-135M / H100 / vLLM 0.26, where it is nearly the whole step (docs/simulator.md)."""
FRONTEND_S = 0.020
"""HTTP + tokenisation + IPC before a request reaches the engine (calibrated: TTFT p50 23 ms)."""
IDLE_POWER_FRACTION = 0.15


@dataclass(frozen=True, slots=True)
class Plan:
    """How one simulated endpoint's GPU(s) are laid out and how fast they go."""

    model: ModelShape
    gpu: GpuSpec
    tp: int
    weights: str
    kv_cache_dtype: str
    gpu_memory_utilization: float
    weight_bytes: float
    kv_bytes_per_token: float
    num_gpu_blocks: int
    max_model_len: int
    max_num_seqs: int
    max_num_batched_tokens: int
    bandwidth: float  # bytes/s, all GPUs of the replica
    flops: float  # dense FLOP/s at the compute precision, all GPUs

    @property
    def kv_capacity_tokens(self) -> int:
        return self.num_gpu_blocks * BLOCK_SIZE

    @property
    def kv_cache_bytes(self) -> float:
        return self.kv_capacity_tokens * self.kv_bytes_per_token

    @property
    def memory_used_bytes(self) -> float:
        """Per GPU, as nvidia-smi would show it: vLLM grabs its whole budget at start."""
        return (self.weight_bytes + RESERVE_BYTES + self.kv_cache_bytes) / self.tp

    def decode_time(self, kv_tokens_read: int) -> float:
        """Memory-bound part of a step: all weights plus the KV cache of every running request."""
        read = self.weight_bytes + kv_tokens_read * self.kv_bytes_per_token
        return read / (self.bandwidth * MEM_EFFICIENCY)

    def compute_time(self, new_tokens: int, attended: float) -> float:
        """FLOPs of a step: 2 × params per token plus attention over ``attended`` token pairs."""
        m = self.model
        linear = 2.0 * m.params_b * 1e9 * new_tokens
        attention = 4.0 * m.layers * m.num_attention_heads * m.head_dim * attended
        return (linear + attention) / (self.flops * COMPUTE_EFFICIENCY)

    def step_time(self, new_tokens: int, kv_tokens_read: int, attended: float) -> float:
        """Roofline: the slower of memory and compute, plus the fixed per-step overhead."""
        return (
            max(self.decode_time(kv_tokens_read), self.compute_time(new_tokens, attended))
            + STEP_OVERHEAD_S
        )

    def power_w(self, util: float) -> float:
        """Per-GPU draw: linear from idle to TDP with utilisation (0-1)."""
        tdp = self.gpu.tdp_w or 300.0
        idle = tdp * IDLE_POWER_FRACTION
        return idle + (tdp - idle) * min(max(util, 0.0), 1.0)


def compute_flops(gpu: GpuSpec, weights: str) -> float:
    """Dense FLOP/s for the matmuls: FP8/INT8 tensor cores where the GPU has them, else 16-bit."""
    bf16 = (gpu.bf16_dense_tflops or 0.0) * 1e12
    if weights == "fp8" and gpu.fp8_dense_tflops:
        return gpu.fp8_dense_tflops * 1e12
    if weights == "int8" and gpu.int8_dense_tops:
        return gpu.int8_dense_tops * 1e12
    return bf16  # int4 (AWQ/GPTQ) is weight-only: activations stay 16-bit


def weight_bytes(model: ModelShape, weights: str) -> float:
    """Quantized linear layers plus the embedding table, which checkpoints keep at 16-bit."""
    params = model.params_b * 1e9
    embed = min(params, float(model.vocab_size * model.hidden_size))
    return (params - embed) * WEIGHT_BYTES[weights] + embed * 2.0


def make_plan(
    name: str,
    model: ModelShape,
    gpu: GpuSpec,
    weights: str = "bf16",
    kv_cache_dtype: str = "bf16",
    gpu_memory_utilization: float = 0.9,
    tp: int = 1,
    max_model_len: int | None = None,
) -> Plan:
    """Lay the model out on the GPU(s) as vLLM would, or fail as vLLM would at start-up."""
    budget = gpu.memory_bytes * tp * gpu_memory_utilization
    wbytes = weight_bytes(model, weights)
    kv_tok = model.kv_bytes_per_token(KV_BYTES[kv_cache_dtype])
    free = budget - wbytes - RESERVE_BYTES * tp
    gb = 1e9
    if wbytes > budget:
        raise QtuiError(
            f"endpoint {name!r}: {model.name} weights at {weights} need {wbytes / gb:.1f} GB but "
            f"{tp}× {gpu.key} give {budget / gb:.1f} GB at gpu_memory_utilization "
            f"{gpu_memory_utilization} (vLLM fails at start-up: CUDA out of memory); use a "
            f"bigger GPU, more gpus_per_replica or lower-precision weights"
        )
    blocks = math.floor(free / (kv_tok * BLOCK_SIZE)) if free > 0 else 0
    if blocks <= 0:
        raise QtuiError(
            f"endpoint {name!r}: no memory left for the KV cache after {wbytes / gb:.1f} GB of "
            f"weights on {tp}× {gpu.key} (vLLM: 'No available memory for the cache blocks'); "
            f"raise gpu_memory_utilization or use lower-precision weights"
        )
    limit = max_model_len or model.max_model_len
    # vLLM refuses a max_model_len the KV cache cannot hold; the simulator serves what fits,
    # as a user passing --max-model-len would.
    served_len = min(limit, blocks * BLOCK_SIZE)
    big = gpu.memory_gb >= 70
    return Plan(
        model=model,
        gpu=gpu,
        tp=tp,
        weights=weights,
        kv_cache_dtype=kv_cache_dtype,
        gpu_memory_utilization=gpu_memory_utilization,
        weight_bytes=wbytes,
        kv_bytes_per_token=kv_tok,
        num_gpu_blocks=blocks,
        max_model_len=served_len,
        max_num_seqs=1024 if big else 256,
        max_num_batched_tokens=8192 if big else 2048,
        bandwidth=gpu.memory_bandwidth_tb_s * 1e12 * tp,
        flops=compute_flops(gpu, weights) * tp,
    )
