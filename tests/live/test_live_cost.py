"""Cost what-ifs in the live app against the real simulator: own price, discount and a saved
price table end up in the session file, and a replay elsewhere prices from them."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_controller import feed_for, until

from qtui.live.replay import ReplayFeed
from qtui.session import load_session
from qtui.sim.launcher import SimProcess
from qtui.tui.app import QtuiApp


async def test_what_if_prices_and_saved_table_are_recorded(
    sim_demo: SimProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("QTUI_PRICING_DIR", raising=False)
    feed = feed_for(sim_demo, tmp_path)
    app = QtuiApp(feed)
    async with app.run_test(size=(160, 48)) as pilot:
        await until(pilot, "the measurement process to be ready", feed.ready.is_set)
        await pilot.press("c")
        await pilot.press("d", *"20", "enter")  # bf16: committed −20 %
        await pilot.press("dollar_sign", *"2.75", "enter")  # then its own price
        await pilot.press("S", *"negotiated", "enter")
        await app.workers.wait_for_complete()
        saved = tmp_path / "xdg" / "qtui" / "pricing" / "negotiated.toml"
        assert saved.is_file()
        assert "negotiated" in feed.snapshot().cost.price_tables
        await pilot.press("q")
    assert feed.saved_path is not None
    s = load_session(feed.saved_path)
    whatif = [(e["key"], e["value"]) for e in s.docs("event") if e["kind"] == "whatif"]
    assert whatif == [
        ("endpoints.bf16.committed_discount_pct", 20.0),
        ("endpoints.bf16.pricing", "committed"),
        ("endpoints.bf16.usd_per_gpu_hour", 2.75),
    ]
    notes = [e for e in s.docs("event") if e["key"] == "price_table_saved"]
    assert notes[0]["value"] == {"name": "negotiated", "path": str(saved), "based_on": "aws"}
    assert "negotiated" in s.price_tables  # the table itself travels with the session

    # on a machine without the saved file the replay uses the recorded table
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "elsewhere"))
    replay = ReplayFeed(s, speed=60)
    replay.position = replay.duration
    snap = replay.snapshot()
    assert "negotiated" in snap.cost.price_tables
    bf16 = snap.endpoint("bf16").cost
    # committed $2.75 is stored as on-demand 2.75 ÷ 0.8 = $3.4375; it reads back as $2.75
    (row,) = s.price_tables["negotiated"].rows_for("H100")
    assert row.on_demand_usd_per_hour == pytest.approx(3.4375)
    assert (bf16.own_price, bf16.usd_per_gpu_hour, bf16.category) == (True, 2.75, "committed")


async def test_energy_per_month_from_the_simulators_measured_power(
    sim_demo: SimProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DCGM power from the simulator over real HTTP: with 3 replicas set by hand (no sweep yet)
    the energy is priced from the measured W per GPU and says on what basis."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    feed = feed_for(sim_demo, tmp_path)
    app = QtuiApp(feed)
    async with app.run_test(size=(160, 48)) as pilot:
        await until(pilot, "the measurement process to be ready", feed.ready.is_set)
        await pilot.press("c")
        await pilot.press("r", "3", "enter")  # bf16: 3 replicas
        await until(
            pilot,
            "a power reading",
            lambda: feed.snapshot().endpoint("bf16").cost.energy_month_usd is not None,
        )
        c = feed.snapshot().endpoint("bf16").cost
        await pilot.press("q")
    watts, _, basis = c.energy_power.partition(" W/GPU ")
    # the level held so far, once measured long enough; else the recent mean
    assert basis.startswith(("mean of the last 60 s", "at load level "))
    assert c.energy_basis.startswith(f"{c.energy_power} × 3 × 1 GPU × 730 h × $0.12/kWh")
    # W × 3 replicas × 1 GPU × 730 h ÷ 1000 × $0.12 (W shown rounded to the watt)
    assert c.energy_month_usd == pytest.approx(float(watts) * 3 * 730 / 1000 * 0.12, abs=0.14)
    assert float(watts) > 0
