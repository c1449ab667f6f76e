"""Turns measurement records into Snapshots: shared by the live controller and replay.

Pure: records (the session's dict shapes) go in through ``ingest``; what-ifs go to qtui.cost's
``WhatIf``; ``snapshot`` builds the view model. No I/O, no clock.
"""

from __future__ import annotations

import statistics
from collections import defaultdict, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from qtui.config.pricing import PriceTable
from qtui.config.profile import Profile
from qtui.cost import EndpointMeasure, WhatIf, build_comparison, capacity_from_sweep
from qtui.cost import SweepPoint as CostPoint
from qtui.cost.compare import FinanceRow
from qtui.cost.figure import Figure
from qtui.cost.overrides import whatif_table
from qtui.cost.prices import PriceQuote, regions
from qtui.data import gpu_specs
from qtui.gpu.derived import energy_cost_per_million, energy_per_million_tokens
from qtui.live import intents as it
from qtui.live.model import (
    CostInputs,
    CostView,
    EndpointView,
    Energy,
    GpuMem,
    History,
    Latency,
    QualityView,
    RunView,
    Snapshot,
    SweepPoint,
    baseline_first,
)

HISTORY_S = 300  # seconds of per-second series kept for sparklines and charts
ENERGY_WINDOW_S = 60  # energy per token over the last minute
ENERGY_SAMPLES = 4 * ENERGY_WINDOW_S  # GPU samples come at up to 4 Hz
MIN_LEVEL_SECONDS = 3  # seconds at a level before it counts as a point on the capacity curve
POWER_SAMPLES = 4 * 900  # per-GPU power samples kept: 15 minutes at 4 Hz, longer than a level
CLIENT_STALE_S = 2.5  # client seconds older than the server's by this much: load has stopped
MIN_RATE_WINDOW_S = 0.5  # a shorter (last, partial) second is not charted as a rate


def _f(rec: Mapping[str, Any], *keys: str) -> float | None:
    for k in keys:
        v = rec.get(k)
        if isinstance(v, int | float) and not isinstance(v, bool):
            return float(v)
    return None


@dataclass
class _Ep:
    """Everything accumulated for one endpoint."""

    client: dict[str, Any] = field(default_factory=dict)
    server: dict[str, Any] = field(default_factory=dict)
    gpu: dict[str, Any] = field(default_factory=dict)  # summed over the endpoint's GPUs
    gpus: dict[Any, dict[str, Any]] = field(default_factory=dict)  # latest record per GPU index
    quality: dict[str, Any] = field(default_factory=dict)
    status: str = "starting"
    reason: str = ""
    model: str = ""
    series: dict[str, deque[float]] = field(
        default_factory=lambda: defaultdict(lambda: deque(maxlen=HISTORY_S))
    )
    energy: deque[tuple[float, float]] = field(
        default_factory=lambda: deque(maxlen=ENERGY_SAMPLES)
    )  # (t, J summed over the endpoint's GPUs)
    tokens: deque[tuple[float, float]] = field(
        default_factory=lambda: deque(maxlen=ENERGY_WINDOW_S)
    )  # (t, output tokens in the second ending at t)
    levels: dict[float, list[dict[str, Any]]] = field(default_factory=dict)
    sweep_levels: dict[float, dict[str, Any]] = field(default_factory=dict)
    power: deque[tuple[float, float]] = field(
        default_factory=lambda: deque(maxlen=POWER_SAMPLES)
    )  # (t, W per GPU: the sample's power summed over the endpoint's GPUs ÷ GPUs reporting)
    level_power: dict[float, _Mean] = field(default_factory=dict)  # while measuring, per level
    sweep_power: dict[float, float] = field(default_factory=dict)  # W per GPU per sweep level
    power_seen: bool = False  # some GPU sample arrived (with or without a power reading)


@dataclass
class _Mean:
    """A running mean of one value per sample time (a later GPU of the same sample replaces)."""

    total: float = 0.0
    n: int = 0
    last_t: float | None = None
    last: float = 0.0

    def add(self, t: float, value: float) -> None:
        if self.last_t == t:
            self.total += value - self.last
        else:
            self.total += value
            self.n += 1
        self.last_t, self.last = t, value

    @property
    def mean(self) -> float | None:
        return self.total / self.n if self.n else None


