"""The typed records every part of qtui exchanges: what a source measured, before any derivation.

One request as the client saw it (`RequestRecord`), a client interval's statistics (`Stats`), a
server's view over a scrape window (`ServerSecond`), GPU telemetry (`GpuSample`, `ProcessSample`,
`GpuSnapshot`) and one golden item answered (`QualityRecord`). Sources (client, metrics, gpu,
quality runner) build them; the session journal stores their dicts; the accumulators in this
package derive evidence from them. Data shapes only: no I/O, no numpy.

Request latencies follow `vllm bench serve` so qtui and the peer agree
(vllm/benchmarks/lib/endpoint_request_func.py and vllm/benchmarks/serve.py::calculate_metrics):
- a *token chunk* is an SSE event whose first choice carries non-empty `text` (completions) or
  `delta.content` (chat); the trailing usage event, `[DONE]`, chat role-only chunks and empty
  finish-only chunks (llama.cpp) are not; chunk_times holds their arrival offsets from t_send.
- TTFT = first token chunk − send; ITL = gaps between consecutive token chunks (one value per
  gap, pooled over requests); e2e latency = last token chunk − send;
- TPOT = (e2e − TTFT) / (completion_tokens − 1), only when completion_tokens > 1.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from itertools import pairwise
from typing import Any, Literal

Phase = Literal["warmup", "measure", "cooldown"]
ErrorClass = Literal[
    "none", "connect", "timeout", "http", "malformed", "disconnect", "stall", "cancelled"
]  # fmt: skip
# stall: an open stream that received no byte for the client's stall_timeout_s after its first
# token chunk (qtui.client.stream); the wait for the first token has its own limit (timeout)
ERROR_CLASSES: tuple[ErrorClass, ...] = (
    "connect", "timeout", "http", "malformed", "disconnect", "stall", "cancelled",
)  # fmt: skip


@dataclass(slots=True)
class RequestRecord:
    """One request as the client saw it; times are time.time() seconds, offsets in seconds."""

    endpoint: str
    request_id: str
    phase: Phase = "measure"
    level: float = 0.0
    t_send: float = 0.0
    t_first_token: float | None = None
    t_end: float = 0.0
    chunk_times: list[float] = field(default_factory=list)
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    usage_source: Literal["server", "counted"] = "server"
    finish_reason: str | None = None
    error_class: ErrorClass = "none"
    error_detail: str = ""
    http_status: int | None = None
    turn: int = 0  # position in its conversation (1 = first turn); 0: not a conversation turn
    conversation: int = 0  # its conversation's id (the request number of the first turn)
    # UTF-8 bytes of the text its token chunks carried (None: not measured, as before 2026-12-04)
    text_bytes: int | None = None

    @property
    def ok(self) -> bool:
        return self.error_class == "none"

    @property
    def ttft(self) -> float | None:
        return self.chunk_times[0] if self.chunk_times else None

    @property
    def e2e(self) -> float | None:
        return self.chunk_times[-1] if self.chunk_times else None

    @property
    def tpot(self) -> float | None:
        n = self.completion_tokens or 0
        if n <= 1 or not self.chunk_times:
            return None
        return (self.chunk_times[-1] - self.chunk_times[0]) / (n - 1)

    def itl(self) -> list[float]:
        c = self.chunk_times
        return [b - a for a, b in pairwise(c)]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


PERCENTILES = (50, 90, 95, 99)
METRICS = ("ttft", "itl", "tpot", "e2e")


@dataclass(slots=True)
class LatencyStats:
    """Percentiles (s) of one latency over a set of requests; None when there is no sample."""

    n: int = 0
    mean: float | None = None
    p50: float | None = None
    p90: float | None = None
    p95: float | None = None
    p99: float | None = None


@dataclass(slots=True)
class Stats:
    """Throughput, latency percentiles and errors over one interval (a window, a level, a run).

    Requests count once, in the interval where they ended; `requests` counts successes,
    `errors` failures by class (cancelled requests are ours, so they are not errors).
    """

    endpoint: str
    t: float  # interval end
    duration_s: float
    requests: int = 0
    rps: float = 0.0
    in_tps: float = 0.0
    out_tps: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    ttft: LatencyStats = field(default_factory=LatencyStats)
    itl: LatencyStats = field(default_factory=LatencyStats)
    tpot: LatencyStats = field(default_factory=LatencyStats)
    e2e: LatencyStats = field(default_factory=LatencyStats)
    errors: dict[str, int] = field(default_factory=dict)
    cancelled: int = 0
    error_rate: float = 0.0
    in_flight: int = 0
    chunks_per_s: float = 0.0
    counted_usage: int = 0  # successes whose tokens were counted, not reported by the server
    # of the cancelled: silent for SILENT_AT_STOP_S or more when stopped (qtui.evidence.accounting)
    silent_at_stop: int = 0
    silent_max_s: float = 0.0
    partial_tokens: int = 0  # token chunks of requests that failed or were silent at stop
    # output tokens of requests that failed in this interval beyond what it delivered: counted
    # as throughput in earlier seconds, as they streamed; a run's rate takes them out again
    unpaid_tokens: float = 0.0
    backing_off: int = 0  # users (closed loop; open loop: 1 while arrivals are held) backing off
    # a live second of a measured step: in its warm-up, measured, or in its cool-down (only
    # "measure" seconds are a held level's evidence, as only measure-phase requests are)
    phase: Phase = "measure"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def flat(self) -> dict[str, Any]:
        """The `client_second` shape: ttft_p50 ... e2e_p99 (s), errors as err_<class>."""
        out: dict[str, Any] = {
            k: getattr(self, k)
            for k in ("endpoint", "t", "duration_s", "requests", "rps", "in_tps", "out_tps",
                      "prompt_tokens", "completion_tokens", "error_rate", "in_flight",
                      "chunks_per_s", "cancelled", "counted_usage", "silent_at_stop",
                      "silent_max_s", "partial_tokens", "unpaid_tokens", "backing_off",
                      "phase")
        }  # fmt: skip
        for m in METRICS:
            ls: LatencyStats = getattr(self, m)
            for p in PERCENTILES:
                out[f"{m}_p{p}"] = getattr(ls, f"p{p}")
        for c in ERROR_CLASSES:
            if c != "cancelled":
                out[f"err_{c}"] = self.errors.get(c, 0)
        return out


ScrapeStatus = Literal["ok", "not_exposed", "unreachable", "garbage"]


@dataclass(frozen=True, slots=True)
class ServerSecond:
    """The `server_second` record: one endpoint's server view over one scrape window."""

    endpoint: str
    t: float
    status: ScrapeStatus
    detail: str = ""
    running: float | None = None
    waiting: float | None = None
    kv_cache_usage: float | None = None
    preemptions_per_s: float | None = None
    prompt_tps: float | None = None
    generation_tps: float | None = None
    prefix_cache_hit_rate: float | None = None
    ttft_p50: float | None = None
    ttft_p95: float | None = None
    itl_p50: float | None = None
    itl_p95: float | None = None
    e2e_p50: float | None = None
    e2e_p95: float | None = None
    queue_p50: float | None = None
    queue_p95: float | None = None
    # the server's KV cache as it states it (vLLM `vllm:cache_config_info`); None: not stated
    kv_cache_tokens: int | None = None  # KV cache size in tokens
    kv_cache_bytes: int | None = None  # memory given to the KV cache
    kv_cache_dtype: str | None = None  # "auto" = the model's dtype
    kv_blocks: int | None = None  # GPU KV blocks
    kv_block_size: int | None = None  # tokens per block
    kv_max_concurrency: float | None = None  # requests of max_model_len tokens that fit

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# Whole-source states a user must be able to tell apart (one line of detail each).
TelemetryStatus = Literal[
    "ok",  # every GPU sampled
    "gpu_lost",  # at least one GPU fell off the bus / errors; the others are still sampled
    "no_driver",  # no NVIDIA driver (libnvidia-ml missing or kernel module not loaded)
    "no_gpu",  # NVML works but sees no GPU
    "unreachable",  # remote exporter did not answer (connect error, timeout, HTTP error)
    "not_prometheus",  # remote URL answered, but not with DCGM / nvitop Prometheus metrics
    "no_telemetry",  # endpoint has telemetry="none" (e.g. a CPU engine): nothing to sample
    "error",  # anything else (permissions, driver/library mismatch...), detail says what
]
GpuState = Literal["ok", "lost", "error"]
SourceKind = Literal["nvml", "dcgm", "nvitop", "none"]
MemoryQuery = Literal["v2", "v1", "exporter"]

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class GpuSample:
    """One GPU at one instant; a None field has its reason in ``na``."""

    gpu: int
    uuid: str | None = None
    name: str | None = None
    host: str | None = None
    endpoint: str | None = None
    state: GpuState = "ok"
    detail: str = ""
    memory_total: int | None = None  # bytes
    memory_used: int | None = None  # bytes, excluding driver-reserved memory where known
    memory_reserved: int | None = None  # bytes reserved by the driver/firmware
    memory_query: MemoryQuery | None = None  # which query produced the memory figures
    util: float | None = None  # %
    power_w: float | None = None
    power_limit_w: float | None = None
    energy_j: float | None = None  # total energy counter (since driver load), joules
    temperature_c: float | None = None
    sm_clock_mhz: float | None = None
    mem_clock_mhz: float | None = None
    na: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ProcessSample:
    """GPU memory held by one compute process on one GPU."""

    pid: int
    gpu: int
    used_memory: int | None  # bytes; None when the driver cannot say (e.g. WDDM, no permission)
    endpoint: str | None = None
    uuid: str | None = None
    host: str | None = None


