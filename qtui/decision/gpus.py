"""One precision on any GPU: its capacity (measured where it was measured, else projected from
the GPU it was measured on) and whether weights + KV cache for its SLO concurrency fit (pure).

A measured figure always wins over a projection; every projected figure says
"projected from <GPU>: <basis>" (``qtui.cost.projection.project``), the same words everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from qtui.config.profile import Endpoint
from qtui.cost.projection import fp8_fallback, project
from qtui.data import gpu_specs
from qtui.evidence.accumulate import Evidence
from qtui.evidence.capacity import Capacity
from qtui.evidence.levels import LevelPoint
from qtui.evidence.memory import (
    Fit,
    fit,
    kv_bytes_needed,
    recorded_weights,
    shape_for,
    weights,
    workload_context,
)

DOES_NOT_FIT = "does not fit"
NOT_SUPPORTED = "not supported"  # the serving engine refuses the precision on that GPU
VLLM_DEFAULT_FRACTION = 0.9  # vLLM's --gpu-memory-utilization default


@dataclass(frozen=True, slots=True)
class OnGpu:
    """One endpoint's precision on ``gpu``: capacity, how it was found, and the fit check."""

    gpu: str
    capacity: Capacity
    measured: bool
    basis: str  # "measured on H100" | "projected from H100: …" | why there is none
    fit: Fit | None = None
    fit_reason: str = ""  # why there is no fit check

    @property
    def fit_text(self) -> str:
        return self.fit.text if self.fit is not None else f"fit unknown: {self.fit_reason}"


def memory_fraction(e: Endpoint) -> tuple[float, str]:
    """The GPU memory share the profile gives the server (vLLM's --gpu-memory-utilization)."""
    if e.simulate is not None:
        return e.simulate.gpu_memory_utilization, "simulate.gpu_memory_utilization"
    if e.launch is not None:
        return e.launch.gpu_memory_utilization, "launch.gpu_memory_utilization"
    return VLLM_DEFAULT_FRACTION, "vLLM's default --gpu-memory-utilization"


def _point(cap: Capacity, points: tuple[LevelPoint, ...]) -> LevelPoint | None:
    if cap.level is None or not points:
        return None
    return min(points, key=lambda p: abs(p.level - (cap.level or 0.0)))


def slo_concurrency(cap: Capacity, points: tuple[LevelPoint, ...]) -> float | None:
    """Requests in flight at the capacity level: the users of a closed loop, else (open loop)
    req/s × p95 end-to-end latency (Little's law, on the p95: an upper estimate)."""
    if not cap.usable:
        return None
    p = _point(cap, points)
    if p is not None and p.unit == "users":
        return p.level
    if cap.rps and cap.p95_s:
        return cap.rps * cap.p95_s
    return None


def decode_share(cap: Capacity, points: tuple[LevelPoint, ...]) -> tuple[float | None, str]:
    """The share of a request's time spent decoding, from the capacity level's latencies:
    (output tokens − 1) × ITL p95 ÷ (TTFT p95 + that); or why it cannot be said."""
    p = _point(cap, points)
    if p is None or not p.rps:
        return None, "no capacity level measured"
    if p.ttft_p95_s is None or p.itl_p95_s is None:
        return None, f"no TTFT/ITL p95 at {p.label}"
    out = p.output_tps / p.rps
    decode = max(out - 1.0, 0.0) * p.itl_p95_s
    total = decode + p.ttft_p95_s
    if total <= 0:
        return None, f"no request time at {p.label}"
    share = decode / total
    return share, (
        f"from TTFT p95 {p.ttft_p95_s * 1e3:.0f} ms, ITL p95 {p.itl_p95_s * 1e3:.1f} ms × "
        f"{out - 1:.0f} tok at {p.label}"
    )


def projected(
    cap: Capacity, from_gpu: str, to_gpu: str, precision: str, share: float, share_basis: str
) -> Capacity:
    """The measured capacity scaled by the roofline factor, its source the projection's basis."""
    proj = project(cap.rps or 0.0, from_gpu, to_gpu, precision, share)
    f = proj.factor
    return replace(
        cap,
        rps=proj.rps,
        output_tps=None if cap.output_tps is None else cap.output_tps * f,
        input_tps=None if cap.input_tps is None else cap.input_tps * f,
        p95_s=None,
        source=f"{proj.basis} ({share_basis})",
        bracket=None,
        bracket_why="",
        breach_at="",
    )


