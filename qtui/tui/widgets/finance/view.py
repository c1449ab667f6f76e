"""The finance view: the comparison table per precision, and the headline saving, in large type."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Digits

from qtui.evidence.memory import concurrency_line
from qtui.live import fmt
from qtui.live.model import EndpointView, Snapshot
from qtui.quality.floor import WORDS
from qtui.tui.widgets.text import Cell

COLUMNS = (  # the decision record's comparison columns: p95 and tok/s at capacity, per replica
    ("precision", "precision"),
    ("p95", "p95"),
    ("tps", "tok/s"),
    ("quality", "quality"),
    ("per_1m", "$/1M tok"),
    ("month", "$/month"),
    ("reduction", "Δ $/mo"),
    ("verdict", "go/no-go"),
)


def finance_row(e: EndpointView) -> dict[str, str]:
    """The seed articles' comparison columns, each with its unit: the decision record's figures
    (p95 end-to-end and output tok/s per replica at the capacity the cost is sized from, not the
    live window's), so the app and the record state one number."""
    c = e.cost
    reduction = "baseline" if e.baseline else fmt.signed_pct(c.delta_pct)
    verdict = verdict_word(e)
    tps = c.output_tps_per_replica
    return {
        "precision": e.precision,
        "p95": fmt.ms(c.p95_at_capacity_s),
        "tps": fmt.DASH if tps is None else f"{tps:,.0f}",
        "quality": fmt.pct(e.quality.score, 1),
        "per_1m": fmt.usd(c.usd_per_1m) if c.usd_per_1m is not None else c.reason or fmt.DASH,
        "month": fmt.usd(c.monthly_usd),
        "reduction": reduction,
        "verdict": verdict,
    }


MEMORY_COLUMNS = (  # a second table: at 80 columns the first has no cell to spare
    ("precision", "precision"),
    ("kv", "KV tokens"),
    ("conc", "max concurrent"),
    ("weights", "weights"),
)


def memory_row(e: EndpointView) -> dict[str, str]:
    """KV tokens the server states, max concurrent requests, weights (estimated, labelled)."""
    w = e.memory.weights if e.memory is not None else None
    return {
        "precision": e.precision,
        "kv": kv_tokens(e),
        "conc": max_concurrent(e),
        "weights": fmt.DASH if w is None or w.bytes is None else f"~{fmt.gib(w.bytes)} est.",
    }


def kv_tokens(e: EndpointView) -> str:
    """The KV cache the server states, in tokens (— when it states none)."""
    kv = e.memory.kv if e.memory is not None else None
    return fmt.DASH if kv is None or kv.tokens is None else f"{kv.tokens / 1000:,.0f}k tok"


def max_concurrent(e: EndpointView) -> str:
    """Requests the KV cache holds at once at the workload's length and at max_model_len, in
    the app column's words (``concurrency_line``)."""
    if e.memory is None or not e.memory.kv.known:
        return fmt.DASH if e.memory is None else f"? ({e.memory.kv.reason})"
    return concurrency_line(e.memory, width=40)


def verdict_word(e: EndpointView) -> str:
    """GO, NO-GO or NOT DECIDED, the decision's status word; why not decided goes under the table
    (``undecided_line``) so that the column stays 11 wide and reads whole at 80 columns."""
    if e.status == "dead":
        return "dead"
    if e.decision:
        return WORDS.get(e.decision, e.decision.upper())
    if e.verdict:  # a feed that states only the words
        return e.verdict.split(" (", 1)[0]
    return "GO" if e.go else "NO-GO"


def undecided_line(snap: Snapshot) -> str:
    """Why each NOT DECIDED precision is not decided, as the decision words it."""
    parts = [
        f"{e.precision} ({e.undecided})"
        for e in snap.endpoints
        if e.status != "dead" and verdict_word(e) == WORDS["not-decided"] and e.undecided
    ]
    return "NOT DECIDED, so not recommended: " + " · ".join(parts) if parts else ""


def load_memory_line(snap: Snapshot) -> str:
    """Peak KV-cache use and preemptions under the load so far, per precision."""
    parts = []
    for e in snap.endpoints:
        peak = fmt.pct(e.peak_kv_usage)
        pre = fmt.DASH if e.preemptions is None else f"{e.preemptions:,.0f}"
        parts.append(f"{e.precision} {peak} / {pre}")
    return "peak KV use / preemptions under load: " + " · ".join(parts)


def energy_line(snap: Snapshot) -> str:
    """Electricity per month at measured GPU power, per precision with its power and basis."""
    parts = []
    for e in snap.endpoints:
        c = e.cost
        if c.energy_month_usd is None:
            parts.append(f"{e.precision} {c.energy_month or fmt.DASH}")
        else:
            parts.append(f"{e.precision} [b]{c.energy_month}[/b] ({c.energy_power})")
    return "energy at measured GPU power, not in monthly: " + " · ".join(parts)


class FinanceView(Vertical):
    """Read across one row per precision; the saving headline sits underneath."""

    def compose(self) -> ComposeResult:
        yield Cell(classes="fin-title")
        table: DataTable[str] = DataTable(cursor_type="none", show_cursor=False, cell_padding=1)
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        yield table
        mem: DataTable[str] = DataTable(
            cursor_type="none", show_cursor=False, cell_padding=1, classes="fin-memory"
        )
        for key, label in MEMORY_COLUMNS:
            mem.add_column(label, key=key)
        yield mem
        yield Cell(classes="fin-undecided")
        yield Cell(classes="fin-load-memory")
        yield Cell(classes="fin-energy")
        yield Cell(classes="fin-caption")
        yield Digits("", classes="fin-digits")
        yield Cell(classes="fin-assumptions")

    def show(self, snap: Snapshot) -> None:
        sim = any(e.simulated for e in snap.endpoints)
        src = "replay" if snap.run.replay is not None else "live"
        self.query_one(".fin-title", Cell).set(
            f"[b]Precision comparison[/b] — {src}"
            + (" · [i]simulated endpoints[/i]" if sim else "")
        )
        tables = list(self.query(DataTable))
        for t, make in zip(tables, (finance_row, memory_row), strict=True):
            have = {str(k.value) for k in t.rows}
            for e in snap.endpoints:
                row = make(e)
                if e.name not in have:
                    t.add_row(*row.values(), key=e.name)
                    continue
                for key, value in row.items():
                    if t.get_cell(e.name, key) != value:
                        t.update_cell(e.name, key, value, update_width=True)
        undecided = self.query_one(".fin-undecided", Cell)
        why = undecided_line(snap)
        undecided.set(why)
        undecided.display = bool(why)
        self.query_one(".fin-load-memory", Cell).set(load_memory_line(snap))
        self.query_one(".fin-energy", Cell).set(energy_line(snap))
        caption = self.query_one(".fin-caption", Cell)
        digits = self.query_one(Digits)
        rec, saved = snap.recommended, snap.savings_month_usd
        if rec is None:
            caption.set(f"No change recommended: {snap.recommendation}.")
            digits.update("")
        elif saved is None or saved <= 0:
            caption.set(f"Recommended: [b]{rec}[/b] — {snap.recommendation}.")
            digits.update("")
        else:
            caption.set(f"Recommended: [b]{rec}[/b], saving per month against the baseline:")
            digits.update(f"${saved:,.0f}")
        ci = snap.cost
        traffic = fmt.rps(ci.traffic_rps) if ci.traffic_rps else "traffic not set"
        self.query_one(".fin-assumptions", Cell).set(
            f"[dim]at {traffic} peak, {ci.hours_per_month:g} h/month, headroom {ci.headroom:g}×; "
            "p95 (end-to-end) and tok/s: at the capacity the cost is sized from, per replica · "
            "go/no-go = every SLO, the quality floor, a price (as in the record)[/]"
        )
