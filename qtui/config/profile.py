"""The profile: which endpoints to compare, under what load, against which SLOs and prices.

Pure schema (pydantic, no I/O). Unknown keys are errors, not silently ignored.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from qtui.data import gpu_specs, model_shapes

Precision = Annotated[str, Field(min_length=1, max_length=32)]
KNOWN_PRECISIONS = (
    "fp32", "bf16", "fp16", "fp8", "int8", "w8a8", "int4", "int4-awq", "int4-gptq", "awq",
    "gptq", "nf4", "bnb-4bit", "q8_0", "q4_1", "q4_k_m", "q3_k_m", "q2_k",
)  # fmt: skip


class Strict(BaseModel):
    """Base: unknown keys are errors; values are validated on assignment too."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)


def _check_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError(f"expected a URL starting with http:// or https://, got {value!r}")
    if len(value.split("://", 1)[1].strip("/")) == 0:
        raise ValueError(f"URL {value!r} has no host")
    return value.rstrip("/")


def _check_gpu(value: str) -> str:
    if value not in gpu_specs() and value != "cpu":
        known = ", ".join([*gpu_specs(), "cpu"])
        raise ValueError(f"unknown GPU type {value!r} (not in qtui/data/gpus.toml); known: {known}")
    return value


class SimSpec(Strict):
    """How the built-in simulator should model this endpoint (simulated profiles only)."""

    model: str = Field(description="model shape key from qtui/data/models.toml")
    weights: Literal["bf16", "fp16", "fp8", "int8", "int4"] = "bf16"
    kv_cache_dtype: Literal["bf16", "fp16", "fp8"] = "bf16"
    gpu_memory_utilization: float = Field(0.9, gt=0, le=1)
    quality_error_rate: float = Field(0.0, ge=0, le=1)
    logprob_noise: float = Field(0.0, ge=0, le=5)
    # batch-dependent numerics: how often a right answer comes back reworded (still right) on
    # one ask; the baseline asked twice then disagrees with itself (docs/simulator.md)
    self_flip_rate: float = Field(0.0, ge=0, le=1)
    port: int | None = Field(None, ge=1, le=65535)

    @field_validator("model")
    @classmethod
    def _known_model(cls, v: str) -> str:
        if v not in model_shapes():
            raise ValueError(f"unknown model {v!r}; known: {', '.join(model_shapes())}")
        return v


class LaunchSpec(Strict):
    """How `qtui run --launch` starts this endpoint with `vllm serve`."""

    model: str = Field(description="model path or hub id passed to vllm serve")
    args: list[str] = Field(default_factory=list, description="more `vllm serve` arguments")
    gpu_index: int = Field(0, ge=0, description="the GPU it runs on (CUDA_VISIBLE_DEVICES)")
    gpu_memory_utilization: float = Field(0.3, gt=0, le=1)
    port: int = Field(8000, ge=1, le=65535)
    executable: str = Field("vllm", min_length=1, description="the vllm command (name or path)")
    ready_timeout_s: float = Field(900.0, gt=0, le=7200, description="wait this long for /health")


