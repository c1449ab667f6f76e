"""Replay: recorded data through the same view state, with a live cost panel and seekable clock."""

from __future__ import annotations

from pathlib import Path

import pytest

from qtui.live import intents as it
from qtui.live.replay import ReplayFeed
from qtui.session.reader import load_session
from qtui.session.synth import write_synthetic_session
from qtui.tui.app import QtuiApp


@pytest.fixture(scope="module")
def session_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_synthetic_session(
        tmp_path_factory.mktemp("s") / "synth.qtui", endpoints=3, minutes=1
    )


def _feed(path: Path) -> tuple[ReplayFeed, list[float]]:
    now = [0.0]
    return ReplayFeed(load_session(path), speed=10, clock=lambda: now[0]), now


def test_clock_speed_pause_seek(session_path: Path) -> None:
    feed, now = _feed(session_path)
    now[0] = 2.0
    assert feed.snapshot().run.replay.position_s == pytest.approx(20.0)  # type: ignore[union-attr]
    feed.send(it.TogglePlay())
    now[0] = 5.0
    assert feed.snapshot().run.replay.position_s == pytest.approx(20.0)  # type: ignore[union-attr]
    feed.send(it.Seek(-10))
    assert feed.snapshot().run.replay.position_s == pytest.approx(10.0)  # type: ignore[union-attr]
    assert feed.send(it.SetSpeed(600)) is None
    assert feed.speed == 60
    assert feed.send(it.StartLoad()) is not None  # no load in replay


def test_cost_whatif_recomputes_from_recording(session_path: Path) -> None:
    feed, now = _feed(session_path)
    now[0] = 100.0  # past the end: everything ingested
    before = feed.snapshot().endpoint("bf16").cost
    assert before.monthly_usd is not None and before.replicas is not None
    assert feed.send(it.SetHours(365)) is None
    after = feed.snapshot().endpoint("bf16").cost
    # monthly = replicas × GPUs × $/GPU-h × hours: halving the hours halves the bill
    assert after.monthly_usd == pytest.approx(before.monthly_usd * 365 / 730)
    assert feed.send(it.SetHours(800)) is not None
    assert feed.snapshot().cost.hours_per_month == 365


async def test_app_replay_keys(session_path: Path) -> None:
    feed, _ = _feed(session_path)
    app = QtuiApp(feed)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("p")
        assert feed.playing is False
        await pilot.press("greater_than_sign")
        assert feed.speed == 20
        await pilot.press("f")
        assert app.view == "finance"


def test_missing_price_table_replays_with_recorded_prices(session_path: Path) -> None:
    feed, now = _feed(session_path)  # recorded with table "synth", not installed here
    assert any("not installed here; using the prices recorded" in n for n in feed.notes)
    now[0] = 100.0
    snap = feed.snapshot()
    assert "synth" in snap.run.message and "recorded" in snap.run.message
    assert all(e.cost.usd_per_gpu_hour is not None for e in snap.endpoints)