class ViewState:
    """Accumulates records for a profile's endpoints and builds Snapshots with live cost."""

    def __init__(
        self,
        profile: Profile,
        tables: Mapping[str, PriceTable],
        *,
        simulated: bool = False,
        on_event: Any = None,
    ) -> None:
        self.profile = profile
        self.simulated = simulated
        self.whatif = WhatIf.from_profile(profile, tables, on_event=on_event)
        self.eps: dict[str, _Ep] = {e.name: _Ep() for e in profile.endpoints}
        self.level = float(
            profile.load.rate if profile.load.mode == "rate" else profile.load.concurrency
        )
        self.measuring = False
        self.seq = 0

    # -- records in ------------------------------------------------------------------------
    def ingest(self, kind: str, rec: Mapping[str, Any]) -> None:
        """Take one record (client_second, server_second, gpu_sample, discovery, quality...)."""
        self.seq += 1
        name = rec.get("endpoint")
        if kind == "quality_summary":
            rows = rec.get("endpoints") or [rec]
            for row in rows:
                if row.get("endpoint") in self.eps:
                    q = dict(row)
                    q.setdefault("success", q.get("success_rate"))
                    self.eps[row["endpoint"]].quality = q
            return
        if kind == "sweep_level" and name in self.eps:
            level = float(rec["level"])
            self.eps[name].sweep_levels[level] = dict(rec)
            if (w := _level_power(self.eps[name].power, rec)) is not None:
                self.eps[name].sweep_power[level] = w
            return
        if kind == "event":
            if rec.get("kind") == "load" and rec.get("key") == "level":
                v = rec.get("value")
                if isinstance(v, int | float):
                    self.level = float(v)
            elif rec.get("kind") == "load" and rec.get("key") == "measuring":
                self.measuring = bool(rec.get("value"))
            elif rec.get("kind") == "whatif":
                self.whatif.set(str(rec["key"]), rec["value"])
            return
        if name not in self.eps:
            return
        ep = self.eps[name]
        if kind == "client_second":
            if not self.measuring and (driven := _f(rec, "level")) is not None:
                self.level = driven  # a sweep moves the level without a level event
            ep.client = dict(rec)
            self._series(ep, rec)
            tokens = (_f(rec, "out_tps") or 0.0) * (_f(rec, "duration_s") or 1.0)
            ep.tokens.append((_f(rec, "t") or 0.0, tokens))
            if self.measuring:
                ep.levels.setdefault(self.level, []).append(dict(rec))
        elif kind == "server_second":
            ep.server = dict(rec)
            status = rec.get("status", "ok")
            if status == "ok":
                ep.status, ep.reason = "ok", ""
            elif status == "not_exposed":
                ep.status, ep.reason = "ok", str(rec.get("detail", ""))
            else:
                ep.status, ep.reason = "dead", f"{status}: {rec.get('detail', '')}"
        elif kind == "gpu_sample":
            ep.gpu = _gpu_total(ep.gpus, rec)
            joules, t = _f(ep.gpu, "energy_j"), _f(rec, "t")
            if joules is not None and t is not None:
                if ep.energy and ep.energy[-1][0] == t:  # another GPU of the same sample
                    ep.energy.pop()
                ep.energy.append((t, joules))
            self._power(ep, rec)
        elif kind == "discovery":
            ep.model = str(rec.get("model") or rec.get("model_id") or "")
            if rec.get("error"):
                ep.status, ep.reason = "dead", str(rec["error"])
        elif kind == "quality_item":
            pass

    def _power(self, ep: _Ep, rec: Mapping[str, Any]) -> None:
        """Keep the sample's mean power per GPU, by time and (while measuring) by load level."""
        ep.power_seen = True
        t = _f(rec, "t")
        watts = [w for g in ep.gpus.values() if (w := _f(g, "power_w")) is not None]
        if t is None or not watts:
            return
        per_gpu = sum(watts) / len(watts)
        if ep.power and ep.power[-1][0] == t:  # another GPU of the same sample
            ep.power.pop()
        ep.power.append((t, per_gpu))
        if self.measuring:
            ep.level_power.setdefault(self.level, _Mean()).add(t, per_gpu)

    def power(self, name: str, level: float | None) -> tuple[float | None, str]:
        """W per GPU for the energy cost, and its basis (or why there is none).

        The mean power while the sweep ran at the capacity ``level`` when it was measured; else
        the mean over the last ``ENERGY_WINDOW_S`` seconds of samples.
        """
        ep = self.eps[name]
        at_level = ep.sweep_power if ep.sweep_levels else {
            lv: m for lv, acc in ep.level_power.items() if (m := acc.mean) is not None
        }  # fmt: skip
        if level is not None and (w := at_level.get(level)) is not None:
            return w, f"at load level {level:g}"
        if ep.power:
            t_end = ep.power[-1][0]
            recent = [w for t, w in ep.power if t >= t_end - ENERGY_WINDOW_S]
            where = "" if level is None else f"; none measured at load level {level:g}"
            return statistics.fmean(recent), f"mean of the last {ENERGY_WINDOW_S} s{where}"
        if not ep.power_seen:
            return None, "no power reading (no GPU telemetry)"
        detail = str(ep.gpu.get("detail") or "") or "the GPU telemetry reports no power"
        return None, f"no power reading ({detail})"

    def mark_dead(self, name: str, reason: str) -> None:
        self.seq += 1
        self.eps[name].status, self.eps[name].reason = "dead", reason

    def _series(self, ep: _Ep, rec: Mapping[str, Any]) -> None:
        s = ep.series
        s["t"].append(_f(rec, "t") or 0.0)
        tps = _f(rec, "out_tps") or 0.0
        if (_f(rec, "duration_s") or 1.0) < MIN_RATE_WINDOW_S and s["out_tps"]:
            tps = s["out_tps"][-1]  # a run's last partial second: too short for a rate
        s["out_tps"].append(tps)
        s["rps"].append(_f(rec, "win_rps", "rps") or 0.0)
        for key in ("ttft_p50", "ttft_p95", "itl_p95", "e2e_p95"):  # the window's, when recorded
            s[key].append(_f(rec, f"win_{key}", key) or 0.0)

    # -- what-ifs --------------------------------------------------------------------------
    def apply(self, intent: it.Intent) -> str | None:
        """Apply a cost what-if through qtui.cost; the reason when it is rejected."""
        self.seq += 1
        wi = self.whatif
        match intent:
            case it.SetReplicas(endpoint=e, replicas=r):
                ch = wi.set(f"endpoints.{e}.replicas", r)
            case it.StepReplicas(endpoint=e, delta=d):
                cur = wi.endpoints[e].replicas
                if cur == "auto":
                    cur = self._sizing(e) or 1
                ch = wi.set(f"endpoints.{e}.replicas", max(1, int(cur) + d))
            case it.SetGpu(endpoint=e, gpu=g):
                ch = wi.set(f"endpoints.{e}.gpu", g)
            case it.SetCategory(endpoint=e, category=c):
                ch = wi.set(f"endpoints.{e}.pricing", c)
            case it.SetPriceTable(endpoint=e, table=t):
                ch = wi.set(f"endpoints.{e}.price_table", t)
            case it.SetRegion(endpoint=e, region=r):
                ch = wi.set(f"endpoints.{e}.region", r)
            case it.SetGpuHourPrice(endpoint=e, usd=u):
                ch = wi.set(f"endpoints.{e}.usd_per_gpu_hour", u)
            case it.SetDiscount(endpoint=e, pct=p):
                ch = wi.set(f"endpoints.{e}.committed_discount_pct", p)
                if ch.ok and wi.endpoints[e].pricing != "committed":
                    ch = wi.set(f"endpoints.{e}.pricing", "committed")  # a discount is committed
            case it.SetTraffic(rps=r):
                ch = wi.set("traffic.peak_rps", r)
            case it.SetHours(hours=h):
                ch = wi.set("hours_per_month", h)
            case _:
                return "not a cost what-if"
        return None if ch.ok else ch.reason

    def table_to_save(self, endpoint: str, now: float) -> tuple[str, PriceTable]:
        """The what-if's own prices on ``endpoint``'s price table as a new table: (base, table).

        ConfigError (one line) when there is nothing to save; nothing changes here.
        """
        base = self.whatif.endpoints[endpoint].price_table
        return base, whatif_table(self.whatif, base, now)

    def add_table(self, name: str, table: PriceTable, path: str) -> None:
        """A table saved from the what-if: selectable from now on, and noted as an event."""
        self.seq += 1
        self.whatif.add_table(name, table)
        if self.whatif.on_event is not None:
            value = {"name": name, "path": path, "based_on": table.table.based_on}
            self.whatif.on_event(
                {"t": self.whatif.clock(), "kind": "note", "key": "price_table_saved",
                 "value": value, "previous": None}
            )  # fmt: skip

    def _verdict(self, q: dict[str, Any]) -> str:
        base = self.eps[self.profile.baseline.name].quality
        status, reason = _floor_verdict(q, base, self.profile.slo.quality)
        q["verdict"], q["verdict_reason"] = status, reason
        return status

    def _sizing(self, name: str) -> int | None:
        row = self._comparison().row(name)
        return row.sizing.needed

    # -- snapshot out ----------------------------------------------------------------------
    def curve(self, name: str) -> tuple[CostPoint, ...]:
        """The capacity curve: one point per load level held long enough (median of seconds)."""
        recorded = self.eps[name].sweep_levels
        if recorded:
            return tuple(
                CostPoint(
                    level=lv,
                    rps=_f(r, "rps") or 0.0,
                    input_tps=_f(r, "in_tps") or 0.0,
                    output_tps=_f(r, "out_tps") or 0.0,
                    ttft_p95_s=_f(r, "ttft_p95"),
                    itl_p95_s=_f(r, "itl_p95"),
                    e2e_p95_s=_f(r, "e2e_p95"),
                    error_rate=_f(r, "error_rate") or 0.0,
                )
                for lv, r in sorted(recorded.items())
            )
        out = []
        for level, secs in sorted(self.eps[name].levels.items()):
            if len(secs) < MIN_LEVEL_SECONDS:
                continue

            def med(key: str, secs: list[dict[str, Any]] = secs) -> float | None:
                vals = [v for s in secs if (v := _f(s, key)) is not None]
                return statistics.median(vals) if vals else None

            reqs = sum(_f(s, "requests") or 0 for s in secs)
            out.append(
                CostPoint(
                    level=level,
                    rps=med("rps") or 0.0,
                    input_tps=med("in_tps") or 0.0,
                    output_tps=med("out_tps") or 0.0,
                    ttft_p95_s=med("ttft_p95"),
                    itl_p95_s=med("itl_p95"),
                    e2e_p95_s=med("e2e_p95"),
                    error_rate=(med("error_rate") or 0.0) if reqs else 0.0,
                )
            )
        return tuple(out)

    def _comparison(self) -> Any:
        measures = []
        for e in self.profile.endpoints:
            curve = self.curve(e.name)
            q = self.eps[e.name].quality.get("success")
            base_q = self.eps[self.profile.baseline.name].quality.get("success")
            delta = None if q is None or base_q is None else (q - base_q) * 100
            capacity = capacity_from_sweep(curve, self.profile.slo)
            watts, basis = self.power(e.name, capacity.level)
            measures.append(
                EndpointMeasure(
                    name=e.name,
                    precision=e.precision,
                    capacity=capacity,
                    curve=curve,
                    power_w_per_gpu=watts,
                    power_basis=basis if watts is not None else "",
                    power_reason=basis if watts is None else None,
                    quality_delta_pp=delta,
                    measured_gpu=e.gpu,
                )
            )
        return build_comparison(measures, self.whatif, self.profile.baseline.name)

    def energy(self, name: str) -> Energy:
        """kWh and $ of electricity per 1M output tokens over the last minute of samples."""
        ep = self.eps[name]
        if len(ep.energy) < 2:
            if ep.gpu.get("state") == "shared":
                return Energy(reason="GPU shared by several servers; energy not split")
            return Energy(reason="no energy counter" if not ep.energy else "measuring…")
        t_end = ep.energy[-1][0]
        window = [(t, j) for t, j in ep.energy if t >= t_end - ENERGY_WINDOW_S]
        (t0, j0), (t1, j1) = window[0], window[-1]
        tokens = sum(n for t, n in ep.tokens if t0 < t <= t1)
        kwh = energy_per_million_tokens(j1 - j0, int(tokens))
        usd = energy_cost_per_million(kwh, self.profile.cost.energy_usd_per_kwh)
        return Energy(kwh.value, usd.value, kwh.reason or "")

    def snapshot(self, run: RunView) -> Snapshot:
        comp = self._comparison()
        slo = self.profile.slo
        views = []
        for e in self.profile.endpoints:
            ep = self.eps[e.name]
            row = comp.row(e.name)
            wi = self.whatif.endpoints[e.name]
            c, s, g, q = ep.client, ep.server, ep.gpu, ep.quality
            red = row.reduction_pct.value
            price = row.usd_per_gpu_hour
            reason = row.usd_per_m_output.reason or ""
            quote = self.whatif.price(e.name)
            cost = CostView(
                gpu=wi.gpu,
                gpus_per_replica=wi.gpus_per_replica,
                price_table=wi.price_table,
                category=wi.pricing,
                committed_discount_pct=wi.committed_discount_pct,
                region=wi.region,
                priced_region=quote.region if isinstance(quote, PriceQuote) else "",
                regions=regions(self.whatif.tables.get(wi.price_table), wi.gpu, wi.pricing),
                own_price=wi.usd_per_gpu_hour is not None,
                price_label=row.price_label,
                usd_per_gpu_hour=price.value,
                replicas=row.sizing.replicas,
                replicas_auto=wi.replicas == "auto",
                replicas_needed=row.sizing.needed,
                usd_per_1m=row.usd_per_m_output.value,
                monthly_usd=row.monthly.value,
                delta_monthly_usd=row.delta_month.value,
                delta_pct=None if red is None else -red / 100,
                reason=reason,
                price_reason=price.reason or "",
                monthly_reason=row.monthly.reason or "",
                warning=row.sizing.text
                if row.sizing.status in ("slo-breach", "no-headroom")
                else "",
                usd_per_1m_input=row.usd_per_m_input.value,
                usd_per_1m_blended=row.usd_per_m_blended.value,
                usd_per_request=row.usd_per_request.value,
                unit_costs=_unit_costs(row),
                energy_month_usd=row.energy_month.value,
                energy_month=row.energy_month.text,
                energy_power=row.energy_month.note.split(" × ")[0],
                energy_basis=row.energy_month.note,
                vs_baseline=""
                if row.is_baseline
                else (
                    f"Δ $/1M output {row.delta_per_m_output.text} · break-even: "
                    f"{row.break_even.note or row.break_even.text} · "
                    f"quality: {row.quality_delta.text}"
                ),
            )
            verdict = q.get("verdict")
            if verdict is None and q.get("success") is not None:
                verdict = self._verdict(q)
            quality = (
                QualityView(
                    score=q.get("success"),
                    verdict=verdict if verdict in ("go", "no-go") else "n/a",
                    reason=str(q.get("verdict_reason", "")),
                    items=int(q.get("items") or 0),
                )
                if q
                else QualityView()
            )
            total = _f(g, "memory_total")
            spec = gpu_specs().get(e.gpu)
            h = ep.series
            views.append(
                EndpointView(
                    name=e.name,
                    precision=e.precision,
                    model=ep.model or e.model or (e.simulate.model if e.simulate else ""),
                    simulated=self.simulated or e.simulate is not None,
                    baseline=e.name == self.profile.baseline.name,
                    status=ep.status,  # type: ignore[arg-type]
                    reason=ep.reason,
                    gpu_mem=GpuMem(
                        used=_f(g, "memory_used"),
                        total=total,
                        reserved=_f(g, "memory_reserved"),
                        source=str(g.get("source", "none")),
                        detail=str(g.get("detail") or ("no GPU telemetry" if not g else "")),
                        shared=g.get("state") == "shared",
                    )
                    if g
                    else GpuMem(detail=f"no telemetry ({spec.name if spec else e.gpu})"),
                    kv_usage=_f(s, "kv_cache_usage"),
                    running=None if (v := _f(s, "running")) is None else int(v),
                    waiting=None if (v := _f(s, "waiting")) is None else int(v),
                    server_metrics=s.get("status") != "not_exposed",
                    out_tps=_f(c, "out_tps") if _current(c, s) else _f(s, "generation_tps"),
                    rps=_f(c, "win_rps", "rps") if _current(c, s) else None,
                    ttft=_latency(c, s, "ttft", slo.ttft_p95_ms),
                    itl=_latency(c, s, "itl", slo.itl_p95_ms),
                    e2e=_latency(c, s, "e2e", slo.e2e_p95_ms),
                    error_rate=_f(c, "error_rate"),
                    quality=quality,
                    cost=cost,
                    energy=self.energy(e.name),
                    history=History(
                        t=tuple(h["t"]),
                        out_tps=tuple(h["out_tps"]),
                        rps=tuple(h["rps"]),
                        ttft_p50_s=tuple(h["ttft_p50"]),
                        ttft_p95_s=tuple(h["ttft_p95"]),
                        itl_p95_s=tuple(h["itl_p95"]),
                        e2e_p95_s=tuple(h["e2e_p95"]),
                    ),
                    sweep=tuple(
                        SweepPoint(p.level, p.output_tps, p.e2e_p95_s, not _breach(p, slo))
                        for p in self.curve(e.name)
                    ),
                )
            )
        peak = self.whatif.traffic.peak
        return Snapshot(
            seq=self.seq,
            run=run,
            endpoints=baseline_first(views),
            cost=CostInputs(
                traffic_rps=peak,
                hours_per_month=self.whatif.hours_per_month,
                headroom=self.whatif.headroom,
                price_tables=tuple(self.whatif.tables),
                gpu_types=tuple(gpu_specs()),
                table_sources=tuple(
                    f"{t.name}: {t.provider}, {t.source}, as of {t.as_of}" for t in comp.tables
                ),
            ),
            slo_error_rate=slo.max_error_rate,
        )


