"""Cost what-ifs: per endpoint GPU, price table, region, category (committed with its discount),
own $/GPU-hour, replicas; traffic and hours for all; save the own prices as a price table."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Input

from qtui.live import fmt
from qtui.live import intents as it
from qtui.live.model import CATEGORIES, CostView, EndpointView, Snapshot
from qtui.tui.messages import IntentMessage
from qtui.tui.widgets.text import Cell

COLUMNS = (  # results first: at 80 columns they are on screen; the assumptions scroll after them
    ("endpoint", "endpoint"),
    ("replicas", "replicas"),
    ("per_1m", "$/1M tok"),
    ("month", "$/month"),
    ("delta", "Δ vs base"),
    ("gpu", "GPU"),
    ("gpu_hour", "$/GPU-h"),
    ("category", "pricing"),
    ("region", "region"),
    ("table", "price table"),
    ("note", "note"),
)


def row_cells(e: EndpointView) -> dict[str, str]:
    """One row's cells as text, each with its unit."""
    c = e.cost
    if c.replicas is None:
        reps = "auto" if c.replicas_auto else fmt.DASH
    else:
        reps = f"{c.replicas} auto" if c.replicas_auto else f"{c.replicas} set"
    if c.replicas_needed is not None:
        reps += f" (need {c.replicas_needed})"
    delta = "baseline" if e.baseline else fmt.signed_usd(c.delta_monthly_usd, "/mo")
    if not e.baseline and c.delta_pct is not None:
        delta += f" {fmt.signed_pct(c.delta_pct)}"
    category = c.category
    if category == "committed":
        category += f" −{c.committed_discount_pct:g}%"
    gpu_hour = fmt.usd(c.usd_per_gpu_hour, "/h")
    if c.usd_per_gpu_hour is None and c.price_reason:
        gpu_hour = c.price_reason
    elif c.own_price:
        gpu_hour += " own price"
    if c.region is not None:
        region = c.region
    else:
        region = f"any ({c.priced_region})" if c.priced_region else "any"
    return {
        "endpoint": e.name,
        "gpu": f"{c.gpu} ×{c.gpus_per_replica}",
        "table": c.price_table or fmt.DASH,
        "region": region,
        "category": category,
        "gpu_hour": gpu_hour,
        "replicas": reps,
        "per_1m": fmt.usd(c.usd_per_1m) if c.usd_per_1m is not None else c.reason or fmt.DASH,
        "month": fmt.usd(c.monthly_usd, "/mo")
        if c.monthly_usd is not None
        else c.monthly_reason or fmt.DASH,
        "delta": delta,
        "note": c.warning,
    }


def inputs_text(snap: Snapshot) -> str:
    ci = snap.cost
    traffic = fmt.rps(ci.traffic_rps) if ci.traffic_rps else "not set"
    return (
        f"traffic target (peak) [b]{traffic}[/b] · headroom {ci.headroom:g}× · "
        f"[b]{ci.hours_per_month:g} h/month[/b]"
    )


def energy_text(c: CostView) -> str:
    """Electricity per month at measured GPU power, with its basis; or why there is none."""
    if c.energy_month_usd is None:
        return f"energy: {c.energy_month or fmt.DASH}"
    return f"energy {c.energy_month} (not in $/month): {c.energy_basis}"


def source_text(snap: Snapshot, endpoint: str | None) -> str:
    """The selected row: where its price comes from, vs the baseline, $/1M input, $/request,
    blended $/1M, energy per month; then each table's source and as-of date."""
    lines = []
    if endpoint is not None:
        c = snap.endpoint(endpoint).cost
        e = snap.endpoint(endpoint)
        lines.append(f"[b]{endpoint}[/b] priced from {c.price_label or c.reason or fmt.DASH}")
        verdict = e.verdict or ("GO" if e.go else "NO-GO")  # the decision's words
        lines.append(f"capacity {e.capacity or fmt.DASH}; {verdict}: " + "; ".join(e.go_reasons))
        if e.fit:  # the record's words; 'fit unknown: …' already says what it is about
            lines.append(e.fit if e.fit.startswith("fit ") else f"fit on {c.gpu}: {e.fit}")
        lines.append(f"vs baseline: {c.vs_baseline}" if c.vs_baseline else "the baseline")
        lines.append(c.unit_costs or fmt.DASH)
        lines.append(energy_text(c))
    lines.append("[dim]" + (" · ".join(snap.cost.table_sources) or "no price table") + "[/]")
    return "\n".join(lines)


PROMPTS = {
    "replicas": "replicas for {ep} (a number, or auto)",
    "traffic": "traffic target at peak, req/s",
    "hours": "hours per month (at most 744)",
    "price": "own $/GPU-hour for {ep} (empty: back to the table's price)",
    "discount": "committed-use discount for {ep}, % off on-demand (0 to below 100)",
    "save": "name for a new price table with the own prices of {table} (empty: {default})",
}
HELP = (
    "[dim]+/- replicas · a auto · r type · n GPU · b table · R region · k pricing · "
    "d discount % · $ own price · S save table · t traffic · h hours[/]"
)


def _cycle(options: tuple[str, ...], current: str, step: int = 1) -> str:
    if not options:
        return current
    i = options.index(current) if current in options else -1
    return options[(i + step) % len(options)]


