"""What-if state: validated setters keep the previous value on bad input; changes are events."""

from __future__ import annotations

from itertools import count
from typing import Any

import pytest

from qtui.config.load import load_model
from qtui.config.paths import demo_profile
from qtui.config.pricing import PriceTable
from qtui.config.profile import Profile
from qtui.cost.prices import PriceQuote
from qtui.cost.whatif import BadValue, EndpointWhatIf, Traffic, WhatIf


@pytest.fixture
def events() -> list[dict[str, Any]]:
    return []


@pytest.fixture
def state(tables: dict[str, PriceTable], events: list[dict[str, Any]]) -> WhatIf:
    ticks = count(1000)
    return WhatIf(
        endpoints={
            "bf16": EndpointWhatIf(gpu="H100", price_table="t"),
            "int4": EndpointWhatIf(gpu="L4", price_table="t", replicas=2),
        },
        tables=tables,
        traffic=Traffic(peak_rps=20),
        on_event=events.append,
        clock=lambda: float(next(ticks)),
    )


def test_accepted_change_emits_one_timestamped_event(
    state: WhatIf, events: list[dict[str, Any]]
) -> None:
    change = state.set("endpoints.int4.replicas", "3")
    assert change.ok and change.value == 3 and change.previous == 2
    assert events == [
        {"t": 1000.0, "kind": "whatif", "key": "endpoints.int4.replicas", "value": 3,
         "previous": 2}
    ]  # fmt: skip
    assert change.events == tuple(events)
    assert state.endpoints["int4"].replicas == 3


def test_unchanged_value_emits_nothing(state: WhatIf, events: list[dict[str, Any]]) -> None:
    assert state.set("hours_per_month", 730).ok
    assert events == []


@pytest.mark.parametrize(
    ("key", "value", "reason_part"),
    [
        ("endpoints.bf16.usd_per_gpu_hour", 0, "price must be > 0"),
        ("endpoints.bf16.usd_per_gpu_hour", "-1.5", "price must be > 0"),
        ("endpoints.int4.replicas", 0, "replicas must be at least 1"),
        ("endpoints.int4.replicas", 2.5, "whole number"),
        ("endpoints.int4.replicas", "many", "must be a number"),
        ("hours_per_month", 745, "≤ 744"),
        ("hours_per_month", 0, "> 0"),
        ("endpoints.bf16.gpu", "T4", "GPU type T4 is not in price table t"),
        ("endpoints.bf16.gpu", "Z80", "unknown GPU type 'Z80' (not in qtui/data/gpus.toml)"),
        ("endpoints.bf16.price_table", "u", "GPU type H100 is not in price table u"),
        ("endpoints.bf16.price_table", "nope", "price table 'nope' not loaded"),
        ("endpoints.bf16.pricing", "spot", "no price for H100 in table t/spot"),
        ("endpoints.bf16.pricing", "cheap", "pricing must be one of"),
        ("endpoints.bf16.committed_discount_pct", 100, "[0, 100)"),
        ("endpoints.int4.region", "mars", "no price for L4 in table t/on-demand in mars"),
        ("headroom", 0.9, "between 1 and 10"),
        ("traffic.peak_rps", -3, "peak traffic must be > 0"),
        ("traffic.peak_rps", float("inf"), "finite"),
        ("traffic.peak_factor", 0.5, "≥ 1"),
        ("energy_usd_per_kwh", -0.1, "≥ 0"),
        ("endpoints.ghost.gpu", "H100", "unknown endpoint 'ghost'"),
        ("endpoints.bf16.colour", "red", "unknown what-if field"),
        ("wattage", 3, "unknown what-if key"),
    ],
)
def test_bad_values_are_rejected_and_previous_value_stays(
    state: WhatIf, events: list[dict[str, Any]], key: str, value: object, reason_part: str
) -> None:
    before = state.snapshot()
    change = state.set(key, value)
    assert not change.ok
    assert change.reason is not None and reason_part in change.reason
    assert state.snapshot() == before
    assert events == []


def test_hours_at_the_limit_and_price_strings(state: WhatIf) -> None:
    assert state.set("hours_per_month", 744).ok
    assert state.set("endpoints.bf16.usd_per_gpu_hour", "$2.50").ok
    price = state.price("bf16")
    assert isinstance(price, PriceQuote) and price.usd_per_gpu_hour == 2.5 and price.overridden
    assert state.set("endpoints.bf16.usd_per_gpu_hour", "table").ok  # back to the table price
    price = state.price("bf16")
    assert isinstance(price, PriceQuote) and price.usd_per_gpu_hour == 4.0