def _model(evidence: Evidence, e: Endpoint) -> str:
    ep = evidence.eps[e.name]
    return ep.model or e.model or (e.simulate.model if e.simulate else "")


def kv_dtype(evidence: Evidence, e: Endpoint) -> str:
    """The KV-cache dtype the server states, else the simulator's, else the model's ("auto")."""
    stated = evidence.eps[e.name].server.get("kv_cache_dtype")
    if stated:
        return str(stated)
    return e.simulate.kv_cache_dtype if e.simulate is not None else "auto"


def _fit(evidence: Evidence, name: str, on: OnGpu, gpus: int, measured_cap: Capacity) -> OnGpu:
    e = next(x for x in evidence.profile.endpoints if x.name == name)
    if on.gpu not in gpu_specs():
        return replace(on, fit_reason=f"GPU {on.gpu} is not in qtui/data/gpus.toml")
    shape = shape_for(_model(evidence, e))
    if shape is None:
        return replace(on, fit_reason="model not in qtui/data/models.toml")
    stated = evidence.eps[name].weights
    w = recorded_weights([{"kind": "launch", "key": "weights", "value": stated}], name) or weights(
        shape, e.precision
    )
    if w.bytes is None:
        return replace(on, fit_reason=w.basis)
    conc = slo_concurrency(measured_cap, evidence.points(name))
    if conc is None:
        return replace(on, fit_reason="no concurrency measured at the SLO")
    wl = evidence.profile.workload
    ctx = workload_context(wl.mean_input_tokens, wl.output_tokens.mean)
    kv = kv_bytes_needed(shape, conc, ctx.tokens, kv_dtype(evidence, e))
    fraction, _ = memory_fraction(e)
    return replace(on, fit=fit(on.gpu, w.bytes, kv, fraction, gpus=gpus))


def on_gpu(
    evidence: Evidence,
    name: str,
    gpu: str,
    gpus: int = 1,
    caps: Mapping[str, Capacity] | None = None,
) -> OnGpu:
    """The endpoint's precision on ``gpu``: measured there (this endpoint or another of the same
    precision) wins; else projected from where it was measured; then the fit check, and a
    precision that does not fit has no capacity there. ``caps``: every endpoint's measured
    capacity, when the caller has them already."""
    profile = evidence.profile
    e = next(x for x in profile.endpoints if x.name == name)
    measured = (
        caps if caps is not None else {x.name: evidence.capacity(x.name) for x in profile.endpoints}
    )
    cap = measured[name]
    specs = gpu_specs()
    same = [x for x in profile.endpoints if x.gpu == gpu and x.precision == e.precision]
    if e.gpu == gpu:
        on = OnGpu(gpu, cap, True, f"measured on {gpu}")
    elif any(measured[x.name].usable for x in same):
        x = next(x for x in same if measured[x.name].usable)
        on = OnGpu(gpu, measured[x.name], True, f"measured on {gpu} ({x.name})")
    elif gpu not in specs or e.gpu not in specs:
        unknown = gpu if gpu not in specs else e.gpu
        why = f"GPU {unknown} is not in qtui/data/gpus.toml"
        on = OnGpu(gpu, Capacity.none(f"cannot project from {e.gpu}", why), False,
                   f"not projected from {e.gpu} ({why})")  # fmt: skip
    elif not (fb := fp8_fallback(specs[gpu], e.precision))[0]:
        on = OnGpu(gpu, Capacity.none(f"{NOT_SUPPORTED} on {gpu}", fb[1]), False,
                   f"not projected from {e.gpu} ({fb[1]})")  # fmt: skip
    elif not cap.usable:
        on = OnGpu(gpu, cap, False, f"not projected from {e.gpu} ({cap.reason})")
    else:
        share, why = decode_share(cap, evidence.points(name))
        if share is None:
            none = Capacity.none(f"cannot project from {e.gpu}", why)
            on = OnGpu(gpu, none, False, f"not projected from {e.gpu} ({why})")
        else:
            pc = projected(cap, e.gpu, gpu, e.precision, share, why)
            on = OnGpu(gpu, pc, False, pc.source)
    on = _fit(evidence, name, on, gpus, cap)
    if on.fit is not None and not on.fit.fits and not on.measured:  # measured wins
        return replace(on, capacity=Capacity.none(f"{DOES_NOT_FIT} on {gpu}", on.fit.text))
    return on