class CostPanel(Vertical):
    """A table of cost per endpoint; keys change the selected row's assumptions."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("plus,equals_sign", "replicas(1)", "Replicas +1", key_display="+"),
        Binding("minus", "replicas(-1)", "Replicas −1", key_display="-"),
        Binding("a", "auto", "Auto replicas"),
        Binding("r", "ask('replicas')", "Type replicas"),
        Binding("n", "gpu", "Next GPU type"),
        Binding("k", "category", "Pricing category"),
        Binding("d", "ask('discount')", "Committed discount %"),
        Binding("b", "table", "Price table"),
        Binding("R", "region", "Region", key_display="R"),
        Binding("dollar_sign", "ask('price')", "Own $/GPU-hour", key_display="$"),
        Binding("S", "ask('save')", "Save as price table", key_display="S"),
        Binding("t", "ask('traffic')", "Traffic target"),
        Binding("h", "ask('hours')", "Hours/month"),
    ]

    class SaveTable(Message):
        """Save the own prices on ``endpoint``'s price table as a new table named ``name``."""

        def __init__(self, endpoint: str, name: str) -> None:
            super().__init__()
            self.endpoint = endpoint
            self.name = name

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self._snap: Snapshot | None = None
        self._asking = ""
        self._asking_for: str | None = None
        self._cells: dict[tuple[str, str], str] = {}

    def compose(self) -> ComposeResult:
        yield Cell(classes="cost-inputs")
        table: DataTable[str] = DataTable(cursor_type="row", zebra_stripes=True)
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        yield table
        yield Cell(classes="cost-source")
        yield Cell(HELP, classes="cost-help")
        yield Input(classes="cost-ask")

    @property
    def table(self) -> DataTable[str]:
        return self.query_one(DataTable)

    def selected(self) -> str | None:
        t = self.table
        if t.row_count == 0:
            return None
        return str(t.coordinate_to_cell_key(t.cursor_coordinate).row_key.value)

    def show(self, snap: Snapshot) -> None:
        self._snap = snap
        self.query_one(".cost-inputs", Cell).set(inputs_text(snap))
        t = self.table
        rows = {str(k.value) for k in t.rows}
        for e in snap.endpoints:
            cells = row_cells(e)
            if e.name not in rows:
                t.add_row(*(cells[k] for k, _ in COLUMNS), key=e.name)
                self._cells.update({(e.name, k): v for k, v in cells.items()})
                continue
            for key, value in cells.items():
                if self._cells.get((e.name, key)) != value:
                    self._cells[(e.name, key)] = value
                    t.update_cell(e.name, key, value, update_width=True)
        self._show_source()

    def _show_source(self) -> None:
        if self._snap is not None:
            self.query_one(".cost-source", Cell).set(source_text(self._snap, self.selected()))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_source()

    def _send(self, intent: it.Intent) -> None:
        self.post_message(IntentMessage(intent))

    def action_replicas(self, delta: int) -> None:
        if (name := self.selected()) is not None:
            self._send(it.StepReplicas(name, delta))

    def action_auto(self) -> None:
        if (name := self.selected()) is not None:
            self._send(it.SetReplicas(name, "auto"))

    def action_gpu(self) -> None:
        if (name := self.selected()) is not None and self._snap is not None:
            cur = self._snap.endpoint(name).cost.gpu
            self._send(it.SetGpu(name, _cycle(self._snap.cost.gpu_types, cur)))

    def action_category(self) -> None:
        if (name := self.selected()) is not None and self._snap is not None:
            cur = self._snap.endpoint(name).cost.category
            self._send(it.SetCategory(name, _cycle(CATEGORIES, cur)))

    def action_table(self) -> None:
        if (name := self.selected()) is not None and self._snap is not None:
            cur = self._snap.endpoint(name).cost.price_table
            self._send(it.SetPriceTable(name, _cycle(self._snap.cost.price_tables, cur)))

    def action_region(self) -> None:
        """Cycle any (cheapest) → each region the table prices this GPU in → any."""
        if (name := self.selected()) is not None and self._snap is not None:
            c = self._snap.endpoint(name).cost
            nxt = _cycle(("", *c.regions), c.region or "")
            self._send(it.SetRegion(name, nxt or None))

    def action_ask(self, what: str) -> None:
        name = self.selected()
        if what in ("replicas", "price", "discount", "save") and name is None:
            return
        table = default = ""
        if what == "save" and self._snap is not None and name is not None:
            table = self._snap.endpoint(name).cost.price_table
            default = f"{table}-user-<date>-<time>"
        self._asking, self._asking_for = what, name
        box = self.query_one(Input)
        prompt = PROMPTS[what].format(ep=name, table=table, default=default)
        box.placeholder = prompt + " — Enter to apply, Esc to cancel"
        box.value = ""
        box.add_class("open")
        box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        box = self.query_one(Input)
        box.remove_class("open")
        self.table.focus()
        what, name = self._asking, self._asking_for
        self._asking, self._asking_for = "", None
        labels = {"price": "$/GPU-hour", "discount": "discount %"}
        try:
            if what == "replicas" and name is not None:
                self._send(it.SetReplicas(name, "auto" if text == "auto" else int(text)))
            elif what == "traffic":
                self._send(it.SetTraffic(float(text)))
            elif what == "hours":
                self._send(it.SetHours(float(text)))
            elif what == "price" and name is not None:
                usd = None if text.lower() in ("", "table") else float(text.lstrip("$"))
                self._send(it.SetGpuHourPrice(name, usd))
            elif what == "discount" and name is not None:
                self._send(it.SetDiscount(name, float(text.rstrip("%"))))
            elif what == "save" and name is not None:
                self.post_message(self.SaveTable(name, text))
        except ValueError:
            label = labels.get(what, what)
            self.notify(f"{label}: {text!r} is not a number; previous value kept", severity="error")

    def on_key(self, event: object) -> None:
        key = getattr(event, "key", "")
        box = self.query_one(Input)
        if key == "escape" and box.has_class("open"):
            box.remove_class("open")
            self.table.focus()
            getattr(event, "stop", lambda: None)()
