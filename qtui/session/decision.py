"""The decision a session supports: per precision go/no-go with reasons, and the cheapest go.

Pure over a loaded Session: the numbers come from qtui.cost (finance rows) and qtui.quality
(floor verdicts); this module only combines them with the latency SLOs and picks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from qtui.config.pricing import PriceTable
from qtui.config.profile import Profile
from qtui.cost.compare import CostComparison, EndpointMeasure, FinanceRow, build_comparison
from qtui.cost.figure import PERCENT, USD_MONTH, Figure
from qtui.cost.formulas import reduction_pct
from qtui.cost.whatif import WhatIf
from qtui.errors import QtuiError
from qtui.live.state import ViewState
from qtui.quality.floor import Verdict, verdict
from qtui.quality.record import QualityRecord
from qtui.quality.scores import compare as quality_compare
from qtui.quality.scores import score_endpoint
from qtui.session.reader import Session
from qtui.session.summary import EndpointSummary, summarize, sweep_points


@dataclass
class EndpointDecision:
    """One precision's evidence and verdict."""

    summary: EndpointSummary
    finance: FinanceRow
    quality: Verdict | None
    quality_delta_pp: float | None
    go: bool
    reasons: list[str]


@dataclass
class Decision:
    """Everything the decision record states."""

    session: Session
    profile: Profile
    baseline: str
    rows: list[EndpointDecision]
    comparison: CostComparison
    recommended: str | None
    why: str
    savings: Figure
    reduction: Figure
    notes: list[str] = field(default_factory=list)

    def row(self, name: str) -> EndpointDecision:
        return next(r for r in self.rows if r.summary.endpoint == name)


def _quality(s: Session, profile: Profile) -> tuple[dict[str, Verdict], dict[str, float]]:
    if "quality_item" not in s.tables:
        return {}, {}
    keep = ["endpoint", "item_id", "passed", "reason", "retries", "check", "tags"]
    lf = s.tables["quality_item"]
    cols = [c for c in keep if c in lf.collect_schema().names()]
    records = [QualityRecord.from_dict(r) for r in lf.select(cols).collect().iter_rows(named=True)]
    base = profile.baseline.name
    verdicts, deltas = {}, {}
    for name in dict.fromkeys(r.endpoint for r in records):
        paired = None if name == base else quality_compare(name, base, records)
        if paired is not None and paired.delta is not None:
            deltas[name] = paired.delta * 100
        verdicts[name] = verdict(score_endpoint(name, records), profile.slo.quality, paired)
    return verdicts, deltas


def _whatif_events(s: Session) -> list[dict[str, Any]]:
    """The recorded what-ifs in time order (a review session's are placed in the order applied)."""
    events = [e for e in s.docs("event") if e.get("kind") == "whatif"]
    return sorted(events, key=lambda e: float(e.get("t") or 0.0))


def _tables(
    s: Session, profile: Profile, notes: list[str], events: list[dict[str, Any]]
) -> dict[str, PriceTable]:
    """The profile's tables, those recorded in the session and those the what-ifs switch to."""
    names = {profile.cost.price_table} | {e.price_table for e in profile.endpoints if e.price_table}
    names |= set(s.price_tables)
    names |= {str(e["value"]) for e in events if str(e.get("key", "")).endswith(".price_table")}
    tables = {}
    for name in sorted(names):
        table, note = s.price_table(name)
        if note:
            notes.append(note)
        if table is not None:
            tables[name] = table
    return tables


def decide(s: Session) -> Decision:
    """Go/no-go per endpoint and the recommendation; QtuiError if the session has no profile."""
    if s.profile is None:
        raise QtuiError(f"{s.path}: no readable profile recorded; cannot write a decision record")
    profile = s.profile
    notes = list(s.warnings)
    notes += [str(e["value"]) for e in s.docs("event") if e.get("key") == "server_exit"]
    notes += counted_usage_notes(s)
    summaries = summarize(s)
    verdicts, qdeltas = _quality(s, profile)
    events = _whatif_events(s)
    whatif = WhatIf.from_profile(profile, _tables(s, profile, notes, events))
    power = _power_state(s, profile)
    for change in whatif.replay(events):
        if change.ok:
            notes.append(f"what-if applied: {change.key} = {change.value} (was {change.previous})")
        else:
            notes.append(f"recorded what-if {change.key} not applied: {change.reason}")
    measures = []
    for x in summaries:
        if x.endpoint not in whatif.endpoints:
            continue
        watts, basis = power.power(x.endpoint, x.capacity.level)
        measures.append(
            EndpointMeasure(
                name=x.endpoint,
                precision=x.precision,
                capacity=x.capacity,
                curve=tuple(sweep_points(s, x.endpoint)),
                power_w_per_gpu=watts,
                power_basis=basis if watts is not None else "",
                power_reason=basis if watts is None else None,
                quality_delta_pp=qdeltas.get(x.endpoint),
                measured_gpu=None,
            )
        )
    base = profile.baseline.name
    comparison = build_comparison(measures, whatif, base)
    rows = []
    for x in summaries:
        if x.endpoint not in whatif.endpoints:
            notes.append(f"{x.endpoint}: recorded but not in the profile; left out of the decision")
            continue
        fin = comparison.row(x.endpoint)
        rows.append(_judge(x, fin, verdicts.get(x.endpoint), qdeltas.get(x.endpoint), profile))
    return _recommend(s, profile, base, rows, comparison, notes)


