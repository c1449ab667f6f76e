"""The finance table: per endpoint, what it costs at the traffic target and against the baseline.

Pure: measurements (capacity, sweep curve, power, quality delta) and the what-if state go in;
rows of ``Figure`` cells come out, each with a unit or the reason it is missing. The TUI and the
report render these rows as they are; nothing downstream computes a number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from qtui.cost import formulas as f
from qtui.cost.breakeven import break_even
from qtui.cost.capacity import P95Estimate, expected_p95
from qtui.cost.figure import (
    PERCENT,
    POINTS,
    REPLICAS,
    RPS,
    SECONDS,
    TPS,
    USD_MONTH,
    USD_PER_GPU_HOUR,
    USD_PER_M_TOKENS,
    USD_PER_REQUEST,
    Figure,
)
from qtui.cost.prices import NoPrice, PriceQuote, TableInfo, table_info
from qtui.cost.whatif import WhatIf
from qtui.evidence.capacity import LOWER_BOUND, Capacity
from qtui.evidence.levels import LatencyMetric, LevelPoint

NO_TRAFFIC = "no traffic target (set cost.peak_rps or cost.daily_requests)"
NO_POWER = "no power reading"
NO_QUALITY = "no quality run yet"
BASELINE = "baseline"


@dataclass(frozen=True, slots=True)
class EndpointMeasure:
    """What was measured for one endpoint (the inputs other packages provide)."""

    name: str
    precision: str
    capacity: Capacity
    curve: tuple[LevelPoint, ...] = ()
    power_w_per_gpu: float | None = None
    power_basis: str = ""  # where the power comes from, e.g. "at load level 16"
    power_reason: str | None = None  # why there is no power reading (default NO_POWER)
    quality_delta_pp: float | None = None  # candidate − baseline, percentage points
    measured_gpu: str | None = None
    capacity_basis: str = ""  # "measured on H100" or "projected from H100: …" (qtui.decision.gpus)


SizingStatus = Literal["ok", "slo-breach", "no-headroom", "unknown"]


@dataclass(frozen=True, slots=True)
class Sizing:
    """Replicas priced, replicas the target needs, and what a hand-set shortfall means."""

    replicas: int | None
    needed: int | None
    mode: Literal["auto", "manual"]
    status: SizingStatus
    load_per_replica_rps: float | None = None
    expected_p95: P95Estimate | None = None
    text: str = ""
    within_bracket: tuple[int, int] | None = None  # replicas at the failing side … passing side


@dataclass(frozen=True, slots=True)
class FinanceRow:
    """One endpoint's line in the finance table."""

    name: str
    precision: str
    is_baseline: bool
    p95: Figure
    output_tps: Figure
    capacity_rps: Figure
    quality_delta: Figure
    usd_per_gpu_hour: Figure
    price_label: str
    usd_per_m_output: Figure
    usd_per_m_input: Figure
    usd_per_m_blended: Figure
    usd_per_request: Figure
    sizing: Sizing
    replicas: Figure
    monthly: Figure
    energy_month: Figure
    delta_month: Figure
    reduction_pct: Figure
    delta_per_m_output: Figure
    break_even: Figure

    def cells(self) -> dict[str, str]:
        """Column key → display text, in ``COLUMNS`` order."""
        return {c.key: _cell_text(self, c.key) for c in COLUMNS}

    def record(self) -> dict[str, Any]:
        """Every figure as {value, unit, text, reason}: what reports and session files keep."""
        out: dict[str, Any] = {"endpoint": self.name, "precision": self.precision}
        for key in _FIGURE_KEYS:
            fig: Figure = getattr(self, key)
            out[key] = {"value": fig.value, "unit": fig.unit, "text": fig.text, "note": fig.note}
            if fig.reason is not None:
                out[key]["reason"] = fig.reason
        out["price"] = self.price_label
        out["sizing"] = {
            "status": self.sizing.status,
            "mode": self.sizing.mode,
            "text": self.sizing.text,
        }
        return out


