"""User prices become a new table file that `qtui check` accepts; shipped tables never change."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from qtui.commands.check import check_file
from qtui.config.catalog import list_price_tables, load_price_table
from qtui.config.paths import shipped_pricing_dir
from qtui.config.pricing import PriceTable
from qtui.cost.overrides import (
    PriceOverride,
    default_name,
    override_table,
    overrides_from_whatif,
    save_price_table,
    user_pricing_dir,
    whatif_table,
)
from qtui.cost.prices import PriceQuote, quote
from qtui.cost.whatif import EndpointWhatIf, Traffic, WhatIf
from qtui.errors import ConfigError

NOW = 1_790_000_000.0  # 2026-09-21 UTC


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.glob("*.toml")}


def test_what_if_prices_saved_as_new_table_round_trip(
    tables: dict[str, PriceTable], tmp_path: Path
) -> None:
    shipped_before = _digest(shipped_pricing_dir())
    state = WhatIf(
        endpoints={
            "bf16": EndpointWhatIf(gpu="H100", price_table="t"),
            "fp8": EndpointWhatIf(gpu="L4", price_table="t", pricing="committed"),
        },
        tables=tables,
        traffic=Traffic(peak_rps=20),
    )
    assert state.set("endpoints.bf16.usd_per_gpu_hour", 3.1).ok
    assert state.set("endpoints.fp8.committed_discount_pct", 20).ok
    assert state.set("endpoints.fp8.usd_per_gpu_hour", 0.6).ok
    overrides = overrides_from_whatif(state)
    assert list(overrides) == ["t"]

    table = override_table("t", tables["t"], overrides["t"], NOW)
    name = default_name("t", NOW)
    path = save_price_table(table, name, tmp_path, reserved={})
    assert path == tmp_path / "t-user-20260921-141320.toml"
    assert check_file(path) == f"{path}: ok (price table, Test Cloud, 3 rows)"

    loaded = load_price_table(str(path))
    assert loaded.table.based_on == "t"
    assert loaded.table.as_of == "2026-09-21"
    assert "user override of t" in loaded.table.source
    # H100 on-demand reads back $3.10; L4 committed −20 % reads back $0.60
    # (stored as on-demand 0.60 ÷ 0.8 = $0.75; spot keeps the base $0.30)
    h100 = quote({name: loaded}, name, "H100", "on-demand")
    l4 = quote({name: loaded}, name, "L4", "committed", committed_discount_pct=20)
    l4_spot = quote({name: loaded}, name, "L4", "spot")
    assert isinstance(h100, PriceQuote) and h100.usd_per_gpu_hour == pytest.approx(3.1)
    assert isinstance(l4, PriceQuote) and l4.usd_per_gpu_hour == pytest.approx(0.6)
    assert isinstance(l4_spot, PriceQuote) and l4_spot.usd_per_gpu_hour == pytest.approx(0.3)
    assert [r.instance for r in loaded.rows_for("L4")] == ["L4 (user price)"]
    assert [r.instance for r in loaded.rows_for("A100-80GB")] == ["a8"]  # untouched rows kept

    # the saved table is found by name from the user directory and can be chosen in the what-if
    assert list_price_tables([tmp_path])[name] == path
    state.add_table(name, loaded)
    assert state.set("endpoints.fp8.price_table", name).ok
    assert _digest(shipped_pricing_dir()) == shipped_before


def test_never_overwrites(tables: dict[str, PriceTable], tmp_path: Path) -> None:
    table = override_table("t", tables["t"], [PriceOverride("H100", "spot", 1.5)], NOW)
    first = save_price_table(table, "mine", tmp_path, reserved={})
    second = save_price_table(table, "mine", tmp_path, reserved={})
    assert (first.name, second.name) == ("mine.toml", "mine-2.toml")
    spot = quote({"m": load_price_table(str(second))}, "m", "H100", "spot")
    assert isinstance(spot, PriceQuote) and spot.usd_per_gpu_hour == 1.5


def test_shipped_names_and_bad_names_refused(tables: dict[str, PriceTable], tmp_path: Path) -> None:
    table = override_table("t", tables["t"], [PriceOverride("H100", "on-demand", 3.0)], NOW)
    with pytest.raises(ConfigError, match="'aws' is a shipped table"):
        save_price_table(table, "aws", tmp_path)
    with pytest.raises(ConfigError, match="use letters, digits"):
        save_price_table(table, "../escape", tmp_path, reserved={})
    with pytest.raises(ConfigError, match="must be > 0"):
        override_table("t", tables["t"], [PriceOverride("H100", "on-demand", 0.0)], NOW)
    assert list(tmp_path.iterdir()) == []


def test_user_dir_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert user_pricing_dir() == tmp_path / ".config" / "qtui" / "pricing"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert user_pricing_dir() == tmp_path / "xdg" / "qtui" / "pricing"


def _two_endpoints(tables: dict[str, PriceTable]) -> WhatIf:
    return WhatIf(
        endpoints={
            "bf16": EndpointWhatIf(gpu="L4", price_table="t"),
            "fp8": EndpointWhatIf(gpu="L4", price_table="t"),
        },
        tables=tables,
        traffic=Traffic(peak_rps=20),
    )


def test_whatif_table_needs_an_own_price_and_one_price_per_gpu(
    tables: dict[str, PriceTable],
) -> None:
    state = _two_endpoints(tables)
    with pytest.raises(ConfigError, match="no own \\$/GPU-hour set on an endpoint priced from t"):
        whatif_table(state, "t", NOW)
    assert state.set("endpoints.bf16.usd_per_gpu_hour", 0.5).ok
    assert state.set("endpoints.fp8.usd_per_gpu_hour", 0.55).ok
    with pytest.raises(ConfigError, match="two own on-demand prices for L4"):
        whatif_table(state, "t", NOW)
    assert state.set("endpoints.fp8.usd_per_gpu_hour", 0.5).ok  # the same price: one row
    assert [r.instance for r in whatif_table(state, "t", NOW).rows_for("L4")] == ["L4 (user price)"]
    with pytest.raises(ConfigError, match="'u' is not loaded"):
        whatif_table(WhatIf(endpoints={}, tables={}), "u", NOW)


def test_whatif_table_keeps_the_chosen_region_and_committed_reads_back(
    tables: dict[str, PriceTable],
) -> None:
    state = _two_endpoints(tables)
    assert state.set("endpoints.bf16.pricing", "committed").ok
    assert state.set("endpoints.bf16.committed_discount_pct", 25).ok
    assert state.set("endpoints.bf16.region", "r2").ok
    assert state.set("endpoints.bf16.usd_per_gpu_hour", 0.6).ok
    new = whatif_table(state, "t", NOW)
    (row,) = new.rows_for("L4")
    # committed $0.60 at −25 % is stored as on-demand 0.60 ÷ 0.75 = $0.80, in the chosen region
    assert row.region == "r2" and row.on_demand_usd_per_hour == pytest.approx(0.8)
    got = quote({"n": new}, "n", "L4", "committed", committed_discount_pct=25, region="r2")
    assert isinstance(got, PriceQuote) and got.usd_per_gpu_hour == pytest.approx(0.6)


def test_loaded_table_names_are_refused_and_skipped(
    tables: dict[str, PriceTable], tmp_path: Path
) -> None:
    table = override_table("t", tables["t"], [PriceOverride("H100", "on-demand", 3.0)], NOW)
    with pytest.raises(ConfigError, match="'t' is already taken by a loaded table"):
        save_price_table(table, "t", tmp_path, reserved={}, loaded=("t", "u"))
    (tmp_path / "mine.toml").write_text("not ours")
    # mine.toml exists and mine-2 is a loaded table's name: the next free name is mine-3
    path = save_price_table(table, "mine", tmp_path, reserved={}, loaded=("mine-2",))
    assert path.name == "mine-3.toml" and (tmp_path / "mine.toml").read_text() == "not ours"
