"""The app over a replay: the reviewer's what-ifs are written as a review session on quit, and the
exit message names it (as `qtui replay` prints it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from qtui.commands.replay import review_message
from qtui.live import intents as it
from qtui.live.replay import ReplayFeed
from qtui.session.reader import load_session
from qtui.session.synth import write_synthetic_session
from qtui.tui.app import QtuiApp


@pytest.fixture(autouse=True)
def xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("QTUI_PRICING_DIR", raising=False)


async def test_quit_writes_the_review_and_says_where(tmp_path: Path) -> None:
    original = write_synthetic_session(tmp_path / "r" / "synth.qtsession", endpoints=2, minutes=1)
    before = original.read_bytes()
    now = [0.0]
    feed = ReplayFeed(load_session(original), speed=10, clock=lambda: now[0], review_of=original)
    app = QtuiApp(feed)
    async with app.run_test(size=(100, 30)) as pilot:
        now[0] = 2.0
        app.send(it.SetReplicas("fp8", 7))
        await pilot.press("q")
    assert original.read_bytes() == before
    path = feed.saved_path
    assert path is not None and path.parent == original.parent
    assert path.name.startswith("synth-review-") and path.suffix == ".qtsession"
    assert review_message(feed) == f"review saved: {path} (qtui replay {path}; qtui report {path})"
    [ev] = [e for e in load_session(path).docs("event") if e.get("review")]
    assert (ev["key"], ev["value"], ev["previous"]) == ("endpoints.fp8.replicas", 7, "auto")
    assert ev["position_s"] == pytest.approx(20.0)


async def test_quit_without_changes_says_nothing(tmp_path: Path) -> None:
    original = write_synthetic_session(tmp_path / "synth.qtsession", endpoints=2, minutes=1)
    feed = ReplayFeed(load_session(original), clock=lambda: 0.0, review_of=original)
    async with QtuiApp(feed).run_test(size=(100, 30)) as pilot:
        await pilot.press("p", "q")
    assert feed.saved_path is None and review_message(feed) is None
    assert list(tmp_path.rglob("*review*")) == []
