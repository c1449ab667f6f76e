"""Replay: recorded data through the same view state, with a live cost panel and seekable clock."""

from __future__ import annotations

from pathlib import Path

import pytest

from qtui.live import intents as it
from qtui.live.replay import ReplayFeed
from qtui.session.reader import load_session
from qtui.session.synth import synth_profile, write_synthetic_session
from qtui.session.writer import SessionWriter
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


def _priced(feed: ReplayFeed, name: str = "bf16") -> tuple[str, str, float | None, float | None]:
    c = feed.snapshot().endpoint(name).cost
    return c.gpu, c.price_table, c.usd_per_gpu_hour, c.usd_per_1m


def test_seek_back_and_forth_keeps_a_gpu_only_the_later_table_has(
    session_path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """synth → gcp, then L4 (gcp prices L4, synth does not): every seek shows that state."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    feed, now = _feed(session_path)
    now[0] = 3.0  # 30 s in
    assert feed.send(it.SetPriceTable("bf16", "gcp")) is None
    assert feed.send(it.SetGpu("bf16", "L4")) is None
    assert feed.send(it.SetCategory("bf16", "spot")) is None

    def bf16() -> dict[str, object]:  # the recorded 20 → 40 req/s at 60 s applies on its own
        return {k: v for k, v in feed.state.whatif.snapshot().items() if ".bf16." in k}

    wanted = bf16()
    gpu, table, usd, _ = _priced(feed)
    assert (gpu, table) == ("L4", "gcp") and usd is not None
    for delta, position in ((-20, 10.0), (40, 50.0), (-45, 5.0), (100, 60.0), (-60, 0.0)):
        feed.send(it.Seek(delta))
        snap = feed.snapshot()
        assert snap.run.replay is not None and snap.run.replay.position_s == position
        assert bf16() == wanted, position
        assert _priced(feed)[:3] == ("L4", "gcp", usd)
    feed.send(it.Seek(60))
    assert feed.snapshot().endpoint("bf16").cost.usd_per_1m is not None  # the sweep is back


def test_seek_back_keeps_a_change_made_after_a_recorded_whatif(session_path: Path) -> None:
    """The recording sets 40 req/s at its end; the reviewer then sets 25. Seeking back and
    playing to the end again does not re-apply the recorded 40 over the 25."""
    feed, now = _feed(session_path)
    now[0] = 100.0
    assert feed.snapshot().cost.traffic_rps == 40
    assert feed.send(it.SetTraffic(25)) is None
    feed.send(it.Seek(-30))
    assert feed.snapshot().cost.traffic_rps == 25
    feed.send(it.Seek(30))
    assert feed.snapshot().cost.traffic_rps == 25
    feed.send(it.Seek(-60))
    feed.send(it.TogglePlay())  # ended: plays from the start again, same what-if
    feed.send(it.Seek(60))
    assert feed.snapshot().cost.traffic_rps == 25


def test_a_recorded_whatif_not_yet_reached_still_applies_after_a_seek(session_path: Path) -> None:
    feed, now = _feed(session_path)
    now[0] = 3.0  # 30 s in: the recorded 20 → 40 req/s at 60 s is still ahead
    assert feed.snapshot().cost.traffic_rps == 20
    feed.send(it.Seek(-20))
    assert feed.snapshot().cost.traffic_rps == 20
    feed.send(it.Seek(60))
    assert feed.snapshot().cost.traffic_rps == 40


def test_a_benched_sweep_replays_at_the_level_its_seconds_ran(tmp_path: Path) -> None:
    # qtui bench writes no level events: a knee step at 4 users of a profile whose
    # concurrency is 8 read "sweep 8 users" on the replay's status line
    prof = synth_profile(1)
    assert prof.load.mode == "sweep" and prof.load.concurrency == 8
    path = tmp_path / "knee.qtsession"
    with SessionWriter(path, profile=prof, meta={"command": "qtui bench"}) as w:
        for t in range(4):
            w.append("client_second", {"endpoint": "bf16", "t": 100.0 + t, "duration_s": 1.0,
                                       "requests": 1, "rps": 1.0, "out_tps": 32.0,
                                       "level": 4.0})  # fmt: skip
    feed, now = _feed(path)
    now[0] = 100.0
    assert feed.snapshot().run.level == 4.0