_FIGURE_KEYS = (
    "p95", "output_tps", "capacity_rps", "quality_delta", "usd_per_gpu_hour", "usd_per_m_output",
    "usd_per_m_input", "usd_per_m_blended", "usd_per_request", "replicas", "monthly",
    "energy_month", "delta_month", "reduction_pct", "delta_per_m_output", "break_even",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    header: str
    unit: str


COLUMNS = (
    Column("precision", "precision", ""),
    Column("p95", "p95 latency", SECONDS),
    Column("output_tps", "output tok/s per replica", TPS),
    Column("quality_delta", "quality vs baseline", POINTS),
    Column("usd_per_m_output", "$/1M output tokens", USD_PER_M_TOKENS),
    Column("monthly", "monthly cost", USD_MONTH),
    Column("reduction_pct", "reduction vs baseline", PERCENT),
    Column("replicas", "replicas", REPLICAS),
)


def _cell_text(row: FinanceRow, key: str) -> str:
    if key == "precision":
        return row.precision
    if key == "replicas":
        return row.sizing.text
    fig: Figure = getattr(row, key)
    return fig.text


@dataclass(frozen=True, slots=True)
class CostComparison:
    """The rows plus the assumptions they rest on (shown above the table)."""

    rows: tuple[FinanceRow, ...]
    baseline: str
    peak_rps: Figure
    headroom: float
    hours_per_month: float
    tables: tuple[TableInfo, ...]

    def row(self, name: str) -> FinanceRow:
        return next(r for r in self.rows if r.name == name)


def build_comparison(
    measures: Sequence[EndpointMeasure],
    whatif: WhatIf,
    baseline: str,
    input_per_output: float | None = None,
    latency: LatencyMetric = "e2e",
) -> CostComparison:
    """Finance rows for every measured endpoint, deltas against ``baseline``.

    ``input_per_output``: the workload's input tokens per output token (profile means); when
    None the measured input ÷ output tok/s at the capacity level is used.
    """
    peak = whatif.traffic.peak
    solo = [_own_figures(m, whatif, peak, input_per_output, latency) for m in measures]
    base = next((s for s in solo if s.measure.name == baseline), None)
    rows = tuple(_with_deltas(s, base, whatif) for s in solo)
    used = sorted({whatif.endpoints[m.name].price_table for m in measures})
    tables = tuple(table_info(n, whatif.tables[n]) for n in used if n in whatif.tables)
    peak_fig = Figure.of(peak, RPS) if peak is not None else Figure.missing(NO_TRAFFIC, RPS)
    return CostComparison(rows, baseline, peak_fig, whatif.headroom, whatif.hours_per_month, tables)


@dataclass(frozen=True, slots=True)
class _Solo:
    """An endpoint's own figures, before comparing with the baseline."""

    measure: EndpointMeasure
    price: PriceQuote | NoPrice
    gpus: int
    sizing: Sizing
    figs: dict[str, Figure]


def _own_figures(
    m: EndpointMeasure,
    whatif: WhatIf,
    peak: float | None,
    input_per_output: float | None,
    latency: LatencyMetric,
) -> _Solo:
    ep = whatif.endpoints[m.name]
    cap = m.capacity
    price = whatif.price(m.name)
    gpus = ep.gpus_per_replica
    hours = whatif.hours_per_month
    cap_reason = cap.reason
    if cap_reason is None and not cap.usable:
        cap_reason = "SLO never met" if not cap.met_slo else "no capacity measured"
    figs: dict[str, Figure] = {}  # energy_month is beside the monthly cost, never added to it

    def measured(value: float | None, unit: str) -> Figure:
        if cap_reason is not None or value is None:
            return Figure.missing(cap_reason or "not measured", unit)
        return Figure.of(value, unit, cap.qualifier)

    figs["p95"] = measured(cap.p95_s, SECONDS)
    figs["output_tps"] = measured(cap.output_tps, TPS)
    figs["capacity_rps"] = measured(cap.rps, RPS)

    if isinstance(price, NoPrice):
        figs["usd_per_gpu_hour"] = Figure.missing(price.reason, USD_PER_GPU_HOUR)
    else:
        note = price.label
        if m.measured_gpu and m.measured_gpu != ep.gpu:
            note += f"; capacity {m.capacity_basis or f'measured on {m.measured_gpu}'}"
        figs["usd_per_gpu_hour"] = Figure.of(price.usd_per_gpu_hour, USD_PER_GPU_HOUR, note)

    def unit_cost(unit: str, compute: Any) -> Figure:
        if cap_reason is not None:
            return Figure.missing(cap_reason, unit)
        if isinstance(price, NoPrice):
            return Figure.missing(price.reason, unit)
        return Figure.of(compute(price.usd_per_gpu_hour), unit, cap.qualifier)

    figs["usd_per_m_output"] = unit_cost(
        USD_PER_M_TOKENS, lambda p: f.usd_per_million_tokens(p, gpus, cap.output_tps or 0)
    )
    if cap_reason is None and not cap.input_tps:
        figs["usd_per_m_input"] = Figure.missing("no input tokens measured", USD_PER_M_TOKENS)
    else:
        figs["usd_per_m_input"] = unit_cost(
            USD_PER_M_TOKENS, lambda p: f.usd_per_million_tokens(p, gpus, cap.input_tps or 0)
        )
    mix = input_per_output
    mix_basis = "workload"
    if mix is None and cap.output_tps:
        mix = (cap.input_tps or 0.0) / cap.output_tps
        mix_basis = f"measured at {cap.source}" if cap.source else "measured"
    blended = unit_cost(
        USD_PER_M_TOKENS,
        lambda p: f.blended_usd_per_million(
            f.usd_per_million_tokens(p, gpus, cap.output_tps or 0), mix or 0.0
        ),
    )
    if blended.value is not None:
        blended = Figure.of(
            blended.value, USD_PER_M_TOKENS, f"at {mix or 0.0:.2f}:1 in:out ({mix_basis})"
        )
    figs["usd_per_m_blended"] = blended
    figs["usd_per_request"] = unit_cost(
        USD_PER_REQUEST, lambda p: f.usd_per_request(p, gpus, cap.rps or 0)
    )

    sizing = _sizing(m, ep.replicas, peak, whatif.headroom, cap_reason, latency)
    if sizing.replicas is None:
        figs["replicas"] = Figure.missing(sizing.text, REPLICAS)
    else:
        figs["replicas"] = Figure.of(sizing.replicas, REPLICAS, sizing.text)
    if sizing.replicas is None:
        figs["monthly"] = Figure.missing(sizing.text, USD_MONTH)
    elif isinstance(price, NoPrice):
        figs["monthly"] = Figure.missing(price.reason, USD_MONTH)
    else:
        monthly = f.monthly_cost(sizing.replicas, gpus, price.usd_per_gpu_hour, hours)
        upper = f"; at most: {LOWER_BOUND}" if cap.lower_bound and sizing.mode == "auto" else ""
        figs["monthly"] = Figure.of(
            monthly, USD_MONTH, f"{sizing.replicas} × {gpus} GPU × {hours:g} h{upper}"
        )
    if sizing.replicas is None:
        figs["energy_month"] = Figure.missing(sizing.text, USD_MONTH)
    elif m.power_w_per_gpu is None:
        figs["energy_month"] = Figure.missing(m.power_reason or NO_POWER, USD_MONTH)
    else:
        kwh = whatif.energy_usd_per_kwh
        energy = f.energy_cost_month(m.power_w_per_gpu, sizing.replicas, gpus, kwh, hours)
        basis = f" {m.power_basis}" if m.power_basis else ""
        figs["energy_month"] = Figure.of(
            energy,
            USD_MONTH,
            f"{m.power_w_per_gpu:.0f} W/GPU{basis} × {sizing.replicas} × {gpus} GPU × "
            f"{hours:g} h × ${kwh:g}/kWh",
        )
    return _Solo(m, price, gpus, sizing, figs)


def _sizing(
    m: EndpointMeasure,
    replicas: int | str,
    peak: float | None,
    headroom: float,
    cap_reason: str | None,
    latency: LatencyMetric,
) -> Sizing:
    cap = m.capacity
    needed = None
    if peak is not None and cap_reason is None and cap.rps:
        needed = f.replicas_needed(peak, cap.rps, headroom)
    if replicas == "auto":
        if needed is None:
            why = NO_TRAFFIC if peak is None else (cap_reason or "no capacity")
            return Sizing(None, None, "auto", "unknown", text=why)
        upper = f"; at most: {LOWER_BOUND}" if cap.lower_bound else ""
        span = _within_bracket(cap, peak, headroom, needed)
        if span is not None:
            lo, hi = span
            rng = f"{lo}–{hi} within the bracket" if lo < hi else "the same across the bracket"
            return Sizing(needed, needed, "auto", "ok", text=f"{needed} (auto; {rng})",
                          within_bracket=span)  # fmt: skip
        return Sizing(needed, needed, "auto", "ok", text=f"{needed} (auto{upper})")
    assert isinstance(replicas, int)
    if needed is None:
        why = "no traffic target" if peak is None else (cap_reason or "no capacity")
        return Sizing(replicas, None, "manual", "unknown", text=f"{replicas} (set; need: {why})")
    if replicas >= needed:
        return Sizing(replicas, needed, "manual", "ok", text=f"{replicas} (set; need {needed})")
    assert peak is not None and cap.rps is not None
    load = peak / replicas
    est = expected_p95(m.curve, load, latency)
    if est is None:
        p95 = "p95 unknown"
    else:
        p95 = f"p95 {'≥' if est.lower_bound else '≈'} {Figure.of(est.p95_s, SECONDS).text}"
    if load > cap.rps:
        status: SizingStatus = "slo-breach"
        text = (
            f"{replicas} (set; need {needed}) SLO breach: {load:.3g} req/s per replica > "
            f"{cap.rps:.3g} SLO-compliant; expected {latency} {p95}"
        )
    else:
        status = "no-headroom"
        text = (
            f"{replicas} (set; need {needed}) below the {headroom:g}× headroom: "
            f"{load:.3g} req/s per replica at peak; expected {latency} {p95}"
        )
    return Sizing(replicas, needed, "manual", status, load, est, text)


def _within_bracket(
    cap: Capacity, peak: float | None, headroom: float, needed: int
) -> tuple[int, int] | None:
    """Replicas the bracket's two ends imply: sized from the passing side (``needed``), as few
    as the failing side would need if the knee lay just below it."""
    b = cap.bracket
    if b is None or cap.lower_bound or peak is None or b.upper_rps <= 0:
        return None
    return min(needed, f.replicas_needed(peak, b.upper_rps, headroom)), needed


def _with_deltas(s: _Solo, base: _Solo | None, whatif: WhatIf) -> FinanceRow:
    figs = s.figs
    is_base = base is not None and base.measure.name == s.measure.name
    q = s.measure.quality_delta_pp
    if is_base:
        quality = Figure.missing(BASELINE, POINTS)
    elif q is None:
        quality = Figure.missing(NO_QUALITY, POINTS)
    else:
        quality = Figure.of(q, POINTS)

    def delta(key: str, unit: str, how: Any) -> Figure:
        if is_base:
            return Figure.missing(BASELINE, unit)
        if base is None:
            return Figure.missing("no baseline measured", unit)
        mine, theirs = figs[key], base.figs[key]
        if mine.value is None:
            return Figure.missing(mine.reason or "n/a", unit)
        if theirs.value is None:
            return Figure.missing(f"baseline: {theirs.reason}", unit)
        return Figure.of(how(theirs.value, mine.value), unit)

    delta_month = delta("monthly", USD_MONTH, lambda b, c: c - b)
    reduction = delta("monthly", PERCENT, f.reduction_pct)
    delta_m = delta("usd_per_m_output", USD_PER_M_TOKENS, lambda b, c: c - b)
    return FinanceRow(
        name=s.measure.name,
        precision=s.measure.precision,
        is_baseline=is_base,
        p95=figs["p95"],
        output_tps=figs["output_tps"],
        capacity_rps=figs["capacity_rps"],
        quality_delta=quality,
        usd_per_gpu_hour=figs["usd_per_gpu_hour"],
        price_label=figs["usd_per_gpu_hour"].note,
        usd_per_m_output=figs["usd_per_m_output"],
        usd_per_m_input=figs["usd_per_m_input"],
        usd_per_m_blended=figs["usd_per_m_blended"],
        usd_per_request=figs["usd_per_request"],
        sizing=s.sizing,
        replicas=figs["replicas"],
        monthly=figs["monthly"],
        energy_month=figs["energy_month"],
        delta_month=delta_month,
        reduction_pct=reduction,
        delta_per_m_output=delta_m,
        break_even=_break_even(s, base, whatif, is_base),
    )


def _break_even(s: _Solo, base: _Solo | None, whatif: WhatIf, is_base: bool) -> Figure:
    if is_base:
        return Figure.missing(BASELINE, RPS)
    if base is None:
        return Figure.missing("no baseline measured", RPS)
    for who, solo in (("", s), ("baseline: ", base)):
        cap = solo.measure.capacity
        if not cap.usable or cap.rps is None:
            why = cap.reason or ("SLO never met" if not cap.met_slo else "no capacity measured")
            return Figure.missing(who + why, RPS)
        if isinstance(solo.price, NoPrice):
            return Figure.missing(who + solo.price.reason, RPS)
    assert isinstance(s.price, PriceQuote) and isinstance(base.price, PriceQuote)
    assert s.measure.capacity.rps is not None and base.measure.capacity.rps is not None
    hours = whatif.hours_per_month
    result = break_even(
        f.monthly_cost(1, base.gpus, base.price.usd_per_gpu_hour, hours),
        base.measure.capacity.rps,
        f.monthly_cost(1, s.gpus, s.price.usd_per_gpu_hour, hours),
        s.measure.capacity.rps,
        whatif.headroom,
    )
    if result.rps is None:
        return Figure.missing(result.text, RPS)
    return Figure.of(result.rps, RPS, result.text)
