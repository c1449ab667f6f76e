"""Pilot tests: the cost view's detail lines ($/1M input, $/request, blended $/1M, energy per
month from measured GPU power) and the finance view's energy line, over a replayed synthetic
session; every figure recomputed here by hand from the recorded rows."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot

from qtui.cost.figure import USD_MONTH, USD_PER_M_TOKENS, USD_PER_REQUEST, format_value
from qtui.live.replay import ReplayFeed
from qtui.session.decision import decide
from qtui.session.reader import Session, load_session
from qtui.session.synth import write_synthetic_session
from qtui.tui.app import QtuiApp
from qtui.tui.widgets.text import Cell
from tests.session.by_hand import power_basis

HOURS, USD_PER_KWH, SYNTH_ON_DEMAND = 730, 0.12, 4.0


def capacity_level(session: Session, name: str) -> float:
    """The capacity level the decision record (and so the app) prices this endpoint at."""
    level = decide(session).row(name).capacity.level
    assert level is not None
    return level


@pytest.fixture(scope="module")
def session_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_synthetic_session(
        tmp_path_factory.mktemp("energy") / "synth.qtui", endpoints=3, minutes=1
    )


@pytest.fixture(autouse=True)
def xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("QTUI_PRICING_DIR", raising=False)


def by_hand(session: Session, name: str, replicas: int) -> dict[str, str]:
    """Each detail-line figure for one endpoint, recomputed from the recorded rows."""
    level = capacity_level(session, name)
    row, watts, basis = power_basis(session, name, level)
    per_1m_out = SYNTH_ON_DEMAND / (row["out_tps"] * 3600) * 1e6
    mix = row["in_tps"] / row["out_tps"]
    # energy $/month = W × replicas × 1 GPU × 730 h ÷ 1000 × $/kWh
    energy = watts * replicas * 1 * HOURS / 1000 * USD_PER_KWH
    return {
        "input": format_value(SYNTH_ON_DEMAND / (row["in_tps"] * 3600) * 1e6, USD_PER_M_TOKENS),
        "request": format_value(SYNTH_ON_DEMAND / (row["rps"] * 3600), USD_PER_REQUEST),
        "blended": format_value(per_1m_out / (1 + mix), USD_PER_M_TOKENS),
        "mix": f"{mix:.2f}:1 in:out",
        "energy": format_value(energy, USD_MONTH),
        "watts": f"{watts:.0f} W/GPU {basis}",
        "level": f"{level:g}",
    }


def line_of(lines: list[str], start: str) -> str:
    """The cost view's detail line that starts so (other lines, e.g. the fit check, come and go)."""
    (line,) = [x for x in lines if x.startswith(start)]
    return line


async def _play(pilot: Pilot[None], now: list[float], view: str) -> None:
    now[0] = 100.0  # past the end: the whole recording is in
    await pilot.press(view)
    await pilot.pause()


async def test_cost_view_detail_lines_follow_the_selected_row(session_path: Path) -> None:
    now = [0.0]
    session = load_session(session_path)
    feed = ReplayFeed(session, speed=10, clock=lambda: now[0])
    app = QtuiApp(feed)
    async with app.run_test(size=(80, 24)) as pilot:
        await _play(pilot, now, "c")
        for name in ("bf16", "fp8"):
            replicas = feed.snapshot().endpoint(name).cost.replicas
            assert replicas is not None
            want = by_hand(session, name, replicas)
            lines = app.query_one(".cost-source", Cell).text.splitlines()
            assert lines[0].startswith(f"[b]{name}[/b] priced from synth")
            assert lines[1].startswith(f"capacity {feed.snapshot().endpoint(name).capacity}")
            assert line_of(lines, "input ") == (
                f"input {want['input']} · {want['request']} · blended {want['blended']} at "
                f"{want['mix']} (measured at load level {want['level']})"
            )
            assert line_of(lines, "energy") == (
                f"energy {want['energy']} (not in $/month): {want['watts']} × {replicas} × "
                f"1 GPU × {HOURS} h × ${USD_PER_KWH:g}/kWh"
            )
            # at 80 columns the values come first: what the clipped lines still show
            assert len(f" input {want['input']} · {want['request']} · blended") < 80
            await pilot.press("down")
            await pilot.pause()


async def test_finance_view_energy_line_and_a_cell_without_power(session_path: Path) -> None:
    now = [0.0]
    session = load_session(session_path)
    feed = ReplayFeed(session, speed=10, clock=lambda: now[0])
    app = QtuiApp(feed)
    async with app.run_test(size=(80, 24)) as pilot:
        await _play(pilot, now, "f")
        line = app.query_one(".fin-energy", Cell).text
        assert line.startswith("energy at measured GPU power, not in monthly: ")
        for name in ("bf16", "fp8", "int8"):
            replicas = feed.snapshot().endpoint(name).cost.replicas
            assert replicas is not None
            want = by_hand(session, name, replicas)
            assert f"{name} [b]{want['energy']}[/b] ({want['watts']})" in line

    # the same recording without GPU telemetry: the cells say why, no number
    now[0] = 0.0
    bare = ReplayFeed(session, speed=10, clock=lambda: now[0])
    keep = [r for r in bare.records if r[1] != "gpu_sample"]
    bare.records, bare.times = keep, [r[0] for r in keep]
    app = QtuiApp(bare)
    async with app.run_test(size=(80, 24)) as pilot:
        await _play(pilot, now, "f")
        assert bare.snapshot().endpoint("bf16").cost.replicas == 12  # sized: only power missing
        line = app.query_one(".fin-energy", Cell).text
        assert "bf16 no power reading (no GPU telemetry)" in line
        await pilot.press("c")
        await pilot.pause()
        lines = app.query_one(".cost-source", Cell).text.splitlines()
        assert line_of(lines, "energy") == "energy: no power reading (no GPU telemetry)"
