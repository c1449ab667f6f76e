"""The quality view (v) at 80x24 over a replayed session: every precision's verdict with its
intervals, the noise floor and each flip rate against it, the verdict per tag (issue 18)."""

from __future__ import annotations

from pathlib import Path

import pytest
from quality_session import write_quality_session

from qtui.live.replay import ReplayFeed
from qtui.session.decision import decide
from qtui.session.reader import load_session
from qtui.tui.app import QtuiApp


@pytest.fixture(autouse=True)
def xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("QTUI_PRICING_DIR", raising=False)


async def test_quality_view_at_80x24_says_what_the_record_says(tmp_path: Path) -> None:
    path = write_quality_session(tmp_path / "q.qtsession")
    session = load_session(path)
    feed = ReplayFeed(session, clock=lambda: 1e9)  # the clock past the end: everything fed
    app = QtuiApp(feed)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("v")
        await app.workers.wait_for_complete()  # the golden items are judged in a thread
        await pilot.pause()
        lines = [s.text.rstrip() for s in app.screen._compositor.render_strips()]
    assert all(len(ln) <= 80 for ln in lines)
    screen = "\n".join(lines)
    rows: dict[str, str] = {}
    for ln in lines:  # the first line starting with each word: the table's rows
        if ln.split():
            rows.setdefault(ln.split()[0], ln)
    assert rows["int8"].endswith("10.0 (7.1 to 13.2)  10.0% NOT DECIDED")
    assert rows["fp8"].split()[1:3] == ["90.0%", "86.7–92.6"]
    assert "noise floor: bf16 vs itself 2.0% flips (95% up to 3.9%) on 400 items" in screen
    d = decide(session)
    assert d.outcome.noise_floor in screen  # the record's words
    flat = " ".join(screen.split())  # wrapped lines read as one
    for name in ("fp8", "int8"):
        assert f"{name}: {d.outcome.get(name).noise}" in flat
    assert "fp8: flips 3.0% vs bf16, bf16 vs itself 2.0% (95% up to 3.9%): within the" in screen
    assert rows["risk:high"].split() == ["risk:high", "GO", "NO-GO"]
    assert rows["risk:low"].split() == ["risk:low", "GO", "GO"]
