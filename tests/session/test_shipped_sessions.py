"""Every session in sessions/ opens cleanly: check, replay (live cost panel), report."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from qtui.cli import cli
from qtui.live import intents as it
from qtui.live.replay import ReplayFeed
from qtui.session.reader import load_session
from qtui.tui.app import QtuiApp

SESSIONS = sorted((Path(__file__).resolve().parents[2] / "sessions").glob("*.qtsession"))
DEMO = SESSIONS[0].parent / "demo-llama8b-sim.qtsession"


def test_the_demo_session_is_shipped_and_small() -> None:
    assert DEMO in SESSIONS
    assert DEMO.stat().st_size < 1_000_000


@pytest.mark.parametrize("path", SESSIONS, ids=lambda p: p.name)
def test_check_says_ok(path: Path) -> None:
    res = CliRunner().invoke(cli, ["check", str(path)])
    assert res.exit_code == 0, res.output
    assert f"{path}: ok (session v" in res.output


@pytest.mark.parametrize("path", SESSIONS, ids=lambda p: p.name)
def test_replay_to_the_end_has_costs_and_quality(path: Path) -> None:
    s = load_session(path)
    now = [0.0]
    feed = ReplayFeed(s, speed=60, clock=lambda: now[0])
    now[0] = 3600.0
    snap = feed.snapshot()
    assert snap.run.replay is not None and snap.run.replay.position_s == pytest.approx(
        feed.duration
    )
    assert s.profile is not None
    for e in s.profile.endpoints:
        if e.gpu == "cpu" and not s.frame("sweep_level").height:
            continue
        view = snap.endpoint(e.name)
        if path == DEMO:
            assert view.cost.monthly_usd is not None, (e.name, view.cost)
        else:  # a real recording may hold a precision that never met the SLO: it must say so
            assert view.cost.monthly_usd is not None or view.cost.reason, (e.name, view.cost)
    assert feed.send(it.SetHours(365)) is None  # the cost panel stays live in replay


def test_demo_session_has_sweep_quality_and_gpu() -> None:
    s = load_session(DEMO)
    assert set(s.frame("sweep_level")["endpoint"].to_list()) == {"bf16", "fp8", "int4-awq"}
    q = s.docs("quality_summary")[0]
    assert {e["verdict"] for e in q["endpoints"]} >= {"go", "no-go"}
    assert s.frame("gpu_sample")["memory_used"].min() > 0


def test_report_on_the_demo_session(tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, ["report", str(DEMO), "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    md = (tmp_path / "demo-llama8b-sim-decision.md").read_text()
    assert "## Recommendation" in md and "int4-awq" in md and "NO-GO" in md
    assert (tmp_path / "demo-llama8b-sim-decision.html").read_text().count("<svg") >= 2
    assert (tmp_path / "demo-llama8b-sim-summary.csv").read_text().startswith("session,endpoint,")


async def test_app_opens_on_the_demo_session() -> None:
    feed = ReplayFeed(load_session(DEMO), speed=60, clock=lambda: 0.0)  # the clock stands still
    app = QtuiApp(feed, title="replay")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("p")
        assert feed.playing is False