@dataclass(frozen=True, slots=True)
class GpuSnapshot:
    """What one source saw at time ``t`` (wall clock, s)."""

    source: SourceKind
    t: float
    status: TelemetryStatus
    detail: str = ""
    gpus: tuple[GpuSample, ...] = ()
    processes: tuple[ProcessSample, ...] = ()

    def for_endpoint(self, endpoint: str) -> tuple[list[GpuSample], list[ProcessSample]]:
        """The GPUs and processes attributed to one endpoint."""
        gpus = [g for g in self.gpus if g.endpoint == endpoint]
        procs = [p for p in self.processes if p.endpoint == endpoint]
        return gpus, procs


def gpu_records(snap: GpuSnapshot) -> list[dict[str, Any]]:
    """``gpu_sample`` journal records (docs/architecture.md); a GPU-less state is one record."""
    if not snap.gpus:
        return [
            {
                "source": snap.source,
                "endpoint": None,
                "gpu": None,
                "uuid": None,
                "name": None,
                "t": snap.t,
                "memory_total": None,
                "memory_used": None,
                "memory_reserved": None,
                "util": None,
                "power_w": None,
                "energy_j": None,
                "temperature_c": None,
                "state": snap.status,
                "detail": snap.detail,
            }
        ]
    return [
        {
            "source": snap.source,
            "endpoint": g.endpoint,
            "gpu": g.gpu,
            "uuid": g.uuid,
            "name": g.name,
            "t": snap.t,
            "memory_total": g.memory_total,
            "memory_used": g.memory_used,
            "memory_reserved": g.memory_reserved,
            "util": g.util,
            "power_w": g.power_w,
            "energy_j": g.energy_j,
            "temperature_c": g.temperature_c,
            "state": g.state,
            "detail": g.detail or _na_detail(g),
        }
        for g in snap.gpus
    ]


