"""What the app shows, as plain frozen dataclasses: one snapshot per refresh, no widgets, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from qtui.evidence.memory import Memory

Status = Literal["ok", "starting", "dead"]
Verdict = Literal["go", "no-go", "not-decided", "n/a"]  # n/a: no quality run yet
Mode = Literal["concurrency", "rate", "sweep"]
MODES: tuple[Mode, ...] = ("concurrency", "rate", "sweep")
CATEGORIES: tuple[str, ...] = ("on-demand", "spot", "committed")


@dataclass(frozen=True, slots=True)
class Latency:
    """p50/p95 of one latency (seconds) against its p95 SLO (ms), over the last ``window_s``
    seconds of finished requests (None: the server's histograms)."""

    p50_s: float | None = None
    p95_s: float | None = None
    slo_ms: float | None = None
    window_s: float | None = None

    @property
    def breached(self) -> bool:
        return self.p95_s is not None and self.slo_ms is not None and self.p95_s * 1e3 > self.slo_ms


@dataclass(frozen=True, slots=True)
class GpuMem:
    """GPU memory of the endpoint's GPU(s), bytes; None where the source cannot say."""

    used: float | None = None
    total: float | None = None
    reserved: float | None = None
    source: str = "none"
    detail: str = ""
    shared: bool = False  # a GPU several endpoints' servers share: ``used`` is this server's own


@dataclass(frozen=True, slots=True)
class QualityView:
    """Golden-set outcome for one endpoint."""

    score: float | None = None
    verdict: Verdict = "n/a"
    reason: str = "no quality run yet"
    items: int = 0
    words: str = "NOT DECIDED (not measured)"  # the verdict as the record says it
    undecided: str = ""  # why NOT DECIDED: not measured, no floor set, not enough items
    success_ci: tuple[float, float] | None = None  # 95% Wilson interval of the success rate
    drop_pts: float | None = None  # paired drop vs the baseline, points (None: the baseline)
    drop_ci_pts: tuple[float, float] | None = None  # its 95% interval, points
    flip_rate: float | None = None  # outputs differing from the baseline's, fraction
    kl: float | None = None  # mean top-k KL vs the baseline, nats per token
    noise_words: str = ""  # within / N % beyond the noise floor / noise floor unknown
    noise: str = ""  # the whole line: flips and KL next to the baseline's own (the record's)
    by_tag: tuple[tuple[str, str, str], ...] = ()  # (tag, verdict words, reason) per tag


@dataclass(frozen=True, slots=True)
class CostView:
    """Cost what-if state and results for one endpoint; ``reason`` says why a number is missing."""

    gpu: str = ""
    gpus_per_replica: int = 1
    price_table: str = ""
    category: str = "on-demand"
    committed_discount_pct: float = 0.0
    region: str | None = None  # chosen in the what-if; None: the cheapest row in any region
    priced_region: str = ""  # the region of the row the price comes from
    regions: tuple[str, ...] = ()  # regions the table prices this GPU in, in this category
    own_price: bool = False  # the user typed the $/GPU-hour
    price_label: str = ""  # where the $/GPU-hour comes from (table, instance, as-of)
    usd_per_gpu_hour: float | None = None
    replicas: int | None = None
    replicas_auto: bool = True
    replicas_needed: int | None = None
    usd_per_1m: float | None = None
    # the record's comparison columns (qtui.cost.compare): at the capacity, per replica
    p95_at_capacity_s: float | None = None
    output_tps_per_replica: float | None = None
    monthly_usd: float | None = None
    delta_monthly_usd: float | None = None
    delta_pct: float | None = None
    reason: str = ""
    price_reason: str = ""  # why there is no $/GPU-hour
    monthly_reason: str = ""  # why there is no monthly cost
    warning: str = ""
    vs_baseline: str = ""  # Δ $/1M output, break-even traffic, quality delta; "" for the baseline
    usd_per_1m_input: float | None = None
    usd_per_1m_blended: float | None = None  # at the measured input:output mix
    usd_per_request: float | None = None
    unit_costs: str = ""  # those three as text, each with its unit or the reason it is missing
    energy_month_usd: float | None = None  # electricity at measured power; not in monthly_usd
    energy_month: str = ""  # as text with its unit, or why there is none
    energy_power: str = ""  # the measured power and its basis: "586 W/GPU at load level 16"
    energy_basis: str = ""  # that power and the arithmetic behind the energy cost


@dataclass(frozen=True, slots=True)
class SweepPoint:
    """One sweep level's outcome: the capacity curve."""

    level: float
    out_tps: float
    e2e_p95_s: float | None
    ok: bool


@dataclass(frozen=True, slots=True)
class History:
    """Recent per-second series for sparklines and charts (oldest first)."""

    t: tuple[float, ...] = ()
    out_tps: tuple[float, ...] = ()
    rps: tuple[float, ...] = ()
    ttft_p50_s: tuple[float, ...] = ()
    ttft_p95_s: tuple[float, ...] = ()
    itl_p95_s: tuple[float, ...] = ()
    e2e_p95_s: tuple[float, ...] = ()


@dataclass(frozen=True, slots=True)
class EndpointView:
    """Everything one endpoint column shows."""

    name: str
    precision: str
    model: str = ""
    simulated: bool = False
    baseline: bool = False
    status: Status = "starting"
    reason: str = ""
    gpu_mem: GpuMem = GpuMem()
    kv_usage: float | None = None
    # the server's prefix-cache hit rate this second; None unless the workload shares prefixes
    prefix_hit: float | None = None
    memory: Memory | None = None  # weights (estimated) and the KV cache the server states
    peak_kv_usage: float | None = None  # highest KV-cache use (0-1) the server reported so far
    preemptions: float | None = None  # vllm:num_preemptions_total so far (None: not reported)
    running: int | None = None
    waiting: int | None = None
    server_metrics: bool = True  # False: the server has no /metrics (KV and queue unknown)
    out_tps: float | None = None
    rps: float | None = None
    ttft: Latency = Latency()
    itl: Latency = Latency()
    e2e: Latency = Latency()
    error_rate: float | None = None
    # requests open at a stop and partial tokens (qtui.evidence.accounting words), users waiting
    # after consecutive failures of this endpoint (qtui.load.backoff)
    stopped: str = ""
    partial_tokens: int = 0
    backing_off: str = ""
    outage: str = ""  # the latest span of only errors: 'down 12 s', 'outage 12.3 s at 14:02:03'
    quality: QualityView = QualityView()
    cost: CostView = CostView()
    energy: Energy = field(default_factory=lambda: Energy())
    history: History = History()
    sweep: tuple[SweepPoint, ...] = ()
    go: bool = False  # the decision's GO for this precision (qtui.decision)
    verdict: str = ""  # the decision's words: GO, NO-GO, NOT DECIDED (why)
    decision: str = ""  # the decision's status: go, no-go, not-decided ("" from a feed without one)
    undecided: str = ""  # why NOT DECIDED: not measured, no floor set, not enough items
    go_reasons: tuple[str, ...] = ()
    capacity: str = ""  # qtui.evidence.capacity.capacity_text: the same words as the record
    knee: float | None = None  # the capacity's load level (a sweep's passing side): charts mark it
    fit: str = ""  # the fit check on the GPU priced (qtui.decision.gpus), as the record says it


@dataclass(frozen=True, slots=True)
class Energy:
    """Energy per 1M output tokens over the last minute, from the GPU energy counter."""

    kwh_per_1m: float | None = None
    usd_per_1m: float | None = None
    reason: str = "no energy counter"


@dataclass(frozen=True, slots=True)
class ReplayView:
    """Where a replay is in its recording."""

    position_s: float = 0.0
    duration_s: float = 0.0
    speed: float = 1.0
    playing: bool = True


@dataclass(frozen=True, slots=True)
class RunView:
    """The load run and the app's source, for the status line."""

    source: Literal["live", "replay", "fake"] = "live"
    profile: str = ""
    mode: Mode = "concurrency"
    level: float = 1.0
    running: bool = False
    elapsed_s: float = 0.0
    requests_sent: int = 0
    workload: str = "synthetic"
    workloads: tuple[str, ...] = ("synthetic",)
    client_bound: str = ""
    message: str = ""
    quality_running: bool = False
    replay: ReplayView | None = None
    search: str = ""  # a knee search running: level, bracket, step k of at most n (status line)

    @property
    def level_unit(self) -> str:
        return "req/s" if self.mode == "rate" else "users"


@dataclass(frozen=True, slots=True)
class CostInputs:
    """Assumptions shared by every endpoint's cost."""

    traffic_rps: float | None = None
    hours_per_month: float = 730.0
    headroom: float = 1.2
    price_tables: tuple[str, ...] = ()
    gpu_types: tuple[str, ...] = ()
    table_sources: tuple[str, ...] = ()  # "name: provider, source, as of date" per table in use


@dataclass(frozen=True, slots=True)
class GpuOptionView:
    """One row of "cheapest GPU per precision" (qtui.decision.cheapest), as text with units."""

    endpoint: str
    precision: str
    gpu: str
    measured: bool
    how: str  # "measured" or "projected from H100: …" (or why there is no capacity)
    capacity: str  # capacity_text: the record's words
    replicas: str
    monthly_usd: float | None
    monthly: str  # "$7,514/month" or why there is none
    fits: bool | None
    fit: str  # "needs 5.0 GiB, L4 has 22.4 × 0.9 = 20.1 GiB" or why unknown


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One consistent picture of everything; ``seq`` grows whenever anything in it changed."""

    seq: int
    run: RunView
    endpoints: tuple[EndpointView, ...]
    cost: CostInputs = CostInputs()
    slo_error_rate: float = 0.01
    notes: tuple[str, ...] = field(default=())
    recommended: str | None = None  # the decision's recommendation (qtui.decision.recommend)
    recommendation: str = ""  # why, in the decision record's words
    savings_month_usd: float | None = None  # its saving against the baseline, $/month
    gpu_options: tuple[GpuOptionView, ...] = ()  # cheapest GPU per precision, cheapest first
    noise_floor: str = ""  # the baseline's self-flip rate and self-KL (qtui.quality.noise)

    def endpoint(self, name: str) -> EndpointView:
        return next(e for e in self.endpoints if e.name == name)


def baseline_first(endpoints: list[EndpointView]) -> tuple[EndpointView, ...]:
    """Order columns: the baseline first, the rest as the profile lists them."""
    return tuple(sorted(endpoints, key=lambda e: not e.baseline))
