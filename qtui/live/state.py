"""Turns measurement records into Snapshots: shared by the live controller and replay.

Pure: records (the session's dict shapes) go in through ``ingest``; what-ifs go to qtui.cost's
``WhatIf``; ``snapshot`` builds the view model. No I/O, no clock.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from qtui.config.pricing import PriceTable
from qtui.config.profile import Profile, Workload
from qtui.cost import WhatIf
from qtui.cost.compare import FinanceRow
from qtui.cost.figure import Figure
from qtui.cost.overrides import whatif_table
from qtui.cost.prices import PriceQuote, regions
from qtui.data import gpu_specs
from qtui.decision import Outcome, decide
from qtui.decision.cheapest import GpuOption, gpu_options
from qtui.evidence.accumulate import ENERGY_WINDOW_S, Evidence
from qtui.evidence.capacity import capacity_text
from qtui.evidence.judging import Judged, JudgeJob
from qtui.evidence.levels import num as _f
from qtui.evidence.memory import memory, workload_context
from qtui.evidence.slo import breaches
from qtui.gpu.derived import energy_cost_per_million, energy_per_million_tokens
from qtui.live import intents as it
from qtui.live.model import (
    CostInputs,
    CostView,
    EndpointView,
    Energy,
    GpuMem,
    GpuOptionView,
    History,
    Latency,
    QualityView,
    RunView,
    Snapshot,
    SweepPoint,
    baseline_first,
)
from qtui.load.backoff import backing_text
from qtui.quality.floor import words

GPU_OPTIONS_EVERY = 20  # snapshots (5 s at 4 Hz) between recomputing the GPU options
HISTORY_S = 300  # seconds of per-second series kept for sparklines and charts
CLIENT_STALE_S = 2.5  # client seconds older than the server's by this much: load has stopped
MIN_RATE_WINDOW_S = 0.5  # a shorter (last, partial) second is not charted as a rate


@dataclass
class _Ep:
    """What the view shows of one endpoint beyond its evidence (latest records, series)."""

    client: dict[str, Any] = field(default_factory=dict)
    server: dict[str, Any] = field(default_factory=dict)
    status: str = "starting"
    reason: str = ""
    outage: str = ""  # 'down 12 s' / 'outage 12.3 s at 14:02:03' (qtui.evidence.outages)
    model: str = ""
    series: dict[str, deque[float]] = field(
        default_factory=lambda: defaultdict(lambda: deque(maxlen=HISTORY_S))
    )


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
        self.evidence = Evidence(profile, measuring=False)
        self.eps: dict[str, _Ep] = {e.name: _Ep() for e in profile.endpoints}
        self.seq = 0
        self._outcome: tuple[int, Outcome] | None = None
        self._gpus: tuple[tuple[str, int, int], tuple[GpuOptionView, ...]] | None = None
        self._snaps = 0

    @property
    def level(self) -> float:
        """The load level the client is driven at (held levels are keyed by it)."""
        return self.evidence.level

    @level.setter
    def level(self, value: float) -> None:
        self.evidence.level = value

    @property
    def measuring(self) -> bool:
        return self.evidence.measuring

    @measuring.setter
    def measuring(self, value: bool) -> None:
        self.evidence.measuring = value

    # -- records in ------------------------------------------------------------------------
    def ingest(self, kind: str, rec: Mapping[str, Any]) -> None:
        """Take one record (client_second, server_second, gpu_sample, discovery, quality...)."""
        self.seq += 1
        self.evidence.ingest(kind, rec)
        name = rec.get("endpoint")
        if kind == "event":
            if rec.get("kind") == "whatif":
                self.whatif.set(str(rec["key"]), rec["value"])
            return
        if name not in self.eps or kind in ("quality_summary", "sweep_level"):
            return
        ep = self.eps[name]
        if kind == "client_second":
            ep.client = dict(rec)
            self._series(ep, rec)
        elif kind == "server_second":
            ep.server = dict(rec)
            status = rec.get("status", "ok")
            if status == "ok":
                ep.status, ep.reason = "ok", ""
            elif status == "not_exposed":
                ep.status, ep.reason = "ok", str(rec.get("detail", ""))
            else:
                ep.status, ep.reason = "dead", f"{status}: {rec.get('detail', '')}"
        elif kind == "discovery":
            ep.model = str(rec.get("model") or rec.get("model_id") or "")
            if rec.get("error"):
                ep.status, ep.reason = "dead", str(rec["error"])

    def power(self, name: str, level: float | None) -> tuple[float | None, str]:
        """W per GPU for the energy cost, and its basis (``Evidence.power``)."""
        return self.evidence.power(name, level)

    def mark_dead(self, name: str, reason: str) -> None:
        self.seq += 1
        self.eps[name].status, self.eps[name].reason = "dead", reason

    def set_outage(self, name: str, text: str) -> None:
        if name in self.eps:
            self.seq += 1
            self.eps[name].outage = text

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

    def _sizing(self, name: str) -> int | None:
        return self.outcome().comparison.row(name).sizing.needed

    # -- snapshot out ----------------------------------------------------------------------
    def quality_job(self) -> JudgeJob | None:
        """The golden items not judged yet, for a thread (``Evidence.judge_job``)."""
        return self.evidence.judge_job()

    def take_quality(self, job: JudgeJob, judged: Judged) -> None:
        """A judgement made in a thread; the next snapshot shows it when it was kept."""
        if self.evidence.take_judgement(job, judged):
            self.seq += 1

    def outcome(self) -> Outcome:
        """The decision over the evidence so far: ``qtui.decision.decide``, as everywhere; once
        per change (every record and every what-if bumps ``seq``)."""
        if self._outcome is None or self._outcome[0] != self.seq:
            self._outcome = (self.seq, decide(self.evidence, self.whatif))
        return self._outcome[1]

    def energy(self, name: str) -> Energy:
        """kWh and $ of electricity per 1M output tokens over the last minute of samples."""
        ep = self.evidence.eps[name]
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
        outcome = self.outcome()
        comp = outcome.comparison
        slo = self.profile.slo
        wl = self.profile.workload
        context = workload_context(wl.mean_input_tokens, wl.output_tokens.mean)
        views = []
        for e in self.profile.endpoints:
            ep, ev = self.eps[e.name], self.evidence.eps[e.name]
            judged = outcome.get(e.name)
            row = judged.finance
            wi = self.whatif.endpoints[e.name]
            c, s, g, q = ep.client, ep.server, ev.gpu, self.evidence.quality(e.name)
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
                p95_at_capacity_s=row.p95.value,
                output_tps_per_replica=row.output_tps.value,
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
            verdict = judged.quality
            quality = (
                QualityView(
                    score=q.get("success"),
                    verdict=verdict if verdict in ("go", "no-go", "not-decided") else "n/a",  # type: ignore[arg-type]
                    reason=judged.quality_reason,
                    items=int(q.get("items") or 0),
                    words=words(verdict, q.get("undecided")),
                    undecided=str(q.get("undecided") or ""),
                    **_quality_figures(q),
                    noise_words=judged.noise_words,
                    noise=judged.noise,
                    by_tag=judged.by_tag,
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
                    prefix_hit=_f(s, "prefix_cache_hit_rate") if shares_prefixes(wl) else None,
                    memory=memory(
                        s,
                        ep.model or e.model or (e.simulate.model if e.simulate else ""),
                        e.precision,
                        context,
                    ),
                    peak_kv_usage=ev.peak_kv_usage,
                    preemptions=ev.preemptions if ev.preemptions_seen else None,
                    running=None if (v := _f(s, "running")) is None else int(v),
                    waiting=None if (v := _f(s, "waiting")) is None else int(v),
                    server_metrics=s.get("status") != "not_exposed",
                    out_tps=_f(c, "out_tps") if _current(c, s) else _f(s, "generation_tps"),
                    rps=_f(c, "win_rps", "rps") if _current(c, s) else None,
                    ttft=_latency(c, s, "ttft", slo.ttft_p95_ms),
                    itl=_latency(c, s, "itl", slo.itl_p95_ms),
                    e2e=_latency(c, s, "e2e", slo.e2e_p95_ms),
                    error_rate=_f(c, "error_rate"),
                    outage=ep.outage,
                    stopped=ev.counts.stop_text,
                    partial_tokens=ev.counts.partial_tokens,
                    backing_off=backing_text(int(_f(c, "backing_off") or 0), self.evidence.unit)
                    if _current(c, s)
                    else "",
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
                        SweepPoint(p.level, p.output_tps, p.e2e_p95_s, not breaches(p, slo))
                        for p in judged.curve
                    ),
                    go=judged.go,
                    verdict=judged.verdict,
                    decision=judged.status,
                    undecided=judged.undecided or "",
                    go_reasons=judged.reasons,
                    capacity=capacity_text(judged.capacity),
                    knee=judged.capacity.level if judged.capacity.usable else None,
                    fit=judged.on_gpu.fit_text if judged.on_gpu is not None else "",
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
            recommended=outcome.recommended,
            recommendation=outcome.why,
            savings_month_usd=outcome.savings.value,
            noise_floor=outcome.noise_floor,
            gpu_options=self.gpu_options(),
        )

    def gpu_options(self) -> tuple[GpuOptionView, ...]:
        """Cheapest GPU per precision (``qtui.decision.cheapest``); recomputed when a what-if
        changed or every ``GPU_OPTIONS_EVERY`` snapshots (15 GPU types × every endpoint)."""
        self._snaps += 1
        wi = repr(self.whatif.snapshot())
        if self._gpus is not None:
            (was_wi, was_seq, at), rows = self._gpus
            empty = not any(r.monthly_usd is not None for r in rows)
            due = self._snaps - at >= GPU_OPTIONS_EVERY or empty
            if wi == was_wi and (was_seq == self.seq or not due):
                return rows
        rows = tuple(
            option_view(o)
            for e in self.profile.endpoints
            if e.name in self.whatif.endpoints
            for o in gpu_options(self.evidence, self.whatif, e.name)
        )
        self._gpus = ((wi, self.seq, self._snaps), rows)
        return rows


def _pair(v: Any, scale: float = 1.0) -> tuple[float, float] | None:
    if isinstance(v, list | tuple) and len(v) == 2 and all(isinstance(x, int | float) for x in v):
        return (float(v[0]) * scale, float(v[1]) * scale)
    return None


def _quality_figures(q: Mapping[str, Any]) -> dict[str, Any]:
    """Success interval, paired drop (points) and agreement from a quality row."""
    p, a = q.get("paired"), q.get("agreement")
    paired: Mapping[str, Any] = p if isinstance(p, Mapping) else {}
    agree: Mapping[str, Any] = a if isinstance(a, Mapping) else {}
    pairs, lost, won = (_f(paired, k) for k in ("pairs", "only_baseline", "only_endpoint"))
    drop = (lost - won) / pairs if pairs and lost is not None and won is not None else None
    return {
        "success_ci": _pair(q.get("success_ci95")),
        "drop_pts": None if drop is None else drop * 100,
        "drop_ci_pts": _pair(q.get("drop_ci95"), 100.0),
        "flip_rate": _f(agree, "flip_rate"),
        "kl": _f(agree, "mean_kl"),
    }


def shares_prefixes(w: Workload) -> bool:
    """Requests share prompt prefixes (so the prefix-cache hit rate is worth showing): shared
    system prefixes, a conversation's history, or a trace (its hash ids)."""
    return w.prefix_count > 0 or w.multi_turn or w.kind == "trace"


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


def option_view(o: GpuOption) -> GpuOptionView:
    """A GPU option as the view shows it, in the record's words."""
    m = o.finance.monthly
    return GpuOptionView(
        endpoint=o.endpoint,
        precision=o.precision,
        gpu=o.gpu,
        measured=o.on.measured,
        how=o.how,
        capacity=capacity_text(o.on.capacity),
        replicas=o.finance.sizing.text,
        monthly_usd=m.value,
        monthly=m.text if m.value is not None else f"— ({m.reason})",
        fits=o.fits,
        fit=o.on.fit_text,
    )