def _power_state(s: Session, profile: Profile) -> ViewState:
    """The app's view state over the session's GPU samples, sweep levels and load events: its
    ``power(endpoint, level)`` is the W per GPU (and basis) the app prices energy with."""
    from qtui.live.replay import session_records  # the same record order a replay feeds

    state = ViewState(profile, {})
    state.measuring = True  # as a replay starts: levels count until a load event says otherwise
    for _, kind, rec in session_records(s, ("gpu_sample", "sweep_level", "event")):
        if kind != "event" or rec.get("kind") == "load":
            state.ingest(kind, rec)
    return state


def counted_usage_notes(s: Session) -> list[str]:
    """One note per endpoint whose server sent no usage: its tokens were counted from the stream."""
    req = s.frame("request")
    if req.height == 0 or "usage_source" not in req.columns:
        return []
    ok = req.filter((pl.col("error_class") == "none") & (pl.col("phase") == "measure"))
    counts = (
        ok.group_by("endpoint", maintain_order=True)
        .agg(counted=(pl.col("usage_source") == "counted").sum(), total=pl.len())
        .filter(pl.col("counted") > 0)
    )
    by_name = {r["endpoint"]: r for r in counts.iter_rows(named=True)}
    order = [n for n in s.endpoints if n in by_name] + [n for n in by_name if n not in s.endpoints]
    return [
        f"{n}: the server reported no token usage for {by_name[n]['counted']} of "
        f"{by_name[n]['total']} requests; their completion tokens were counted from the stream "
        "(one per chunk with text)"
        for n in order
    ]


def _judge(
    x: EndpointSummary, fin: FinanceRow, q: Verdict | None, dq: float | None, profile: Profile
) -> EndpointDecision:
    reasons: list[str] = []
    ok = True
    cap = x.capacity
    if cap.usable:
        reasons.append(f"meets every latency SLO up to {cap.rps:.3g} req/s per replica")
    else:
        ok = False
        reasons.append(f"latency SLO: {cap.reason}" + (f" ({cap.detail})" if cap.detail else ""))
    rate = x.error_rate
    if rate is not None and rate > profile.slo.max_error_rate:
        ok = False
        reasons.append(f"error rate {rate:.2%} > {profile.slo.max_error_rate:.2%}")
    is_base = x.endpoint == profile.baseline.name
    if q is None:
        if not is_base:
            ok = False
        reasons.append("quality: no quality run recorded" + (" (baseline)" if is_base else ""))
    else:
        ok = ok and q.status == "go"
        reasons.append(f"quality {q.reason}")
    if fin.monthly.value is None:
        ok = False
        reasons.append(f"monthly cost: {fin.monthly.reason}")
    if fin.sizing.status == "slo-breach":  # replicas set by hand, too few for the traffic
        ok = False
        reasons.append(f"replicas: {fin.sizing.text}")
    return EndpointDecision(x, fin, q, dq, ok, reasons)


def _recommend(
    s: Session,
    profile: Profile,
    base: str,
    rows: list[EndpointDecision],
    comparison: CostComparison,
    notes: list[str],
) -> Decision:
    go = [r for r in rows if r.go and r.finance.monthly.value is not None]
    go.sort(key=lambda r: (r.finance.monthly.value or 0.0, r.summary.endpoint != base))
    base_row = next((r for r in rows if r.summary.endpoint == base), None)
    none_usd, none_pct = (
        Figure.missing("no recommendation", USD_MONTH),
        Figure.missing("n/a", PERCENT),
    )
    if not go:
        why = "no precision met every SLO, the quality floor and has a price; keep the current one"
        return Decision(s, profile, base, rows, comparison, None, why, none_usd, none_pct, notes)
    best = go[0]
    monthly = best.finance.monthly.value or 0.0
    base_monthly = base_row.finance.monthly.value if base_row else None
    if base_monthly:
        savings = Figure.of(base_monthly - monthly, USD_MONTH, f"vs {base}")
        reduction = Figure.of(reduction_pct(base_monthly, monthly), PERCENT, f"vs {base}")
    else:
        savings = Figure.missing(f"baseline {base} has no monthly cost", USD_MONTH)
        reduction = Figure.missing(f"baseline {base} has no monthly cost", PERCENT)
    others = len(go) - 1
    why = (
        f"{best.summary.endpoint} is the cheapest precision that meets every latency SLO and the "
        f"quality floor" + (f" ({others} other(s) also qualify)" if others else "")
    )
    return Decision(
        s, profile, base, rows, comparison, best.summary.endpoint, why, savings, reduction, notes
    )