def _current(client: Mapping[str, Any], server: Mapping[str, Any]) -> bool:
    """The client's last second still describes now: load is running (the server's seconds
    have not gone on without it). Once load stops the server's own rate is shown instead."""
    if not client:
        return False
    ct, st = _f(client, "t"), _f(server, "t")
    return ct is None or st is None or st - ct <= CLIENT_STALE_S


def _latency(
    client: Mapping[str, Any], server: Mapping[str, Any], metric: str, slo_ms: float | None
) -> Latency:
    """The client's percentiles over its sliding window (recordings before it: the last second);
    the server's histogram estimate when no client load has run."""
    if not client:
        return Latency(_f(server, f"{metric}_p50"), _f(server, f"{metric}_p95"), slo_ms)
    if (window := _f(client, "win_s")) is not None:
        p50, p95 = _f(client, f"win_{metric}_p50"), _f(client, f"win_{metric}_p95")
        return Latency(p50, p95, slo_ms, window)
    p50, p95 = _f(client, f"{metric}_p50"), _f(client, f"{metric}_p95")
    return Latency(p50, p95, slo_ms, _f(client, "duration_s") or 1.0)


def _gpu_total(gpus: dict[Any, dict[str, Any]], rec: Mapping[str, Any]) -> dict[str, Any]:
    """Keep ``rec`` as its GPU's latest sample; the endpoint's memory is the sum over its GPUs.

    A record without a GPU index (no driver, exporter down, GPU gone) replaces them all.
    """
    if rec.get("gpu") is None:
        gpus.clear()
    else:
        gpus.pop(None, None)
    gpus[rec.get("gpu")] = dict(rec)
    out = dict(rec)
    for key in ("memory_total", "memory_used", "memory_reserved", "power_w", "energy_j"):
        vals = [v for g in gpus.values() if (v := _f(g, key)) is not None]
        out[key] = sum(vals) if vals else None
    return out


