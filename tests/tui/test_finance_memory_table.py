"""The finance view's memory table at 80x24: KV tokens and max concurrent read whole (issue 19)."""

from __future__ import annotations

from textual.widgets import DataTable

from qtui.live.fake import FakeFeed
from qtui.tui.app import QtuiApp


def _screen_text(app: QtuiApp) -> list[str]:
    return [strip.text for strip in app.screen._compositor.render_strips()]


async def test_kv_tokens_and_max_concurrent_fit_80x24() -> None:
    app = QtuiApp(FakeFeed(n=4))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f")
        await pilot.pause()
        mem = app.query_one("#finance DataTable.fin-memory", DataTable)
        # the fake's bf16 states 400,000 KV tokens, 400,000 / 131,072 = 3.05 requests of its
        # 128k max_model_len; its 512 + 128 tokens fit 400,000 / 640 = 625 times
        assert mem.get_cell("bf16", "kv") == "400k tok"
        assert mem.get_cell("bf16", "conc") == "≤625 req@640 ≤3@128k tok"
        assert mem.get_cell("bf16", "weights") == "~15.0 GiB est."  # 8.03e9 × 2 B
        for table in app.query("#finance DataTable").results(DataTable):
            assert table.virtual_size.width <= table.size.width  # no column off screen
        text = "\n".join(_screen_text(app))
        assert "KV tokens" in text and "max concurrent" in text and "go/no-go" in text


async def test_peak_kv_use_and_preemptions_under_load_on_one_line() -> None:
    app = QtuiApp(FakeFeed(n=3))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f")
        await pilot.pause()
        text = "\n".join(_screen_text(app))
        assert "peak KV use / preemptions under load: bf16 " in text
