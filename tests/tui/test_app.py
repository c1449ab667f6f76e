"""Pilot tests of the app's interactions against the deterministic fake feed."""

from __future__ import annotations

from textual.widgets import DataTable

from qtui.live import intents as it
from qtui.live.fake import FakeFeed
from qtui.tui.app import QtuiApp
from qtui.tui.widgets.endpoints.column import EndpointColumn
from qtui.tui.widgets.help.screen import HelpScreen
from qtui.tui.widgets.status.line import StatusLine
from qtui.tui.widgets.text import Cell


def _cell(app: QtuiApp, endpoint: str, cls: str) -> str:
    return app.query_one(f"#ep-{endpoint} .{cls}", Cell).text


async def test_columns_baseline_first_with_units(app: QtuiApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        cols = list(app.query(EndpointColumn))
        assert [c.endpoint_name for c in cols] == ["bf16", "fp8", "int4-awq"]
        assert "baseline" in cols[0].classes
        assert "tok/s" in _cell(app, "bf16", "throughput")
        assert "req/s" in _cell(app, "bf16", "throughput")
        assert "ms" in _cell(app, "bf16", "ttft")
        assert "GiB" in _cell(app, "bf16", "memory")
        assert "/1M tok" in _cell(app, "fp8", "cost-unit")
        assert "/mo" in _cell(app, "fp8", "cost-month")
        assert "NO-GO" in _cell(app, "int4-awq", "quality")


async def test_level_and_mode_keys_send_intents() -> None:
    feed = FakeFeed()
    app = QtuiApp(feed)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("right_square_bracket")
        assert app.snap is not None and app.snap.run.level == 32
        assert "concurrency 32 users" in app.query_one(StatusLine).text
        await pilot.press("left_square_bracket", "left_square_bracket")
        assert app.snap.run.level == 8
        await pilot.press("o")
        assert app.snap.run.mode == "rate"
        assert "rate 4 req/s" in app.query_one(StatusLine).text
        await pilot.press("space")
        assert app.snap.run.running is False
        assert "load off" in app.query_one(StatusLine).text
        await pilot.press("w")
        assert app.snap.run.workload == "golden"
        assert it.StepLevel(1) in feed.log


async def test_cost_whatif_updates_cells_within_one_refresh(app: QtuiApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("c")
        table = app.query_one("#cost DataTable", DataTable)
        # bf16: need = ceil(20 req/s × 1.2 / 6 req/s) = 4 replicas; 4 × $6.88 × 730 h = $20,090
        assert table.get_cell("bf16", "month") == "$20,090/mo"
        await pilot.press("plus")
        # 5 × 6.88 × 730 = 25,112
        assert table.get_cell("bf16", "replicas") == "5 set (need 4)"
        assert table.get_cell("bf16", "month") == "$25,112/mo"
        await pilot.press("a")
        assert table.get_cell("bf16", "replicas") == "4 auto (need 4)"
        await pilot.press("h")
        await pilot.press(*"365", "enter")
        # 4 × 6.88 × 365 = 10,044.8
        assert table.get_cell("bf16", "month") == "$10,045/mo"
        await pilot.press("down", "k")
        assert table.get_cell("fp8", "category") == "spot"


async def test_rejected_whatif_keeps_previous_value(app: QtuiApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("c", "h", *"800", "enter")
        assert app.snap is not None and app.snap.cost.hours_per_month == 730
        await pilot.press("t", *"abc", "enter")
        assert app.snap.cost.traffic_rps == 20


async def test_finance_view_toggles(app: QtuiApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f")
        assert app.view == "finance"
        table = app.query_one("#finance DataTable", DataTable)
        assert table.get_cell("fp8", "reduction") == "−25%"
        assert table.get_cell("int4-awq", "verdict") == "NO-GO"
        assert table.get_cell("bf16", "reduction") == "baseline"
        await pilot.press("m")
        assert app.view == "main"


async def test_help_lists_every_binding(app: QtuiApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        screen = app.screen
        assert isinstance(screen, HelpScreen)
        listed = {desc for _, _, desc in screen.rows}
        for _, bindings in app.help_sections():
            for b in bindings:
                desc = b.description if hasattr(b, "description") else b[2]  # type: ignore[union-attr,index]
                assert desc in listed
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_dead_endpoint_greys_out_others_go_on() -> None:
    app = QtuiApp(FakeFeed(dead=("fp8",)))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "dead" in app.query_one("#ep-fp8").classes
        assert "connection refused" in _cell(app, "fp8", "reason")
        assert "tok/s" in _cell(app, "bf16", "throughput")
        assert "dead" not in app.query_one("#ep-bf16").classes


async def test_quit_stops_feed(fake: FakeFeed, app: QtuiApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("q")
    assert fake.stopped


async def test_unchanged_snapshot_is_not_redrawn(fake: FakeFeed, app: QtuiApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        before = app.refreshes
        app.tick()
        app.tick()
        assert app.refreshes == before
        fake.advance()
        app.tick()
        assert app.refreshes == before + 1
        await pilot.pause()


async def test_refresh_keeps_running_under_help_screen(fake: FakeFeed, app: QtuiApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        fake.advance()
        app.tick()  # must not look for widgets on the modal screen
        assert app.snap is not None and app.snap.seq == fake.snapshot().seq
        await pilot.press("escape", "right_square_bracket")
        assert "32 users" in app.query_one(StatusLine).text


async def test_a_failing_endpoint_says_backing_off_at_80x24() -> None:
    app = QtuiApp(FakeFeed(failing=("fp8",)))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        text = _cell(app, "fp8", "reason")
        assert text.startswith("backing off (2 users); 2 silent for 4 s")
        assert _cell(app, "bf16", "reason") == ""
        cell = app.query_one("#ep-fp8 .reason", Cell)
        assert cell.region.height >= 1 and cell.region.bottom <= 24  # on screen