def _unit_costs(row: FinanceRow) -> str:
    """$/1M input, $/request, blended $/1M at the input:output mix: each with its unit, or why
    it is missing (once, when all three miss for the same reason)."""
    inp, req, blended = row.usd_per_m_input, row.usd_per_request, row.usd_per_m_blended
    if not (inp.ok or req.ok or blended.ok) and inp.reason == req.reason == blended.reason:
        return f"$/1M input, $/request, blended $/1M: {inp.reason}"

    def show(label: str, fig: Figure) -> str:
        return f"{label} {fig.text}" if fig.ok else f"{label}: {fig.reason}"

    mix = f" {blended.note}" if blended.ok and blended.note else ""
    per_request = req.text if req.ok else f"$/request: {req.reason}"
    return f"{show('input', inp)} · {per_request} · {show('blended', blended)}{mix}"


def _level_power(power: deque[tuple[float, float]], rec: Mapping[str, Any]) -> float | None:
    """Mean W per GPU over a sweep level's span (``t_start``, else ``t_end`` − ``duration_s``)."""
    t_end = _f(rec, "t_end")
    t_start = _f(rec, "t_start")
    if t_start is None and t_end is not None and (d := _f(rec, "duration_s")) is not None:
        t_start = t_end - d
    if t_start is None or t_end is None:
        return None
    watts = [w for t, w in power if t_start <= t <= t_end]
    return statistics.fmean(watts) if watts else None


def _floor_verdict(q: Mapping[str, Any], base: Mapping[str, Any], floor: Any) -> tuple[str, str]:
    """Go/no-go from a recorded success rate when the recording carries no verdict."""
    ok, base_ok = q.get("success"), base.get("success")
    if int(q.get("items") or 0) < floor.min_items or ok is None:
        return "n/a", "not enough items"
    if ok < floor.min_success:
        return "no-go", f"success {ok:.1%} < floor {floor.min_success:.0%}"
    if base_ok is not None and base_ok - ok > floor.max_drop_vs_baseline:
        return "no-go", f"{(base_ok - ok) * 100:.1f} pt below baseline"
    return "go", "meets the quality floor"


def _breach(p: CostPoint, slo: Any) -> bool:
    from qtui.cost import slo_breaches

    return bool(slo_breaches(p, slo))
