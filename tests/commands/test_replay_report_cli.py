"""`qtui replay A B`, `qtui report A B`: sessions side by side; damaged files warn."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from qtui.cli import cli
from qtui.commands.replay import open_sessions
from qtui.live import intents as it
from qtui.live.replay import ReplayFeed
from qtui.tui.app import QtuiApp

SESSIONS = Path(__file__).resolve().parents[2] / "sessions"
DEMO = SESSIONS / "demo-llama8b-sim.qtsession"
LLAMA = SESSIONS / "llamacpp-smollm2.qtsession"


def test_two_sessions_replay_side_by_side_on_one_clock() -> None:
    s = open_sessions([DEMO, LLAMA])
    assert s.endpoints[:3] == ["demo/bf16", "demo/fp8", "demo/int4-awq"]
    assert all(n.startswith("llamacpp-smollm2/") for n in s.endpoints[3:])
    starts = (
        s.frame("client_second")
        .group_by(pl.col("endpoint").str.split("/").list.first().alias("session"))
        .agg(pl.col("t").min())
    )
    assert starts.height == 2
    # recorded on different days, aligned at the first session's start
    assert starts["t"].max() - starts["t"].min() < 60  # type: ignore[operator]
    now = [0.0]
    feed = ReplayFeed(s, speed=60, clock=lambda: now[0])
    assert feed.duration < 120
    now[0] = 10.0
    snap = feed.snapshot()
    assert {e.name for e in snap.endpoints} == set(s.endpoints)
    before = snap.endpoint("demo/fp8").cost.monthly_usd
    assert before is not None
    assert feed.send(it.SetHours(365)) is None  # what-ifs stay live on the merged recording
    after = feed.snapshot().endpoint("demo/fp8").cost.monthly_usd
    assert after == pytest.approx(before * 365 / 730)


async def test_replay_keys_pause_speed_seek_on_merged_sessions() -> None:
    now = [0.0]
    feed = ReplayFeed(open_sessions([DEMO, LLAMA]), speed=1, clock=lambda: now[0])
    app = QtuiApp(feed, title="replay")
    async with app.run_test(size=(140, 45)) as pilot:
        for _ in range(7):
            await pilot.press("greater_than_sign")
            await pilot.pause()
        assert feed.speed == 60
        await pilot.press("p")
        assert feed.playing is False
        await pilot.press("full_stop")
        await pilot.pause()
        assert feed.position == pytest.approx(10.0)
        await pilot.press("comma")
        await pilot.pause()
        assert feed.position == pytest.approx(0.0)


def test_replay_speed_out_of_range_is_one_line() -> None:
    res = CliRunner().invoke(cli, ["replay", str(DEMO), "--speed", "61"])
    assert res.exit_code == 2 and "between 1 and 60" in res.output
    assert res.output.count("\n") == 1


def test_report_compares_two_sessions(tmp_path: Path) -> None:
    older = tmp_path / "last-month.qtsession"
    shutil.copyfile(DEMO, older)
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["report", str(older), str(DEMO), "--out", str(out)])
    assert res.exit_code == 0, res.output
    md = (out / "last-month+demo-llama8b-sim-decision.md").read_text()
    assert "last-month/bf16" in md and "demo-llama8b-sim/int4-awq" in md
    summary = pl.read_csv(out / "last-month+demo-llama8b-sim-summary.csv")
    assert summary.height == 6


def _truncated(tmp_path: Path, fraction: float) -> Path:
    data = DEMO.read_bytes()
    cut = tmp_path / "cut.qtsession"
    cut.write_bytes(data[: int(len(data) * fraction)])
    return cut


def test_truncated_session_reports_with_one_warning_line(tmp_path: Path) -> None:
    cut = _truncated(tmp_path, 0.7)
    res = CliRunner().invoke(cli, ["report", str(cut), "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    warnings = [ln for ln in res.output.splitlines() if ln.startswith("qtui: warning:")]
    assert warnings and all(str(cut) in w and "damaged" in w for w in warnings)
    assert "Traceback" not in res.output
    check = CliRunner().invoke(cli, ["check", str(cut)])
    assert check.exit_code == 0 and "readable with" in check.output


def test_truncated_session_opens_for_replay(tmp_path: Path) -> None:
    s = open_sessions([_truncated(tmp_path, 0.7)])
    assert s.warnings and s.frame("client_second").height > 0
    feed = ReplayFeed(s, speed=60, clock=lambda: 0.0)
    assert "damaged" in feed.snapshot().run.message


def test_cut_before_the_manifest_is_one_clear_line(tmp_path: Path) -> None:
    cut = tmp_path / "cut.qtsession"
    cut.write_bytes(DEMO.read_bytes()[:1000])  # inside the manifest, the zip's first member
    res = CliRunner().invoke(cli, ["report", str(cut), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and str(cut) in res.output
    assert res.output.count("\n") == 1 and "Traceback" not in res.output
