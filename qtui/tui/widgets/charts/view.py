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
        self._sweep(snap)

    def _sweep(self, snap: Snapshot) -> None:
        """e2e p95 at each load level the sweep (or knee search) tested: breaches as x, the
        knee (the capacity's level) as a vertical line, the SLO as a horizontal one."""
        sw = self.query_one("#chart-sweep", PlotextPlot)
        p = sw.plt
        p.clear_data()
        p.title("Sweep: e2e p95 (ms) per level tested; x breach, | knee, — SLO")
        top = 0.0
        for e in snap.endpoints:
            pts = sorted((s for s in e.sweep if s.e2e_p95_s is not None), key=lambda s: s.level)
            if not pts:
                continue
            ms = [(s.e2e_p95_s or 0.0) * 1e3 for s in pts]
            top = max(top, *ms)
            p.plot([s.level for s in pts], ms, label=e.name, marker="dot")
            bad = [(s.level, m) for s, m in zip(pts, ms, strict=True) if not s.ok]
            if bad:
                p.scatter([lv for lv, _ in bad], [m for _, m in bad], marker="x")
        for e in snap.endpoints:
            if e.knee is not None and e.sweep:
                p.vline(e.knee)
                p.text(f"{e.name} knee {e.knee:g}", e.knee, top, alignment="left")
        slo = next((e.e2e.slo_ms for e in snap.endpoints if e.e2e.slo_ms), None)
        if slo is not None:
            p.hline(slo)
        p.xlabel("load level (users or req/s)")
        p.ylabel("ms")
        sw.refresh()