def test_replicas_auto(state: WhatIf) -> None:
    assert state.set("endpoints.int4.replicas", "auto").value == "auto"


def test_pricing_category_region_and_committed(state: WhatIf) -> None:
    assert state.set("endpoints.int4.pricing", "spot").ok
    spot = state.price("int4")
    assert isinstance(spot, PriceQuote) and spot.usd_per_gpu_hour == pytest.approx(0.3)
    assert state.set("endpoints.bf16.pricing", "committed").ok
    assert state.set("endpoints.bf16.committed_discount_pct", "25").ok
    committed = state.price("bf16")  # $4.00 × (1 − 0.25) = $3.00
    assert isinstance(committed, PriceQuote) and committed.usd_per_gpu_hour == pytest.approx(3.0)


def test_daily_volume_replaces_peak_rps(state: WhatIf, events: list[dict[str, Any]]) -> None:
    # 864,000/day ÷ 86,400 s = 10 req/s mean × peak factor 2 = 20 req/s → 2 events
    change = state.set("traffic.daily_requests", 864_000)
    assert change.ok and state.traffic.peak == pytest.approx(20)
    assert [(e["key"], e["value"], e["previous"]) for e in events] == [
        ("traffic.daily_requests", 864_000.0, None),
        ("traffic.peak_rps", None, 20),
    ]
    assert state.set("traffic.peak_factor", 3).ok  # 10 × 3 = 30 req/s
    assert state.traffic.peak == pytest.approx(30)


def test_cannot_clear_the_only_traffic_target(state: WhatIf) -> None:
    change = state.set("traffic.peak_rps", "")
    assert not change.ok and state.traffic.peak_rps == 20


def test_replay_reproduces_the_final_state(
    state: WhatIf, tables: dict[str, PriceTable], events: list[dict[str, Any]]
) -> None:
    state.set("endpoints.int4.gpu", "A100-80GB")
    state.set("endpoints.int4.replicas", 0)  # rejected: not recorded
    state.set("endpoints.int4.replicas", 4)
    state.set("hours_per_month", 700)
    fresh = WhatIf(
        endpoints={
            "bf16": EndpointWhatIf(gpu="H100", price_table="t"),
            "int4": EndpointWhatIf(gpu="L4", price_table="t", replicas=2),
        },
        tables=tables,
        traffic=Traffic(peak_rps=20),
    )
    changes = fresh.replay([*events, {"t": 1, "kind": "note", "key": "x", "value": 1}])
    assert all(c.ok for c in changes) and len(changes) == 3
    assert fresh.snapshot() == state.snapshot()


def test_from_profile_uses_cost_section_and_endpoint_overrides(
    tables: dict[str, PriceTable],
) -> None:
    profile = load_model(demo_profile(), Profile)
    profile.cost.price_table = "t"
    profile.endpoints[1].pricing = "spot"
    profile.endpoints[2].replicas = 3
    state = WhatIf.from_profile(profile, tables)
    assert state.traffic.peak == 20 and state.headroom == 1.2 and state.hours_per_month == 730
    assert state.endpoints["bf16"] == EndpointWhatIf(gpu="H100", price_table="t")
    assert state.endpoints["fp8"].pricing == "spot"
    assert state.endpoints["int4-awq"].replicas == 3
    snap = state.snapshot()
    assert snap["endpoints.fp8.pricing"] == "spot" and snap["traffic.peak_rps"] == 20


def test_own_price_ends_when_the_table_lookup_changes(
    state: WhatIf, events: list[dict[str, Any]]
) -> None:
    assert state.set("endpoints.int4.region", "r2").ok  # L4 in r2: $0.70
    assert state.set("endpoints.int4.usd_per_gpu_hour", 0.65).ok
    events.clear()
    # table u has no L4 at all: rejected, the own price and region stay
    change = state.set("endpoints.int4.price_table", "u")
    assert not change.ok and "GPU type L4 is not in price table u" in (change.reason or "")
    assert state.endpoints["int4"].usd_per_gpu_hour == 0.65 and events == []
    # a new category: the table price wins again (the last price set wins), region kept
    change = state.set("endpoints.int4.pricing", "committed")
    assert change.ok
    assert [(e["key"], e["value"], e["previous"]) for e in events] == [
        ("endpoints.int4.pricing", "committed", "on-demand"),
        ("endpoints.int4.usd_per_gpu_hour", None, 0.65),
    ]
    price = state.price("int4")  # L4 r2 committed −0 % = $0.70
    assert isinstance(price, PriceQuote) and price.usd_per_gpu_hour == pytest.approx(0.7)
    assert price.region == "r2"