def _na_detail(g: GpuSample) -> str:
    return "; ".join(f"{k}: {v}" for k, v in sorted(g.na.items()))


Reason = Literal["ok", "wrong", "schema_failure", "refusal", "error", "truncated"]
REASONS: tuple[Reason, ...] = ("ok", "wrong", "schema_failure", "refusal", "error", "truncated")


@dataclass(frozen=True)
class QualityRecord:
    """What the session journal stores per item and endpoint (docs/architecture.md)."""

    endpoint: str
    item_id: str
    passed: bool
    reason: Reason
    latency_s: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    retries: int = 0
    output_text: str | None = None
    tokens: list[str] = field(default_factory=list)
    top_logprobs: list[dict[str, float]] = field(default_factory=list)
    # beyond the minimal shape: what the scores and the report need without the golden file
    finish_reason: str | None = None
    check: str = ""
    tags: list[str] = field(default_factory=list)
    detail: str = ""
    t: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with kind "quality_item"."""
        return {"kind": "quality_item", **asdict(self)}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> QualityRecord:
        """Rebuild from a journal dict, ignoring unknown keys (older/newer writers)."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in raw.items() if k in known}
        if values.get("reason") not in REASONS:
            values["reason"] = "error"
        return cls(**values)

    @property
    def answered(self) -> bool:
        """A response came back (the item counts towards the success rate)."""
        return self.reason != "error"


@dataclass(frozen=True, slots=True)
class Event:
    """The `event` record: something that happened (a load change, a warning, an error, a note).

    ``kind`` groups it (``load``, ``error``, ``whatif``...), ``key`` names it within the kind,
    ``value`` is its JSON-ready payload and ``previous`` what it replaced, where that applies.
    """

    t: float
    kind: str
    key: str
    value: Any = None
    previous: Any = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
