"""The app judges golden items in a thread, one job at a time, the latest items winning; the
quality view shows what the same rule (``qtui.evidence.judging.judge``) says (issue 18)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest
from quality_session import quality_records, write_quality_session
from textual.pilot import Pilot

import qtui.evidence.judging as judging
from qtui.live.replay import ReplayFeed
from qtui.session.reader import load_session
from qtui.tui.app import QtuiApp
from qtui.tui.widgets.quality.lines import noise_lines, table, tag_table

N_LARGE = 1000  # items per pass: 4,000 records, the size the issue measured


@pytest.fixture(autouse=True)
def xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("QTUI_PRICING_DIR", raising=False)


async def settled(app: QtuiApp, pilot: Pilot[None]) -> None:
    """Until no judgement runs and none is due (worker events, no sleeps)."""
    feed = app.feed
    assert isinstance(feed, ReplayFeed)
    for _ in range(20):
        await app.workers.wait_for_complete()
        await pilot.pause()
        if not app.judging and feed.quality_job() is None:
            return
    raise AssertionError("the judgement never caught up with the items")


def screen_lines(app: QtuiApp) -> list[str]:
    return [s.text.rstrip() for s in app.screen._compositor.render_strips()]


def spy(
    monkeypatch: pytest.MonkeyPatch,
    gate: threading.Event | None = None,
    entered: threading.Event | None = None,
) -> list[tuple[int, int]]:
    """Record (thread, items) of every call of the rule; the first sets ``entered`` and waits
    for ``gate``."""
    calls: list[tuple[int, int]] = []
    real = judging.summarize

    def summarize(records: Any, *args: Any) -> Any:
        calls.append((threading.get_ident(), len(records)))
        if gate is not None and entered is not None and len(calls) == 1:
            entered.set()
            assert gate.wait(60), "the test never opened the gate"
        return real(records, *args)

    monkeypatch.setattr(judging, "summarize", summarize)
    return calls


async def test_a_large_golden_run_is_judged_off_the_loop_by_the_same_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_quality_session(tmp_path / "q.qtsession", n=N_LARGE)
    # what the rule says, judged here in this thread (as `qtui report` does)
    expected = ReplayFeed(load_session(path), clock=lambda: 1e9).snapshot()
    assert max(e.quality.items for e in expected.endpoints) == N_LARGE
    calls = spy(monkeypatch)
    app = QtuiApp(ReplayFeed(load_session(path), clock=lambda: 1e9))
    loop_thread = threading.get_ident()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("v")
        await settled(app, pilot)
        lines = screen_lines(app)
    assert calls and all(thread != loop_thread for thread, _ in calls)
    assert calls[-1][1] == 4 * N_LARGE
    assert all(len(ln) <= 80 for ln in lines)
    screen = "\n".join(lines)
    assert f"{N_LARGE} golden items per precision" in screen
    for want in table(expected) + tag_table(expected):
        assert want.rstrip()[:80] in screen
    assert noise_lines(expected)[0] in screen  # the noise floor, in the record's words


async def test_items_that_come_in_while_judging_go_into_one_next_job(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_quality_session(tmp_path / "q.qtsession")  # 400 items per pass
    more = [r for r in quality_records(410) if int(r["item_id"][1:]) >= 400]
    gate, entered = threading.Event(), threading.Event()
    calls = spy(monkeypatch, gate, entered)
    feed = ReplayFeed(load_session(path), clock=lambda: 1e9)
    app = QtuiApp(feed)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("v")
        assert await asyncio.to_thread(entered.wait, 60)  # the first job is in, held at the gate
        assert app.judging and [n for _, n in calls] == [1600]
        for batch in (more[:20], more[20:]):  # two batches arrive while it runs
            for rec in batch:
                feed.state.ingest("quality_item", rec)
            app.tick(force=True)
            await pilot.pause()
        assert [n for _, n in calls] == [1600]  # still one in flight
        gate.set()
        await settled(app, pilot)
        screen = "\n".join(screen_lines(app))
    assert [n for _, n in calls] == [1600, 1640]  # both batches judged in one next job
    assert "410 golden items per precision" in screen
