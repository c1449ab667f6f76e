"""Where an endpoint's GPU memory goes (weights, KV cache) and whether a model fits a GPU.

Pure: figures in, figures and words out. The KV-cache figures are the server's own
(`vllm:cache_config_info`, recorded in `server_second`); the weights are estimated from the
model's parameters × bytes per weight of the precision and say so.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from qtui.data import GpuSpec, ModelShape, gpu_specs, model_shapes

GIB = 1024**3

# Bytes per weight of each precision (the quantized tensors; embeddings and norms are ignored).
BYTES_PER_WEIGHT: dict[str, float] = {
    "fp32": 4.0,
    "bf16": 2.0,
    "fp16": 2.0,
    "fp8": 1.0,
    "int8": 1.0,
    "w8a8": 1.0,
    "q8_0": 1.0625,  # 8.5 bits per weight (a 2-byte scale per 32 weights)
    "int4": 0.5,
    "int4-awq": 0.5,
    "int4-gptq": 0.5,
    "awq": 0.5,
    "gptq": 0.5,
    "nf4": 0.5,
    "bnb-4bit": 0.5,
    "q4_1": 0.625,  # 5 bits per weight
    "q4_k_m": 0.5625,  # about 4.5 bits per weight
}

# Bytes per KV element of vLLM's --kv-cache-dtype ("auto" is the model's dtype, taken as bf16).
KV_DTYPE_BYTES: dict[str, float] = {
    "auto": 2.0,
    "bfloat16": 2.0,
    "bf16": 2.0,
    "float16": 2.0,
    "fp16": 2.0,
    "half": 2.0,
    "fp8": 1.0,
    "fp8_e4m3": 1.0,
    "fp8_e5m2": 1.0,
}


@dataclass(frozen=True, slots=True)
class Weights:
    """Weight bytes of one replica and how they were found."""

    bytes: float | None
    basis: str  # "estimated: 0.135 B params × 2 B (bf16)" or why unknown


@dataclass(frozen=True, slots=True)
class KvCache:
    """The KV cache one server states (`vllm:cache_config_info`); ``reason`` when unknown."""

    tokens: int | None = None
    bytes: int | None = None
    dtype: str | None = None
    blocks: int | None = None
    block_size: int | None = None
    max_concurrency: float | None = None  # requests of max_model_len tokens that fit
    reason: str = ""

    @property
    def known(self) -> bool:
        return self.tokens is not None


@dataclass(frozen=True, slots=True)
class Context:
    """The tokens one request of the workload holds in the KV cache (prompt + output)."""

    tokens: float
    basis: str  # "profile: 512 in + 128 out tok" or "measured mean of 1,234 requests"


def workload_context(input_mean: float, output_mean: float) -> Context:
    """The profile's synthetic prompt + output means."""
    return Context(
        input_mean + output_mean, f"profile: {input_mean:g} in + {output_mean:g} out tok"
    )


def measured_context(
    rows: Sequence[Mapping[str, Any]], endpoint: str | None = None
) -> Context | None:
    """Mean prompt + completion tokens over the successful request records (None without any)."""
    n, total = 0, 0.0
    for r in rows:
        if endpoint is not None and r.get("endpoint") != endpoint:
            continue
        p, c = r.get("prompt_tokens"), r.get("completion_tokens")
        if (
            r.get("error_class", "none") != "none"
            or not isinstance(p, int | float)
            or not isinstance(c, int | float)
        ):
            continue
        n, total = n + 1, total + p + c
    if n == 0:
        return None
    return Context(total / n, f"measured mean of {n:,} requests")


@dataclass(frozen=True, slots=True)
class Memory:
    """Where one endpoint's memory goes: weights (estimated) and the KV cache (stated)."""

    weights: Weights
    kv: KvCache
    context: Context | None = None  # the workload's tokens per request

    @property
    def max_model_len(self) -> float | None:
        """The request length vLLM's max concurrency is stated for (KV tokens ÷ max concurrency)."""
        kv = self.kv
        if kv.tokens is None or not kv.max_concurrency:
            return None
        return kv.tokens / kv.max_concurrency

    @property
    def workload_concurrency(self) -> float | None:
        """Requests of the workload's context the KV cache holds at once."""
        return None if self.context is None else self.concurrency_at(self.context.tokens)

    def concurrency_at(self, context_tokens: float) -> float | None:
        """Requests of ``context_tokens`` (prompt + output) the KV cache holds at once."""
        if self.kv.tokens is None or context_tokens <= 0:
            return None
        return self.kv.tokens / context_tokens


