"""The decision record's decision: the session's records fed, in their order, into the same
evidence the app builds, judged by the same rules (``qtui.decision``), plus the descriptive
per-endpoint summary and the notes a reader needs. Pure over a loaded Session."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from qtui.config.pricing import PriceTable
from qtui.config.profile import Profile
from qtui.cost.compare import CostComparison, FinanceRow
from qtui.cost.figure import Figure
from qtui.cost.whatif import WhatIf
from qtui.decision.cheapest import GpuOption, gpu_options
from qtui.decision.core import Judgement, Outcome
from qtui.decision.core import decide as decide_outcome
from qtui.errors import QtuiError
from qtui.evidence.accounting import partial_text
from qtui.evidence.accumulate import Evidence
from qtui.evidence.capacity import Capacity
from qtui.evidence.outages import outage_text, outages
from qtui.session.reader import Session
from qtui.session.summary import EndpointSummary, summarize
from qtui.session.timeline import session_records


@dataclass
class EndpointDecision:
    """One precision's evidence and verdict, as the record states it."""

    summary: EndpointSummary
    judgement: Judgement

    @property
    def finance(self) -> FinanceRow:
        return self.judgement.finance

    @property
    def capacity(self) -> Capacity:
        return self.judgement.capacity

    @property
    def quality_delta_pp(self) -> float | None:
        fig = self.judgement.finance.quality_delta
        return fig.value if fig.ok else None

    @property
    def go(self) -> bool:
        return self.judgement.go

    @property
    def reasons(self) -> list[str]:
        return list(self.judgement.reasons)


@dataclass
class Decision:
    """Everything the decision record states."""

    session: Session
    profile: Profile
    outcome: Outcome
    rows: list[EndpointDecision]
    notes: list[str] = field(default_factory=list)
    gpu_options: dict[str, list[GpuOption]] = field(default_factory=dict)  # cheapest GPU first

    @property
    def baseline(self) -> str:
        return self.outcome.baseline

    @property
    def comparison(self) -> CostComparison:
        return self.outcome.comparison

    @property
    def recommended(self) -> str | None:
        return self.outcome.recommended

    @property
    def why(self) -> str:
        return self.outcome.why

    @property
    def savings(self) -> Figure:
        return self.outcome.savings

    @property
    def reduction(self) -> Figure:
        return self.outcome.reduction

    def row(self, name: str) -> EndpointDecision:
        return next(r for r in self.rows if r.summary.endpoint == name)


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


def session_evidence(s: Session, profile: Profile) -> Evidence:
    """The session's records, in time order, in the evidence the app builds (as a replay does:
    held levels count from the start until a load event says otherwise)."""
    evidence = Evidence(profile, measuring=True)
    for _, kind, rec in session_records(s):
        evidence.ingest(kind, rec)
    return evidence


def decide(s: Session) -> Decision:
    """Go/no-go per endpoint and the recommendation; QtuiError if the session has no profile."""
    if s.profile is None:
        raise QtuiError(f"{s.path}: no readable profile recorded; cannot write a decision record")
    profile = s.profile
    notes = list(s.warnings)
    notes += [str(e["value"]) for e in s.docs("event") if e.get("key") == "server_exit"]
    notes += [
        str(e["value"].get("text"))
        for e in s.docs("event")
        if e.get("key") == "isolation" and isinstance(e.get("value"), dict)
    ]
    notes += counted_usage_notes(s)
    notes += outage_notes(s)
    events = _whatif_events(s)
    whatif = WhatIf.from_profile(profile, _tables(s, profile, notes, events))
    for change in whatif.replay(events):
        if change.ok:
            notes.append(f"what-if applied: {change.key} = {change.value} (was {change.previous})")
        else:
            notes.append(f"recorded what-if {change.key} not applied: {change.reason}")
    evidence = session_evidence(s, profile)
    outcome = decide_outcome(evidence, whatif)
    summaries = {x.endpoint: x for x in summarize(s)}
    rows = []
    for name, x in summaries.items():
        if name not in whatif.endpoints:
            notes.append(f"{name}: recorded but not in the profile; left out of the decision")
            continue
        rows.append(EndpointDecision(x, outcome.get(name)))
    for j in outcome.judgements:
        if j.cancelled:
            notes.append(
                f"{j.name}: {j.stopped or f'{j.cancelled} cancelled at stop'} (requests open at "
                "qtui's own stop; not errors, in no rate)"
            )
        if j.partial_tokens:
            notes.append(f"{j.name}: {partial_text(j.partial_tokens)}")
    options = {r.summary.endpoint: gpu_options(evidence, whatif, r.summary.endpoint) for r in rows}
    return Decision(s, profile, outcome, rows, notes, options)


def outage_notes(s: Session) -> list[str]:
    """One note per outage: a span in which an endpoint answered only errors, with its length
    (qtui.evidence.outages)."""
    req = s.frame("request")
    if req.height == 0 or not {"t_send", "t_end", "error_class"} <= set(req.columns):
        return []
    notes = []
    for (name,), part in req.group_by("endpoint", maintain_order=True):
        rows = part.select("t_send", "t_end", "error_class").iter_rows()
        notes += [outage_text(str(name), o) for o in outages(rows)]
    return notes


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
        f"{n}: the server reported no usable token usage (missing, or fewer tokens than token "
        f"chunks) for {by_name[n]['counted']} of {by_name[n]['total']} requests; their "
        "completion tokens were counted from the stream (one per chunk with text)"
        for n in order
    ]