def test_a_region_the_new_gpu_lacks_goes_back_to_the_cheapest(
    state: WhatIf, events: list[dict[str, Any]]
) -> None:
    assert state.set("endpoints.int4.region", "r2").ok
    events.clear()
    assert state.set("endpoints.int4.gpu", "A100-80GB").ok  # A100 rows are in r1 only
    assert [(e["key"], e["value"]) for e in events] == [
        ("endpoints.int4.gpu", "A100-80GB"),
        ("endpoints.int4.region", None),
    ]
    price = state.price("int4")  # $24 ÷ 8 GPUs = $3.00/GPU-hour, region r1
    assert isinstance(price, PriceQuote) and price.usd_per_gpu_hour == 3.0
    assert price.region == "r1"


def test_discount_changes_the_committed_price_by_hand(state: WhatIf) -> None:
    assert state.set("endpoints.int4.pricing", "committed").ok
    for pct, expected in ((0, 0.70), (10, 0.63), (37.5, 0.4375)):  # cheapest L4: r2 $0.70
        assert state.set("endpoints.int4.committed_discount_pct", pct).ok
        price = state.price("int4")  # $0.70 × (1 − pct ÷ 100)
        assert isinstance(price, PriceQuote) and price.usd_per_gpu_hour == pytest.approx(expected)


def test_snapshot_reapplied_in_order_restores_the_state(
    state: WhatIf, tables: dict[str, PriceTable]
) -> None:
    """What a replay does when it seeks back: every value, key by key, on a fresh state."""
    state.set("endpoints.int4.pricing", "spot")
    state.set("endpoints.int4.committed_discount_pct", 20)
    state.set("endpoints.int4.region", "r1")
    state.set("endpoints.bf16.usd_per_gpu_hour", 3.5)
    fresh = WhatIf(
        endpoints={
            "bf16": EndpointWhatIf(gpu="H100", price_table="t"),
            "int4": EndpointWhatIf(gpu="L4", price_table="t", replicas=2),
        },
        tables=tables,
        traffic=Traffic(peak_rps=20),
    )
    for key, value in state.snapshot().items():
        fresh.set(key, value)
    assert fresh.snapshot() == state.snapshot()


def test_restore_puts_back_a_state_key_by_key_cannot_reach(
    state: WhatIf, tables: dict[str, PriceTable], events: list[dict[str, Any]]
) -> None:
    """A GPU only a later-chosen table prices: ``set`` in snapshot order (GPU before table) is
    rejected on a fresh state; ``restore`` reproduces the state exactly, with no events."""
    both = PriceTable.model_validate(
        {"table": {"provider": "Both", "source": "test", "as_of": "2026-01"},
         "rows": [{"gpu": "H100", "instance": "h", "gpus_per_instance": 1, "region": "r1",
                   "on_demand_usd_per_hour": 3.0},
                  {"gpu": "T4", "instance": "t4", "gpus_per_instance": 1, "region": "r9",
                   "on_demand_usd_per_hour": 0.5}]},
    )  # fmt: skip
    tables = {**tables, "both": both}
    state.add_table("both", both)
    assert state.set("endpoints.bf16.price_table", "both").ok
    assert state.set("endpoints.bf16.gpu", "T4").ok
    assert state.set("endpoints.bf16.region", "r9").ok
    assert state.set("endpoints.bf16.usd_per_gpu_hour", 0.45).ok
    wanted = state.snapshot()

    def fresh() -> WhatIf:
        return WhatIf(
            endpoints={
                "bf16": EndpointWhatIf(gpu="H100", price_table="t"),
                "int4": EndpointWhatIf(gpu="L4", price_table="t", replicas=2),
            },
            tables=tables,
            traffic=Traffic(peak_rps=20),
            on_event=events.append,
        )

    keyed = fresh()
    rejected = [k for k, v in wanted.items() if not keyed.set(k, v).ok]
    # T4 is not in table t yet (the old seek bug), and so neither is its region r9
    assert {"endpoints.bf16.gpu", "endpoints.bf16.region"} <= set(rejected)
    assert keyed.snapshot() != wanted
    events.clear()
    restored = fresh()
    restored.restore(wanted)
    assert restored.snapshot() == wanted and events == []
    price = restored.price("bf16")
    assert isinstance(price, PriceQuote) and price.usd_per_gpu_hour == 0.45
    with pytest.raises(BadValue, match="price table 'gone' not loaded"):
        restored.restore({**wanted, "endpoints.bf16.price_table": "gone"})
    assert restored.snapshot() == wanted