def shape_for(model: str) -> ModelShape | None:
    """The models.toml shape a served model id or path names (key or name, any case)."""
    m = model.lower().replace("_", "-")
    for key, shape in model_shapes().items():
        if key in m or shape.name.lower() in m or any(a in m for a in shape.aliases):
            return shape
    return None


def weights(shape: ModelShape | None, precision: str) -> Weights:
    """Params × bytes per weight of the precision, labelled estimated."""
    if shape is None:
        return Weights(None, "model not in qtui/data/models.toml")
    bpw = BYTES_PER_WEIGHT.get(precision.lower())
    if bpw is None:
        return Weights(None, f"bytes per weight of {precision!r} not known")
    return Weights(
        shape.params_b * 1e9 * bpw,
        f"estimated: {shape.params_b:g} B params × {bpw:g} B ({precision})",
    )


MODEL_LOADING = re.compile(r"Model loading took ([0-9.]+) GiB")


def stated_weights(log_text: str) -> Weights | None:
    """The weights vLLM's own launch log states ("Model loading took 0.26 GiB"), or None."""
    found = MODEL_LOADING.findall(log_text)
    if not found:
        return None
    gib = float(found[-1])
    return Weights(gib * GIB, f"server's log: Model loading took {found[-1]} GiB")


def recorded_weights(events: Sequence[Mapping[str, Any]], endpoint: str) -> Weights | None:
    """The ``launch``/``weights`` event qtui recorded for a server it started, or None."""
    for e in reversed(events):
        v = e.get("value")
        if (e.get("kind"), e.get("key")) != ("launch", "weights") or not isinstance(v, Mapping):
            continue
        if v.get("endpoint") == endpoint and isinstance(v.get("bytes"), int | float):
            return Weights(float(v["bytes"]), str(v.get("basis") or "server's log"))
    return None


def preemptions(rows: Sequence[Mapping[str, Any]], endpoint: str) -> float | None:
    """vllm:num_preemptions_total over the session: Σ preemptions/s × the seconds between
    server readings (None when the server never reported the counter)."""
    total, seen, last = 0.0, False, None
    for r in rows:
        if r.get("endpoint") != endpoint:
            continue
        t, rate = r.get("t"), r.get("preemptions_per_s")
        if isinstance(rate, int | float) and isinstance(t, int | float) and last is not None:
            total += rate * (t - last)
            seen = True
        if isinstance(t, int | float):
            last = t
    return total if seen else None


def kv_cache(server: Mapping[str, Any] | None) -> KvCache:
    """The KV cache from a server_second record; unknown with the reason when not stated."""
    if not server:
        return KvCache(reason="no /metrics reading yet")
    status = server.get("status", "ok")
    if status != "ok":
        return KvCache(reason=f"/metrics {status}")
    if server.get("kv_cache_tokens") is None:
        return KvCache(reason="server states no vllm:cache_config_info (not vLLM, or older)")

    def i(key: str) -> int | None:
        v = server.get(key)
        return None if v is None else int(v)

    mc = server.get("kv_max_concurrency")
    return KvCache(
        tokens=i("kv_cache_tokens"),
        bytes=i("kv_cache_bytes"),
        dtype=server.get("kv_cache_dtype"),
        blocks=i("kv_blocks"),
        block_size=i("kv_block_size"),
        max_concurrency=None if mc is None else float(mc),
    )


def memory(
    server: Mapping[str, Any] | None,
    model: str,
    precision: str,
    context: Context | None = None,
    stated: Weights | None = None,
) -> Memory:
    """The server's own weights figure (``stated``) wins over the estimate."""
    return Memory(stated or weights(shape_for(model), precision), kv_cache(server), context)


def tokens_text(n: float) -> str:
    """640, 2k, 128k: a request length in few characters."""
    if n < 1000:
        return f"{n:.0f}"
    k = n / 1024 if abs(n / 1024 - round(n / 1024)) < 0.01 else n / 1000
    return f"{k:.3g}k"


