"""Choosing a $/GPU-hour from a table, with provenance, or the reason there is none."""

from __future__ import annotations

import pytest

from qtui.config.catalog import list_price_tables, load_price_table
from qtui.config.pricing import PriceTable
from qtui.cost.prices import NoPrice, PriceQuote, quote, regions, table_info


def test_cheapest_row_per_gpu_and_provenance(tables: dict[str, PriceTable]) -> None:
    got = quote(tables, "t", "L4", "on-demand")
    # two L4 rows: r1 $0.80, r2 $0.70 → the cheaper one
    assert isinstance(got, PriceQuote)
    assert got.usd_per_gpu_hour == pytest.approx(0.70)
    assert (got.instance, got.region, got.as_of, got.source) == ("l1-west", "r2", "2026-01", "test")
    assert got.label == "t l1-west (r2) on-demand, as of 2026-01"


def test_region_filter(tables: dict[str, PriceTable]) -> None:
    got = quote(tables, "t", "L4", "on-demand", region="r1")
    assert isinstance(got, PriceQuote) and got.usd_per_gpu_hour == pytest.approx(0.80)


def test_per_gpu_price_of_a_multi_gpu_instance(tables: dict[str, PriceTable]) -> None:
    # $24.00/h for an 8-GPU instance = $3.00 per GPU-hour; spot $8.00 ÷ 8 = $1.00
    on_demand = quote(tables, "t", "A100-80GB", "on-demand")
    spot = quote(tables, "t", "A100-80GB", "spot")
    assert isinstance(on_demand, PriceQuote) and on_demand.usd_per_gpu_hour == pytest.approx(3.0)
    assert isinstance(spot, PriceQuote) and spot.usd_per_gpu_hour == pytest.approx(1.0)


def test_committed_discount(tables: dict[str, PriceTable]) -> None:
    # H100 $4.00 on-demand × (1 − 0.30) = $2.80 per GPU-hour
    got = quote(tables, "t", "H100", "committed", committed_discount_pct=30)
    assert isinstance(got, PriceQuote) and got.usd_per_gpu_hour == pytest.approx(2.80)
    assert "committed −30%" in got.label


def test_reasons_instead_of_prices(tables: dict[str, PriceTable]) -> None:
    assert quote(tables, "t", "H100", "spot") == NoPrice("no price for H100 in table t/spot")
    assert quote(tables, "u", "L4", "on-demand") == NoPrice("no price for L4 in table u/on-demand")
    assert quote(tables, "nope", "L4", "spot") == NoPrice("price table nope not loaded")
    missing_region = quote(tables, "t", "L4", "spot", region="r2")
    assert missing_region == NoPrice("no price for L4 in table t/spot in r2")


def test_user_price_wins_and_says_so(tables: dict[str, PriceTable]) -> None:
    got = quote(tables, "t", "H100", "spot", override_usd_per_gpu_hour=2.5)
    assert isinstance(got, PriceQuote)
    assert got.usd_per_gpu_hour == 2.5 and got.overridden
    assert got.label == "own price (t/spot)"


def test_shipped_tables_quote_their_cheapest_on_demand_row() -> None:
    # Whatever the shipped numbers are, the quote is the min over rows of price ÷ GPUs.
    for name in list_price_tables():
        table = load_price_table(name)
        info = table_info(name, table)
        assert info.as_of and info.source
        for gpu in info.gpus:
            prices = [p for r in table.rows_for(gpu) if (p := r.usd_per_gpu_hour("on-demand"))]
            got = quote({name: table}, name, gpu, "on-demand")
            if prices:
                assert isinstance(got, PriceQuote)
                assert got.usd_per_gpu_hour == pytest.approx(min(prices))
            else:
                assert isinstance(got, NoPrice)


def test_regions_priced_for_a_gpu_in_a_category(tables: dict[str, PriceTable]) -> None:
    assert regions(tables["t"], "L4", "on-demand") == ("r1", "r2")
    assert regions(tables["t"], "L4", "committed") == ("r1", "r2")
    assert regions(tables["t"], "L4", "spot") == ("r1",)  # r2 has no spot price
    assert regions(tables["t"], "T4", "on-demand") == ()
    assert regions(None, "L4", "on-demand") == ()
