"""One endpoint's column: identity, GPU, load, latency vs SLO, quality, cost; updated in place."""

from __future__ import annotations

import re

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.markup import escape
from textual.widgets import Sparkline

from qtui.live.model import EndpointView
from qtui.tui.widgets.endpoints import lines as L
from qtui.tui.widgets.text import Cell

HISTORY = 60  # points in a sparkline: the last minute


def widget_id(name: str) -> str:
    """A valid, distinct Textual id for any endpoint name ("demo/bf16" from merged sessions)."""
    return re.sub(r"[^A-Za-z0-9-]", lambda m: f"_{ord(m.group()):x}_", name)


class EndpointColumn(Vertical):
    """Shows one EndpointView; greys out with the reason when the endpoint is dead."""

    def __init__(self, name: str) -> None:
        super().__init__(id=f"ep-{widget_id(name)}", classes="endpoint")
        self.endpoint_name = name
        self._spark: tuple[tuple[float, ...], tuple[float, ...]] = ((), ())
        self._cells: dict[str, Cell] = {}
        self._titles: tuple[str, str] | None = None
        self._sparks: tuple[Sparkline, Sparkline] | tuple[()] = ()

    def compose(self) -> ComposeResult:
        for cid in ("identity", "memory", "membar", "kvconc", "queue", "throughput"):
            yield Cell(classes=cid)
        yield Sparkline([], classes="spark-tps")
        yield Sparkline([], classes="spark-rps")
        yield Cell(L.LATENCY_HEADER, classes="lat-header")
        for cid in (
            "ttft",
            "itl",
            "e2e",
            "errors",
            "quality",
            "cost-unit",
            "cost-month",
            "energy",
            "reason",
        ):
            yield Cell(classes=cid)

    def _cell(self, cls: str) -> Cell:
        """Cells are looked up once, then cached (CSS queries at 4 Hz × 4 columns add up)."""
        if not self._cells:
            self._cells = {next(iter(c.classes)): c for c in self.query(Cell)}
        return self._cells[cls]

    def _sparklines(self) -> tuple[Sparkline, Sparkline]:
        if not self._sparks:
            tps_s, rps_s = self.query(Sparkline)
            self._sparks = (tps_s, rps_s)
        return self._sparks

    def show(self, e: EndpointView, max_error_rate: float) -> None:
        # a border title set (even unchanged) repaints the whole column with every cell in it
        title, subtitle = L.title(e), L.slo(e)
        if (title, subtitle) != self._titles:
            self._titles = (title, subtitle)
            self.border_title, self.border_subtitle = title, subtitle
        dead = e.status == "dead"
        self.set_class(dead, "dead")
        self.set_class(e.baseline, "baseline")
        self._cell("identity").set(L.identity(e))
        self._cell("memory").set(L.memory(e))
        self._cell("membar").set(L.memory_bar(e))
        self._cell("kvconc").set(L.concurrency(e))
        self._cell("queue").set(L.queue(e))
        self._cell("throughput").set(L.throughput(e))
        self._cell("lat-header").set(L.latency_header(e.ttft))
        self._cell("ttft").set(L.latency("TTFT", e.ttft))
        self._cell("itl").set(L.latency("ITL", e.itl))
        self._cell("e2e").set(L.latency("e2e", e.e2e))
        self._cell("errors").set(L.errors(e, max_error_rate))
        self._cell("quality").set(L.quality(e))
        self._cell("cost-unit").set(L.cost_unit(e))
        self._cell("cost-month").set(L.cost_month(e))
        self._cell("energy").set(L.energy(e))
        reason = f"[b]{e.status}[/b]: {escape(e.reason)}" if e.reason or dead else L.load_notes(e)
        self._cell("reason").set(reason)
        spark = (e.history.out_tps[-HISTORY:], e.history.rps[-HISTORY:])
        if spark != self._spark:
            self._spark = spark
            tps_s, rps_s = self._sparklines()
            tps_s.data, rps_s.data = list(spark[0]), list(spark[1])