def concurrency_line(mem: Memory, width: int = 24) -> str:
    """'≤85 req@640 ≤3@128k tok': max concurrent requests at the workload's context and at
    max_model_len, within ``width`` (else without the ≤ signs, else the workload's alone)."""
    kv = mem.kv
    if not kv.known:
        return f"max req ? ({kv.reason})"
    wl, mml = mem.workload_concurrency, mem.max_model_len
    at_mml = (
        "" if mml is None or kv.max_concurrency is None
        else f"≤{kv.max_concurrency:.0f}@{tokens_text(mml)}"
    )  # fmt: skip
    if wl is None or mem.context is None:
        return f"max {at_mml} tok" if at_mml else "max req ? (no workload length)"
    head = f"≤{wl:.0f} req@{tokens_text(mem.context.tokens)}"
    if not at_mml:
        return f"{head} tok"
    for text in (f"{head} {at_mml} tok", f"{head} {at_mml} tok".replace("≤", "")):
        if len(text) <= width:
            return text
    return f"{head} tok"


def memory_line(mem: Memory) -> str:
    """One line (fits an 80x24 column): KV tokens, dtype, max concurrency, weights."""
    kv = mem.kv
    w = mem.weights
    est = " est." if w.basis.startswith("estimated") else ""
    wt = f"wts ~{w.bytes / GIB:.2f} GiB{est}" if w.bytes is not None else "wts ?"
    if not kv.known:
        return f"KV ? ({kv.reason}) · {wt}"
    dtype = "model dtype" if kv.dtype in (None, "auto") else kv.dtype
    conc = "" if kv.max_concurrency is None else f" · ≤{kv.max_concurrency:.0f} req"
    wl, ctx = mem.workload_concurrency, mem.context
    if wl is not None and ctx is not None:
        mml, mc = mem.max_model_len, kv.max_concurrency
        at = "" if mml is None or mc is None else f", ≤{mc:.0f} at {tokens_text(mml)}"
        conc = f" · ≤{wl:.0f} req at {tokens_text(ctx.tokens)} tok{at}"
    return f"KV {(kv.tokens or 0) / 1000:.0f}k tok {dtype}{conc} · {wt}"


# -- fit check --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Fit:
    """Whether weights + KV for a concurrency fit a GPU's memory × the memory fraction."""

    gpu: str
    needs_bytes: float
    has_bytes: float
    fits: bool
    text: str


def kv_bytes_needed(
    shape: ModelShape, concurrency: float, context_tokens: float, kv_dtype: str
) -> float:
    """KV bytes for ``concurrency`` requests of ``context_tokens`` each."""
    per_token = shape.kv_bytes_per_token(KV_DTYPE_BYTES.get(kv_dtype.lower(), 2.0))
    return per_token * concurrency * context_tokens


def fit(
    gpu: str,
    weights_bytes: float,
    kv_bytes: float,
    fraction: float,
    specs: Mapping[str, GpuSpec] | None = None,
    gpus: int = 1,
) -> Fit:
    """'needs 21.3 GiB, L4 has 22.5 × 0.9 = 20.3 GiB'; raises KeyError naming an unknown GPU.

    ``gpus``: GPUs per replica (tensor parallel: weights and KV spread over their memory)."""
    table = gpu_specs() if specs is None else specs
    spec = table.get(gpu)
    if spec is None:
        raise KeyError(f"GPU {gpu!r} is not in qtui/data/gpus.toml; known: {', '.join(table)}")
    total = spec.memory_bytes * gpus
    has = total * fraction
    needs = weights_bytes + kv_bytes
    ok = needs <= has
    who = gpu if gpus == 1 else f"{gpus} × {gpu}"
    text = (
        f"needs {needs / GIB:.1f} GiB, {who} has {total / GIB:.1f} × {fraction:g} = "
        f"{has / GIB:.1f} GiB" + ("" if ok else f": {(needs - has) / GIB:.1f} GiB short")
    )
    return Fit(gpu, needs, has, ok, text)


def latest_stated(rows: Sequence[Mapping[str, Any]], endpoint: str) -> Mapping[str, Any] | None:
    """The last server_second of an endpoint that states its KV cache, else its last one."""
    own = [r for r in rows if r.get("endpoint") == endpoint]
    stated = [r for r in own if r.get("kv_cache_tokens") is not None]
    last = stated or own
    return last[-1] if last else None


def peak_kv_usage(rows: Sequence[Mapping[str, Any]], endpoint: str) -> float | None:
    """Highest KV-cache use (0-1) the endpoint's server reported."""
    vals = [
        float(r["kv_cache_usage"])
        for r in rows
        if r.get("endpoint") == endpoint and r.get("kv_cache_usage") is not None
    ]
    return max(vals) if vals else None