class Endpoint(Strict):
    """One server (or replica group) serving the model at one precision."""

    name: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.\-]+$")
    url: str = ""
    precision: Precision
    model: str | None = Field(None, description="served model id; discovered when omitted")
    gpu: str = "H100"
    gpus_per_replica: int = Field(1, ge=1, le=64)
    api_key_env: str | None = Field(None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    metrics_url: str | None = None
    telemetry: Literal["none", "nvml", "dcgm", "auto"] = "auto"
    telemetry_url: str | None = None
    gpu_indices: list[int] = Field(default_factory=list)
    price_table: str | None = None
    pricing: Literal["on-demand", "spot", "committed"] | None = None
    replicas: int | Literal["auto"] = "auto"
    simulate: SimSpec | None = None
    launch: LaunchSpec | None = None

    @field_validator("url", "metrics_url", "telemetry_url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        return v if v is None or v == "" else _check_url(v)

    @field_validator("gpu")
    @classmethod
    def _gpu(cls, v: str) -> str:
        return _check_gpu(v)

    @field_validator("replicas")
    @classmethod
    def _replicas(cls, v: int | str) -> int | str:
        if isinstance(v, int) and v < 1:
            raise ValueError('replicas must be at least 1 (or "auto")')
        return v

    @model_validator(mode="after")
    def _has_target(self) -> Endpoint:
        if not self.url and self.simulate is None and self.launch is None:
            raise ValueError("needs a url (or a [simulate] / [launch] table)")
        return self

    @property
    def effective_metrics_url(self) -> str:
        return self.metrics_url or f"{self.url}/metrics"


class LengthDist(Strict):
    """A token-length distribution for synthetic prompts."""

    mean: int = Field(ge=1, le=1_000_000)
    dist: Literal["fixed", "uniform", "normal"] = "fixed"
    spread: float = Field(0.0, ge=0, description="uniform: ± fraction of mean; normal: stddev")


class Workload(Strict):
    """What requests look like."""

    kind: Literal["synthetic", "jsonl", "golden", "trace", "sharegpt"] = "synthetic"
    api: Literal["completions", "chat"] = "completions"
    input_tokens: LengthDist = LengthDist(mean=512)
    output_tokens: LengthDist = LengthDist(mean=128)
    prompts_file: str | None = None
    golden_set: str | None = None
    seed: int = 0
    trace_file: str | None = Field(
        None, description="kind = trace: JSONL of timed requests (qtui's or Mooncake's format)"
    )
    speed: float = Field(1.0, gt=0, le=1e6, description="trace time scale: 2.0 = twice as fast")
    rate_scale: float = Field(
        1.0,
        gt=0,
        le=1000,
        description="trace request-rate multiplier over the same span: 0.5 keeps half the "
        "requests, 2.0 sends each twice (seeded by seed; see docs/workloads.md)",
    )
    trace_block_size: int = Field(
        512, ge=1, le=1_000_000, description="tokens per hash id of a trace (Mooncake: 512)"
    )
    prefix_count: int = Field(
        0, ge=0, le=1_000_000, description="synthetic: K shared prefixes (0 = every prompt unique)"
    )
    prefix_tokens: int = Field(
        0,
        ge=0,
        le=1_000_000,
        description="synthetic: P tokens per shared prefix, before the suffix",
    )
    turns: int = Field(
        1,
        ge=1,
        le=1000,
        description="user turns per conversation, each resending the history (chat API); "
        "sharegpt: at most this many of each conversation",
    )
    think_time_s: float = Field(
        0.0, ge=0, le=3600, description="multi-turn: pause between an answer and the next turn"
    )
    think_dist: Literal["fixed", "exponential"] = Field(
        "fixed", description="multi-turn: think time fixed, or exponential with that mean"
    )
    conversations_file: str | None = Field(
        None, description="kind = sharegpt: ShareGPT JSON/JSONL conversations (human turns sent)"
    )
    answer_lengths: Literal["recorded", "fixed"] = Field(
        "recorded",
        description="kind = sharegpt: output length per turn from the recorded answer "
        "(characters / 4), or output_tokens",
    )

    @property
    def mean_input_tokens(self) -> float:
        """A synthetic request's mean prompt length as the profile states it: the shared prefix
        (when set) and the input; in a conversation of N turns also the history turn k resends,
        (k - 1) × (input + output), so the mean over the turns adds (N - 1) / 2 × (in + out).
        Other kinds: the input mean (their files' lengths are measured, not stated)."""
        n_in = float(self.input_tokens.mean)
        if self.kind != "synthetic":
            return n_in
        shared = float(self.prefix_tokens) if self.prefix_count > 0 else 0.0
        history = (self.turns - 1) / 2 * (n_in + self.output_tokens.mean)
        return shared + n_in + history

    @property
    def multi_turn(self) -> bool:
        """Requests are turns of conversations (each resends the history), not single prompts."""
        return self.kind == "sharegpt" or (self.kind == "synthetic" and self.turns > 1)

    @model_validator(mode="after")
    def _complete(self) -> Workload:
        if self.kind == "trace" and not self.trace_file:
            raise ValueError('kind = "trace" needs trace_file')
        if self.kind == "sharegpt" and not self.conversations_file:
            raise ValueError('kind = "sharegpt" needs conversations_file')
        if (self.multi_turn or self.turns > 1) and self.api != "chat":
            raise ValueError(
                'multi-turn conversations (turns > 1, kind = "sharegpt") need api = "chat": '
                "each turn resends the history as chat messages"
            )
        if self.turns > 1 and self.kind in ("jsonl", "golden", "trace"):
            raise ValueError(
                f'turns > 1 is for kind = "synthetic" or "sharegpt", not "{self.kind}"'
            )
        if self.prefix_count > 0 and self.prefix_tokens == 0:
            raise ValueError("prefix_count > 0 needs prefix_tokens (the shared length) > 0")
        return self


class Sweep(Strict):
    """Load levels tried one after another until an SLO breaks (``search = "levels"``), or a
    search for the highest load meeting every SLO to a stated precision (``search = "knee"``)."""

    levels: list[float] = Field(default_factory=lambda: [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0])
    step_duration_s: float = Field(20.0, gt=0, le=3600)
    search: Literal["levels", "knee"] = Field(
        "levels", description="levels: the fixed list; knee: bracket and narrow the SLO knee"
    )
    precision: float = Field(
        0.05, gt=0, le=0.5, description="knee: stop when the bracket is within ± this fraction"
    )
    max_steps: int = Field(12, ge=2, le=200, description="knee: at most this many steps")
    ramp: float = Field(2.0, gt=1, le=16, description="knee: × per step past the given levels")
    min_requests: int = Field(
        100, ge=20, le=1_000_000, description="knee: completed requests before a step is judged"
    )
    max_extend: float = Field(
        10.0, ge=1, le=1000, description="knee: a short step runs up to this × step_duration_s"
    )

    @field_validator("levels")
    @classmethod
    def _increasing(cls, v: list[float]) -> list[float]:
        if any(x <= 0 for x in v) or v != sorted(v):
            raise ValueError("levels must be positive and increasing")
        return v

    @model_validator(mode="after")
    def _has_levels(self) -> Sweep:
        if not self.levels and self.search == "levels":
            raise ValueError('levels must not be empty (or set search = "knee": it ramps)')
        return self


class Load(Strict):
    """How hard to push, and for how long."""

    mode: Literal["concurrency", "rate", "sweep"] = "concurrency"
    concurrency: int = Field(8, ge=1, le=100_000)
    rate: float = Field(4.0, gt=0, description="requests/s for open-loop mode")
    arrival: Literal["poisson", "constant"] = "poisson"
    sweep_by: Literal["concurrency", "rate"] = "concurrency"
    sweep: Sweep = Sweep()
    duration_s: float = Field(60.0, gt=0, le=7 * 86400)
    max_requests: int | None = Field(None, ge=1)
    warmup_s: float = Field(0.0, ge=0)
    cooldown_s: float = Field(0.0, ge=0)
    timeout_s: float = Field(120.0, gt=0)
    stall_timeout_s: float | None = Field(
        30.0, gt=0, description="no byte this long on an answering stream: error class 'stall'"
    )
    ttft_timeout_s: float | None = Field(
        None, gt=0, description="longest wait for the first token (default: timeout_s)"
    )
    processes: int | None = Field(
        None,
        ge=1,
        le=256,
        description="load worker processes (default: chosen from the load); with hosts = 'ray', "
        "Ray actors (default: one per Ray node)",
    )
    hosts: Literal["local", "ray"] = Field(
        "local", description="'ray': spread the load over a Ray cluster's nodes (qtui[ray])"
    )
    ray_address: str | None = Field(
        None, description="the Ray cluster to join (default: RAY_ADDRESS, else `ray start`'s)"
    )
    isolate: Literal["auto", "always", "never"] = Field(
        "auto",
        description="sweeps of endpoints sharing a GPU: auto = in turn (separate GPUs at once),"
        " always = every endpoint in turn, never = all at once",
    )


class QualityFloor(Strict):
    """The quality SLO. A limit left out is not set (None): with none set, no precision's
    quality can be decided, and qtui says how to set one (``qtui.quality.floor.FLOOR_HINT``)."""

    min_success: float | None = Field(None, ge=0, le=1, description="absolute success floor")
    max_drop_vs_baseline: float | None = Field(
        None, ge=0, le=1, description="fraction, 0.01 = 1 point"
    )
    max_schema_failure: float | None = Field(None, ge=0, le=1)
    min_items: int = Field(10, ge=1)

    @property
    def is_set(self) -> bool:
        """Some limit was given: there is something to decide against."""
        return any(
            v is not None
            for v in (self.min_success, self.max_drop_vs_baseline, self.max_schema_failure)
        )


class Slo(Strict):
    """Latency promises (p95) and the quality floor."""

    ttft_p95_ms: float | None = Field(None, gt=0)
    itl_p95_ms: float | None = Field(None, gt=0)
    e2e_p95_ms: float | None = Field(None, gt=0)
    max_error_rate: float = Field(0.01, ge=0, le=1)
    quality: QualityFloor = QualityFloor()


class Cost(Strict):
    """Cost assumptions: traffic, hours, prices."""

    price_table: str = "aws"
    pricing: Literal["on-demand", "spot", "committed"] = "on-demand"
    committed_discount_pct: float = Field(0.0, ge=0, lt=100)
    hours_per_month: float = Field(730.0, gt=0, le=744)
    headroom: float = Field(1.2, ge=1.0, le=10)
    peak_rps: float | None = Field(None, gt=0)
    daily_requests: float | None = Field(None, gt=0)
    peak_factor: float = Field(2.0, ge=1)
    energy_usd_per_kwh: float = Field(0.12, ge=0)
    grid_kg_co2_per_kwh: float | None = Field(None, ge=0)


class ProfileMeta(Strict):
    name: str
    description: str = ""
    baseline: str | None = Field(None, description="endpoint name of the reference precision")


class Profile(Strict):
    """A whole comparison setup, as read from profiles/*.toml."""

    profile: ProfileMeta
    endpoints: list[Endpoint] = Field(min_length=1)
    workload: Workload = Workload()
    load: Load = Load()
    slo: Slo = Slo()
    cost: Cost = Cost()

    @model_validator(mode="after")
    def _consistent(self) -> Profile:
        names = [e.name for e in self.endpoints]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate endpoint names: {', '.join(dupes)}")
        if self.profile.baseline is not None and self.profile.baseline not in names:
            raise ValueError(
                f"baseline {self.profile.baseline!r} is not an endpoint name ({', '.join(names)})"
            )
        return self

    @property
    def baseline(self) -> Endpoint:
        """The reference endpoint: the named baseline, else the first one."""
        name = self.profile.baseline or self.endpoints[0].name
        return next(e for e in self.endpoints if e.name == name)

    def endpoint(self, name: str) -> Endpoint:
        """The endpoint called ``name`` (KeyError when there is none)."""
        for e in self.endpoints:
            if e.name == name:
                return e
        raise KeyError(name)
