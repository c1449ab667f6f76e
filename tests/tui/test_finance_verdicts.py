"""The finance view at 80x24: GO, NO-GO and NOT DECIDED read whole, and why one is not decided."""

from __future__ import annotations

import dataclasses

from textual.widgets import DataTable

from qtui.live.fake import FakeFeed
from qtui.live.model import Snapshot
from qtui.tui.app import QtuiApp

# (decision, why not decided) per endpoint, baseline first, as qtui.decision states them
VERDICTS = (("go", ""), ("not-decided", "not enough items"), ("no-go", ""))


class ThreeVerdicts(FakeFeed):
    """The fake feed with the decision's three statuses on its three endpoints."""

    def snapshot(self) -> Snapshot:
        snap = super().snapshot()
        eps = tuple(
            dataclasses.replace(
                e,
                decision=d,
                undecided=why,
                verdict=f"NOT DECIDED ({why})" if why else d.upper(),
                go=d == "go",
            )
            for e, (d, why) in zip(snap.endpoints, VERDICTS, strict=True)
        )
        return dataclasses.replace(snap, endpoints=eps)


def _screen_text(app: QtuiApp) -> list[str]:
    return [strip.text for strip in app.screen._compositor.render_strips()]


async def test_three_verdicts_read_whole_at_80x24() -> None:
    app = QtuiApp(ThreeVerdicts(n=3))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f")
        await pilot.pause()
        table = app.query_one("#finance DataTable", DataTable)
        assert table.get_cell("bf16", "verdict") == "GO"
        assert table.get_cell("fp8", "verdict") == "NOT DECIDED"
        assert table.get_cell("int4-awq", "verdict") == "NO-GO"
        # the whole table is on screen: nothing to scroll sideways to
        assert table.virtual_size.width <= table.scrollable_content_region.width
        lines = _screen_text(app)
        rows: dict[str, str] = {}
        for ln in lines:  # the first table's rows (the memory table's come after)
            if ln.split() and ln.split()[0] in ("bf16", "fp8", "int4-awq"):
                rows.setdefault(ln.split()[0], ln)
        assert rows["bf16"].rstrip().endswith(" GO")
        assert rows["fp8"].rstrip().endswith(" NOT DECIDED")
        assert rows["int4-awq"].rstrip().endswith(" NO-GO")
        assert any("NOT DECIDED, so not recommended: fp8 (not enough items)" in ln
                   for ln in lines)  # fmt: skip
        assert all(len(ln) <= 80 for ln in lines)


async def test_every_verdict_decided_shows_no_undecided_line() -> None:
    app = QtuiApp(FakeFeed(n=3))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f")
        await pilot.pause()
        assert not any("NOT DECIDED" in ln for ln in _screen_text(app))
