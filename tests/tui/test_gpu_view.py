"""The cheapest-GPU view (key G) at 80x24 on a replayed session (issue 19)."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable

from qtui.live.replay import ReplayFeed
from qtui.session.reader import load_session
from qtui.tui.app import QtuiApp

SESSION = Path(__file__).parents[2] / "sessions" / "h100-smollm2-bf16-fp8-nf4.qtsession"


async def test_gpu_view_lists_precisions_on_every_gpu_cheapest_first() -> None:
    now = [0.0]
    feed = ReplayFeed(load_session(SESSION), speed=60, clock=lambda: now[0])
    app = QtuiApp(feed)
    async with app.run_test(size=(80, 24)) as pilot:
        now[0] = 3600.0  # the whole recording played
        await pilot.press("G")
        await pilot.pause()
        table = app.query_one("#gpus DataTable", DataTable)
        assert table.row_count >= 3 * 13
        assert table.virtual_size.width <= table.size.width  # every column on screen
        cells = [table.get_row_at(i) for i in range(table.row_count)]
        assert any(c[1] == "H100" and c[4] == "measured" for c in cells)
        assert any(c[4] == "projected" for c in cells)
