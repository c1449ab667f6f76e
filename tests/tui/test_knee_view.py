"""A knee search in the app at 80x24: its progress in the status line, and the sweep chart
marking every level tested, the breaches and the knee (Textual's pilot)."""

from __future__ import annotations

import re
from dataclasses import replace

from rich.text import Text
from textual_plotext import PlotextPlot

from qtui.live.fake import FakeFeed
from qtui.live.model import Snapshot, SweepPoint
from qtui.load.knee import KneeSearch
from qtui.tui.app import QtuiApp
from qtui.tui.widgets.status.line import StatusLine

TESTED = (  # level, tok/s, e2e p95 s, passed
    (1, 40.0, 0.9, True), (4, 150.0, 1.0, True), (16, 560.0, 1.4, True),
    (32, 700.0, 3.1, False), (22, 650.0, 1.8, True), (27, 680.0, 2.6, False),
)  # fmt: skip


def search() -> KneeSearch:
    s = KneeSearch([1, 4, 16], max_steps=12)
    for level, _, p95, ok in TESTED:
        s.record(level, ok, p95 / 2.5)
    return s


class KneeFeed(FakeFeed):
    """The fake feed with one endpoint mid-search: its tested levels and its knee so far."""

    def snapshot(self) -> Snapshot:
        snap = super().snapshot()
        line = search().status("bf16", 24, "users")
        pts = tuple(SweepPoint(lv, tps, p95, ok) for lv, tps, p95, ok in TESTED)
        eps = tuple(replace(e, sweep=pts, knee=22.0) for e in snap.endpoints[:1])
        return replace(snap, run=replace(snap.run, mode="sweep", search=line),
                       endpoints=eps + snap.endpoints[1:])  # fmt: skip


def test_the_status_words() -> None:
    assert search().status("fp8", 24, "users") == "fp8 24 users, 22–27 (±10.2 %), step 7 of ≤ 12"


async def test_status_line_and_chart_at_80x24() -> None:
    app = QtuiApp(KneeFeed(n=3))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        seen = Text.from_markup(app.query_one(StatusLine).text).plain[:80]
        assert seen.startswith("knee bf16 24 users, 22–27 (±10.2 %), step 7 of ≤ 12 · "), seen
        await pilot.press("g")
        await pilot.pause()
        chart = app.query_one("#chart-sweep", PlotextPlot)
        drawn = re.sub(r"\x1b\[[0-9;]*m", "", chart.plt.build()).splitlines()
        assert "x breach, | knee" in drawn[0]
        plot = "\n".join(drawn[1:])
        assert "bf16 knee 22" in plot  # the knee, labelled, on its vertical line
        assert plot.count("x") >= 2  # the two breaches (27 and 32 users)
