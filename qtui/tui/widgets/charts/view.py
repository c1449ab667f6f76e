"""Charts: latency percentiles and throughput over time per endpoint; the sweep capacity curve."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual_plotext import PlotextPlot

from qtui.live.model import Snapshot


class ChartsView(VerticalScroll):
    """Three plots; redrawn only when shown and when the data moved."""

    def compose(self) -> ComposeResult:
        yield PlotextPlot(id="chart-latency", classes="chart")
        yield PlotextPlot(id="chart-throughput", classes="chart")
        yield PlotextPlot(id="chart-sweep", classes="chart")

    def show(self, snap: Snapshot) -> None:
        lat = self.query_one("#chart-latency", PlotextPlot)
        p = lat.plt
        p.clear_data()
        p.title("TTFT p50 / p95 over time (ms)")
        for e in snap.endpoints:
            h = e.history
            if h.t:
                x = [t - h.t[-1] for t in h.t]
                p.plot(x, [v * 1e3 for v in h.ttft_p95_s], label=f"{e.name} p95")
                p.plot(x, [v * 1e3 for v in h.ttft_p50_s], label=f"{e.name} p50")
        p.xlabel("seconds ago")
        lat.refresh()
        thr = self.query_one("#chart-throughput", PlotextPlot)
        p = thr.plt
        p.clear_data()
        p.title("Output tokens/s over time")
        for e in snap.endpoints:
            h = e.history
            if h.t:
                p.plot([t - h.t[-1] for t in h.t], list(h.out_tps), label=e.name)
        p.xlabel("seconds ago")
        thr.refresh()
        sw = self.query_one("#chart-sweep", PlotextPlot)
        p = sw.plt
        p.clear_data()
        p.title("Sweep: output tokens/s vs e2e p95 (ms), SLO line")
        for e in snap.endpoints:
            pts = [s for s in e.sweep if s.e2e_p95_s is not None]
            if pts:
                p.plot(
                    [s.e2e_p95_s * 1e3 for s in pts if s.e2e_p95_s is not None],
                    [s.out_tps for s in pts],
                    label=e.name,
                    marker="dot",
                )
        slo = next((e.e2e.slo_ms for e in snap.endpoints if e.e2e.slo_ms), None)
        if slo is not None:
            p.vline(slo)
        p.xlabel("e2e p95 (ms)")
        p.ylabel("tok/s")
        sw.refresh()
