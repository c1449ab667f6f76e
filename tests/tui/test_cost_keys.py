"""Pilot tests of the cost view's price keys ($ own price, d discount, R region, S save table)
against a replayed synthetic session: the real view state, what-if and price tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable

from qtui.config.catalog import load_price_table
from qtui.config.paths import shipped_pricing_dir
from qtui.live.model import CostView, EndpointView, RunView, Snapshot
from qtui.live.replay import ReplayFeed
from qtui.session.reader import load_session
from qtui.session.synth import write_synthetic_session
from qtui.tui.app import QtuiApp
from qtui.tui.widgets.cost.panel import CostPanel, row_cells, source_text
from qtui.tui.widgets.text import Cell

HOURS = 730
SYNTH_ON_DEMAND = 4.0  # qtui.session.synth: H100 $4.00/h on demand, $2.00/h spot, one region


@pytest.fixture(scope="module")
def session_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_synthetic_session(
        tmp_path_factory.mktemp("cost") / "synth.qtui", endpoints=3, minutes=1
    )


@pytest.fixture
def xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The user pricing dir lives in tmp; no extra table directories."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("QTUI_PRICING_DIR", raising=False)
    return tmp_path / "xdg" / "qtui" / "pricing"


class Recorded:
    """The app with every notification and what-if event it produced."""

    def __init__(self, session_path: Path) -> None:
        self.now = [0.0]
        self.feed = ReplayFeed(load_session(session_path), speed=10, clock=lambda: self.now[0])
        self.events: list[dict[str, Any]] = []
        self.feed.state.whatif.on_event = self.events.append
        self.app = QtuiApp(self.feed)
        self.notes: list[str] = []
        notify = self.app.notify

        def record(message: str, **kw: Any) -> None:
            self.notes.append(message)
            notify(message, **kw)

        self.app.notify = record  # type: ignore[method-assign]

    def cell(self, row: str, col: str) -> str:
        return str(self.app.query_one("#cost DataTable", DataTable).get_cell(row, col))

    def cost(self, name: str) -> Any:
        return self.feed.snapshot().endpoint(name).cost

    def changes(self) -> list[tuple[str, object]]:
        return [(e["key"], e["value"]) for e in self.events]


async def _open(pilot: Pilot[None], r: Recorded) -> None:
    """Play the recording to its end (the whole sweep is in), then open the cost view."""
    r.now[0] = 100.0
    await pilot.press("c")
    await pilot.pause()
    assert r.feed.snapshot().cost.traffic_rps == 40  # the recording's own what-if (20 → 40)
    r.events.clear()


async def test_own_price_typed_shown_and_priced(session_path: Path, xdg: Path) -> None:
    r = Recorded(session_path)
    async with r.app.run_test(size=(160, 48)) as pilot:
        await _open(pilot, r)
        replicas = r.cost("bf16").replicas
        assert replicas == 12  # ⌈40 req/s × 1.2 ÷ capacity⌉ from the recorded sweep
        assert r.cell("bf16", "month") == f"${replicas * SYNTH_ON_DEMAND * HOURS:,.0f}/mo"
        per_1m_table = r.cost("bf16").usd_per_1m
        await pilot.press("dollar_sign", *"5.5", "enter")
        assert r.cell("bf16", "gpu_hour") == "$5.50/h own price"
        # monthly = 12 replicas × 1 GPU × $5.50 × 730 h = $48,180
        assert r.cell("bf16", "month") == "$48,180/mo"
        assert r.cost("bf16").usd_per_1m == pytest.approx(per_1m_table * 5.5 / 4.0)
        assert "own price (synth/on-demand)" in r.app.query_one(".cost-source", Cell).text
        assert r.changes() == [("endpoints.bf16.usd_per_gpu_hour", 5.5)]
        assert r.events[0]["previous"] is None and r.events[0]["kind"] == "whatif"

        for bad, why in (("0", "price must be > 0"), ("-2", "price must be > 0")):
            await pilot.press("dollar_sign", *bad, "enter")
            assert why in r.notes[-1] and "previous value stays" in r.notes[-1]
            assert r.cell("bf16", "gpu_hour") == "$5.50/h own price"
        await pilot.press("dollar_sign", *"abc", "enter")
        assert r.notes[-1] == "$/GPU-hour: 'abc' is not a number; previous value kept"
        assert len(r.events) == 1  # rejected input records nothing

        await pilot.press("dollar_sign", "enter")  # empty: back to the table's price
        assert r.cell("bf16", "gpu_hour") == "$4.00/h"
        assert r.changes()[-1] == ("endpoints.bf16.usd_per_gpu_hour", None)


async def test_discount_region_and_gpu_missing_from_table(session_path: Path, xdg: Path) -> None:
    r = Recorded(session_path)
    async with r.app.run_test(size=(160, 48)) as pilot:
        await _open(pilot, r)
        await pilot.press("d", *"30", "enter")
        # committed −30 %: $4.00 × (1 − 0.30) = $2.80/h; 12 × 2.80 × 730 = $24,528/month
        assert r.cell("bf16", "category") == "committed −30%"
        assert r.cell("bf16", "gpu_hour") == "$2.80/h"
        assert r.cell("bf16", "month") == "$24,528/mo"
        assert r.changes() == [
            ("endpoints.bf16.committed_discount_pct", 30.0),
            ("endpoints.bf16.pricing", "committed"),
        ]
        await pilot.press("d", *"100", "enter")
        assert "committed discount must be in [0, 100)" in r.notes[-1]
        assert r.cell("bf16", "category") == "committed −30%"

        assert r.cell("bf16", "region") == "any (nowhere-1)"
        await pilot.press("b", "b", "b")  # synth → aws → azure → gcp
        assert r.cell("bf16", "table") == "gcp"
        gcp = load_price_table("gcp")

        def committed(region: str | None) -> float:
            rows = [x for x in gcp.rows_for("H100") if region in (None, x.region)]
            return min(p for x in rows if (p := x.usd_per_gpu_hour("committed", 30)) is not None)

        regions = r.cost("bf16").regions
        assert len(regions) >= 2 and r.cost("bf16").region is None
        assert r.cost("bf16").usd_per_gpu_hour == pytest.approx(committed(None))
        for region in (*regions, None):
            await pilot.press("R")
            assert r.cost("bf16").region == region
            assert r.cell("bf16", "region") == (region or f"any ({r.cost('bf16').priced_region})")
            assert r.cost("bf16").usd_per_gpu_hour == pytest.approx(committed(region))
        assert [v for k, v in r.changes() if k.endswith(".region")] == [*regions, None]

        await pilot.press("b", "b", "b")  # gcp → lambda → runpod → synth
        assert r.cell("bf16", "table") == "synth"
        before = r.cell("bf16", "gpu")
        await pilot.press("n")  # the next GPU type, H100-PCIe, is not in the synth table
        assert r.notes[-1] == "GPU type H100-PCIe is not in price table synth (has: H100)"
        assert r.cell("bf16", "gpu") == before


async def test_save_what_if_as_price_table(session_path: Path, xdg: Path) -> None:
    shipped = {p.name: p.read_bytes() for p in shipped_pricing_dir().glob("*.toml")}
    r = Recorded(session_path)
    async with r.app.run_test(size=(160, 48)) as pilot:
        await _open(pilot, r)
        await pilot.press("S", *"mine", "enter")
        await r.app.workers.wait_for_complete()
        assert "no own $/GPU-hour set on an endpoint priced from synth" in r.notes[-1]
        assert not xdg.exists()

        await pilot.press("dollar_sign", *"3.25", "enter")
        await pilot.press("S", *"mine", "enter")
        await r.app.workers.wait_for_complete()
        await pilot.pause()
        path = xdg / "mine.toml"
        assert r.notes[-1] == f"saved price table mine ({path}); b picks it"
        saved = load_price_table(str(path))
        assert saved.table.based_on == "synth"
        (row,) = saved.rows_for("H100")
        assert row.usd_per_gpu_hour("on-demand") == 3.25 and row.region == "nowhere-1"
        assert row.usd_per_gpu_hour("spot") == 2.0  # the other category keeps the base's
        assert r.feed.snapshot().cost.price_tables[-1] == "mine"
        assert r.events[-1]["kind"] == "note" and r.events[-1]["value"]["name"] == "mine"

        await pilot.press("S", *"mine", "enter")  # taken now: refused, nothing written
        await r.app.workers.wait_for_complete()
        assert "'mine' is already taken by a loaded table" in r.notes[-1]
        await pilot.press("S", *"aws", "enter")
        await r.app.workers.wait_for_complete()
        assert "'aws' is a shipped table" in r.notes[-1]
        assert sorted(p.name for p in xdg.iterdir()) == ["mine.toml"]

        await pilot.press("b")  # synth → … the cycle ends with the saved table: wraps to it
        while r.cell("bf16", "table") != "mine":
            await pilot.press("b")
        # the saved table prices H100 at $3.25; picking it ends the own price (same number)
        assert r.cell("bf16", "gpu_hour") == "$3.25/h"
        assert r.cost("bf16").price_label.startswith("mine H100 (user price) (nowhere-1)")
        assert (
            "mine: Synthetic Cloud, user override of synth"
            in r.app.query_one(".cost-source", Cell).text
        )
    assert {p.name: p.read_bytes() for p in shipped_pricing_dir().glob("*.toml")} == shipped


async def test_save_into_an_unwritable_place_loses_nothing(
    session_path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the config directory should be")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(blocker))
    r = Recorded(session_path)
    async with r.app.run_test(size=(160, 48)) as pilot:
        await _open(pilot, r)
        await pilot.press("dollar_sign", *"3.25", "enter")
        await pilot.press("S", *"mine", "enter")
        await r.app.workers.wait_for_complete()
        assert "cannot create the price table directory" in r.notes[-1]
        assert r.notes[-1].count("\n") == 0
        assert "mine" not in r.feed.snapshot().cost.price_tables
        assert r.cell("bf16", "gpu_hour") == "$3.25/h own price"  # the what-if is intact


def test_every_cost_key_is_free_of_app_keys() -> None:
    app_keys = {k for b in QtuiApp.BINDINGS for k in b.key.split(",")}  # type: ignore[union-attr]
    cost_keys = {k for b in CostPanel.BINDINGS for k in b.key.split(",")}  # type: ignore[union-attr]
    assert not app_keys & cost_keys
    assert {"dollar_sign", "d", "R", "S"} <= cost_keys


def test_cost_cells_say_why_instead_of_a_number() -> None:
    c = CostView(
        gpu="L4",
        price_table="two",
        category="spot",
        price_reason="no price for L4 in table two/spot",
        reason="no sweep yet",
        monthly_reason="no sweep yet",
    )
    cells = row_cells(EndpointView(name="fp8", precision="fp8", cost=c))
    assert cells["gpu_hour"] == "no price for L4 in table two/spot"
    assert cells["per_1m"] == cells["month"] == "no sweep yet"
    assert cells["region"] == "any"


@pytest.mark.parametrize(
    ("fit", "line"),
    [
        ("fit unknown: no weights known", "fit unknown: no weights known"),
        ("needs 15.0 GiB, L4 has 22.5 GiB", "fit on L4: needs 15.0 GiB, L4 has 22.5 GiB"),
    ],
)
def test_the_fit_line_reads_as_the_record_says_it(fit: str, line: str) -> None:
    e = EndpointView(name="fp8", precision="fp8", cost=CostView(gpu="L4"), fit=fit)
    snap = Snapshot(seq=1, run=RunView(), endpoints=(e,))
    assert line in source_text(snap, "fp8").splitlines()
