"""Reference data shipped with qtui: GPU specs and model shapes."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True, slots=True)
class GpuSpec:
    """One GPU type's datasheet figures (dense throughput)."""

    key: str
    name: str
    memory_gb: float
    memory_bandwidth_tb_s: float
    bf16_dense_tflops: float | None = None
    fp8_dense_tflops: float | None = None
    int8_dense_tops: float | None = None
    tdp_w: float | None = None
    compute_capability: float | None = None  # CUDA compute capability (9.0 Hopper, 8.0 A100)
    memory_type: str = ""
    source_url: str = ""
    evidence: str = ""

    @property
    def memory_bytes(self) -> float:
        return self.memory_gb * 1e9


@dataclass(frozen=True, slots=True)
class ModelShape:
    """A transformer's shape: what weight and KV-cache bytes depend on."""

    key: str
    name: str
    params_b: float
    layers: int
    hidden_size: int
    num_attention_heads: int
    num_kv_heads: int
    head_dim: int
    vocab_size: int
    max_model_len: int
    source: str = ""
    aliases: tuple[str, ...] = ()  # other served names that mean this model (lower case)

    def kv_bytes_per_token(self, kv_dtype_bytes: float) -> float:
        """K and V for every layer: 2 × layers × kv_heads × head_dim × bytes."""
        return 2 * self.layers * self.num_kv_heads * self.head_dim * kv_dtype_bytes


def _read(name: str) -> dict[str, object]:
    return tomllib.loads(resources.files("qtui.data").joinpath(name).read_text("utf-8"))


@cache
def gpu_specs() -> dict[str, GpuSpec]:
    """GPU specs keyed by the GPU type names profiles and price tables use."""
    raw = _read("gpus.toml")["gpus"]
    assert isinstance(raw, dict)
    return {k: GpuSpec(key=k, **v) for k, v in raw.items()}


@cache
def model_shapes() -> dict[str, ModelShape]:
    """Model shapes keyed by short name (e.g. ``llama-3.1-8b``)."""
    raw = _read("models.toml")["models"]
    assert isinstance(raw, dict)
    return {
        k: ModelShape(key=k, **{**v, "aliases": tuple(v.get("aliases", ()))})
        for k, v in raw.items()
    }
