"""The view state's cost what-ifs: own price, discount, region, saved tables; hand-checked."""

from __future__ import annotations

from typing import Any

import pytest

from qtui.config.pricing import PriceTable
from qtui.errors import ConfigError
from qtui.live import intents as it
from qtui.live.model import RunView
from qtui.live.state import ViewState
from qtui.session.synth import SYNTH_PRICES, synth_profile

TWO_REGIONS = PriceTable.model_validate(
    {
        "table": {"provider": "Two", "source": "test rows", "as_of": "2026-02"},
        "rows": [
            {"gpu": "H100", "instance": "a", "gpus_per_instance": 1, "region": "east",
             "on_demand_usd_per_hour": 3.0},
            {"gpu": "H100", "instance": "b8", "gpus_per_instance": 8, "region": "west",
             "on_demand_usd_per_hour": 20.0, "spot_usd_per_hour": 8.0},
            {"gpu": "L4", "instance": "l", "gpus_per_instance": 1, "region": "east",
             "on_demand_usd_per_hour": 1.0},
        ],
    }
)  # fmt: skip


@pytest.fixture
def events() -> list[dict[str, Any]]:
    return []


@pytest.fixture
def state(events: list[dict[str, Any]]) -> ViewState:
    """Two endpoints on the synth table ($4.00/h H100); bf16 met the SLO at 2 req/s, 256 tok/s
    and broke it at the next level, so its capacity is 2 req/s per replica."""
    tables = {"synth": PriceTable.model_validate(SYNTH_PRICES), "two": TWO_REGIONS}
    vs = ViewState(synth_profile(2), tables, on_event=events.append)
    for level, rps, out, e2e in ((1, 2.0, 256.0, 1.0), (4, 6.0, 768.0, 9.0)):
        vs.ingest(
            "sweep_level",
            {"endpoint": "bf16", "level": level, "rps": rps, "in_tps": out * 4, "out_tps": out,
             "ttft_p95": 0.1, "itl_p95": 0.01, "e2e_p95": e2e, "error_rate": 0.0},
        )  # fmt: skip
    return vs


def cost(vs: ViewState, name: str = "bf16") -> Any:
    return vs.snapshot(RunView()).endpoint(name).cost


def test_own_price_by_hand(state: ViewState, events: list[dict[str, Any]]) -> None:
    c = cost(state)
    # replicas = ⌈20 req/s × 1.2 ÷ 2 req/s⌉ = 12; monthly = 12 × $4.00 × 730 h = $35,040
    assert (c.replicas, c.monthly_usd) == (12, pytest.approx(35_040))
    assert c.usd_per_1m == pytest.approx(4 / (256 * 3600) * 1e6)  # $4.34 per 1M output
    assert not c.own_price and c.price_label.startswith("synth synth.h100x1 (nowhere-1)")
    assert state.apply(it.SetGpuHourPrice("bf16", 5.0)) is None
    c = cost(state)
    # own $5.00: $/1M = 5 ÷ (256 × 3600) × 10⁶ = $5.43; monthly = 12 × 5 × 730 = $43,800
    assert c.own_price and c.usd_per_gpu_hour == 5.0 and c.price_label.startswith("own price")
    assert c.usd_per_1m == pytest.approx(5.4253, abs=1e-4)
    assert c.monthly_usd == pytest.approx(43_800)
    assert events[-1]["key"] == "endpoints.bf16.usd_per_gpu_hour" and events[-1]["value"] == 5.0
    n = len(events)
    assert state.apply(it.SetGpuHourPrice("bf16", 0.0)) == (
        "price must be > 0 $/GPU-hour (got 0); the previous value stays"
    )
    assert cost(state).usd_per_gpu_hour == 5.0 and len(events) == n


def test_discount_moves_to_committed_by_hand(
    state: ViewState, events: list[dict[str, Any]]
) -> None:
    assert state.apply(it.SetDiscount("bf16", 30)) is None
    c = cost(state)
    # $4.00 × (1 − 0.30) = $2.80/h; monthly = 12 × 2.80 × 730 = $24,528
    assert (c.category, c.committed_discount_pct) == ("committed", 30.0)
    assert c.usd_per_gpu_hour == pytest.approx(2.8) and c.monthly_usd == pytest.approx(24_528)
    assert [e["key"] for e in events] == [
        "endpoints.bf16.committed_discount_pct",
        "endpoints.bf16.pricing",
    ]
    assert "[0, 100)" in (state.apply(it.SetDiscount("bf16", -5)) or "")
    assert cost(state).committed_discount_pct == 30.0


def test_region_follows_the_rows(state: ViewState) -> None:
    assert state.apply(it.SetPriceTable("bf16", "two")) is None
    c = cost(state)
    # cheapest on demand: west $20 ÷ 8 = $2.50 beats east $3.00
    assert c.regions == ("east", "west") and c.region is None
    assert (c.priced_region, c.usd_per_gpu_hour) == ("west", 2.5)
    assert state.apply(it.SetRegion("bf16", "east")) is None
    assert (cost(state).region, cost(state).usd_per_gpu_hour) == ("east", 3.0)
    # spot exists only in west: the pinned region east goes back to the cheapest
    assert state.apply(it.SetCategory("bf16", "spot")) is None
    c = cost(state)
    assert c.regions == ("west",) and c.region is None
    assert (c.priced_region, c.usd_per_gpu_hour) == ("west", 1.0)  # $8 ÷ 8 GPUs
    assert (
        state.apply(it.SetRegion("bf16", "mars")) == "no price for H100 in table two/spot in mars"
    )
    snap = state.snapshot(RunView())
    assert "two: Two, test rows, as of 2026-02" in snap.cost.table_sources


def test_saving_offers_the_table_and_notes_it(
    state: ViewState, events: list[dict[str, Any]]
) -> None:
    with pytest.raises(ConfigError, match="no own \\$/GPU-hour"):
        state.table_to_save("bf16", 1_790_000_000.0)
    state.apply(it.SetGpuHourPrice("bf16", 3.3))
    base, table = state.table_to_save("bf16", 1_790_000_000.0)
    assert base == "synth" and table.table.based_on == "synth"
    assert table.table.as_of == "2026-09-21"
    state.add_table("mine", table, "/x/mine.toml")
    snap = state.snapshot(RunView())
    assert snap.cost.price_tables[-1] == "mine"
    assert events[-1]["kind"] == "note" and events[-1]["key"] == "price_table_saved"
    assert events[-1]["value"] == {"name": "mine", "path": "/x/mine.toml", "based_on": "synth"}
    assert state.apply(it.SetPriceTable("fp8", "mine")) is None
    assert cost(state, "fp8").usd_per_gpu_hour == pytest.approx(3.3)


def test_other_gpu_is_labelled_and_deltas_say_why(state: ViewState) -> None:
    assert state.apply(it.SetPriceTable("bf16", "two")) is None
    assert state.apply(it.SetGpu("bf16", "L4")) is None
    c = cost(state)
    # decode share = 127 tok × 10 ms ÷ (100 ms + 1,270 ms) = 0.927; L4/H100 bandwidth
    # 0.3 / 3.35 = 0.0896, bf16 TFLOPS 121 / 989.4 = 0.1223;
    # factor = 1 / (0.927 / 0.0896 + 0.073 / 0.1223) = 0.0914
    assert c.price_label == (
        "two l (east) on-demand, as of 2026-02; capacity projected from H100: decode × 0.09 "
        "(bandwidth), prefill × 0.12 (bf16 TFLOPS), 93% decode (from TTFT p95 100 ms, ITL p95 "
        "10.0 ms × 127 tok at 1 users)"
    )
    snap = state.snapshot(RunView()).endpoint("bf16")
    assert snap.capacity.startswith("0.183 req/s per replica (projected from H100:")
    # 2 req/s × 0.0914 = 0.183 req/s; replicas = ⌈20 req/s × 1.2 ÷ 0.183⌉ = 132 → $96,360
    assert c.replicas == 132 and c.monthly_usd == pytest.approx(132 * 730)
    assert c.vs_baseline == ""  # bf16 is the baseline
    assert cost(state, "fp8").vs_baseline == (
        "Δ $/1M output no load measured yet · break-even: no load measured yet · "
        "quality: no quality run yet"
    )


def test_cells_without_a_number_say_why() -> None:
    profile = synth_profile(2)
    profile.cost.price_table = "two"
    profile.endpoints[1].gpu = "L4"
    profile.endpoints[1].pricing = "spot"  # the table has no spot price for L4
    vs = ViewState(profile, {"two": TWO_REGIONS})
    fp8 = cost(vs, "fp8")
    assert fp8.usd_per_gpu_hour is None
    assert fp8.price_reason == "no price for L4 in table two/spot"
    assert (fp8.monthly_usd, fp8.monthly_reason) == (None, "no load measured yet")
    assert fp8.reason == "no load measured yet"


def _gpu(vs: ViewState, t: float, gpu: int | None, watts: float | None, name: str = "bf16") -> None:
    vs.ingest(
        "gpu_sample",
        {"endpoint": name, "gpu": gpu, "t": t, "memory_total": 80.0, "memory_used": 70.0,
         "power_w": watts, "source": "nvml", "detail": "" if watts is not None else "no power"},
    )  # fmt: skip


def _two_gpus(vs: ViewState, t: float, a: float, b: float) -> None:
    _gpu(vs, t, 0, a)
    _gpu(vs, t, 1, b)


def test_energy_from_power_at_the_capacity_level_by_hand() -> None:
    """Two GPUs sampled during the capacity level (1, t 100..120): 300+500 and 200+400 W → per
    GPU 400 and 300 → 350 W; at the breaching level (t 120..140) 700 W, and after it 900 W."""
    vs = ViewState(synth_profile(2), {"synth": PriceTable.model_validate(SYNTH_PRICES)})
    _two_gpus(vs, 99.0, 50.0, 50.0)  # before the level: not counted
    _two_gpus(vs, 105.0, 300.0, 500.0)
    _two_gpus(vs, 115.0, 200.0, 400.0)
    vs.ingest(
        "sweep_level",
        {"endpoint": "bf16", "level": 1, "t_end": 120.0, "duration_s": 20.0, "rps": 2.0,
         "in_tps": 1024.0, "out_tps": 256.0, "ttft_p95": 0.1, "itl_p95": 0.01, "e2e_p95": 1.0,
         "error_rate": 0.0},
    )  # fmt: skip
    _two_gpus(vs, 130.0, 700.0, 700.0)
    vs.ingest(
        "sweep_level",
        {"endpoint": "bf16", "level": 4, "t_start": 120.0, "t_end": 140.0, "rps": 6.0,
         "in_tps": 3072.0, "out_tps": 768.0, "ttft_p95": 0.1, "itl_p95": 0.01, "e2e_p95": 9.0,
         "error_rate": 0.0},
    )  # fmt: skip
    _two_gpus(vs, 150.0, 900.0, 900.0)
    c = cost(vs)
    # replicas ⌈20 × 1.2 ÷ 2⌉ = 12; 350 W × 12 × 1 GPU × 730 h ÷ 1000 = 3,066 kWh × $0.12
    assert c.replicas == 12
    assert c.energy_month_usd == pytest.approx(367.92)
    assert c.energy_month == "$368/month"
    assert c.energy_power == "350 W/GPU at load level 1"
    assert c.energy_basis == "350 W/GPU at load level 1 × 12 × 1 GPU × 730 h × $0.12/kWh"
    # the electricity is beside the bill: monthly stays 12 × $4.00 × 730 = $35,040
    assert c.monthly_usd == pytest.approx(35_040)
    # $/1M input 4 ÷ (1024 × 3600) × 10⁶ = $1.0851; $/request 4 ÷ (2 × 3600) = $0.000556;
    # blended at 1024:256 = 4:1 → 4.3403 ÷ 5 = $0.8681
    assert c.usd_per_1m_input == pytest.approx(1.085_069)
    assert c.usd_per_request == pytest.approx(0.000_555_6, rel=1e-3)
    assert c.usd_per_1m_blended == pytest.approx(0.868_056)
    assert c.unit_costs == (
        "input $1.09/1M tok · $0.000556/req · blended $0.87/1M tok at 4.00:1 in:out "
        "(measured at load level 1)"
    )


def test_energy_from_the_recent_mean_without_power_at_the_level() -> None:
    """No sample inside the capacity level: the mean of the last 60 s, and it says so."""
    vs = ViewState(synth_profile(2), {"synth": PriceTable.model_validate(SYNTH_PRICES)})
    vs.ingest(
        "sweep_level",
        {"endpoint": "bf16", "level": 1, "t_start": 0.0, "t_end": 20.0, "rps": 2.0,
         "in_tps": 1024.0, "out_tps": 256.0, "ttft_p95": 0.1, "itl_p95": 0.01, "e2e_p95": 1.0,
         "error_rate": 0.0},
    )  # fmt: skip
    _gpu(vs, 100.0, 0, 999.0)  # more than 60 s before the last sample: out of the window
    _gpu(vs, 200.0, 0, 400.0)
    _gpu(vs, 230.0, 0, 600.0)
    c = cost(vs)
    # (400 + 600) ÷ 2 = 500 W × 12 × 730 ÷ 1000 = 4,380 kWh × $0.12 = $525.60
    assert c.energy_month_usd == pytest.approx(525.6)
    assert c.energy_power == "500 W/GPU mean of the last 60 s; none measured at load level 1"


def test_energy_per_level_while_measuring_without_sweep_records() -> None:
    """The live path without sweep records: power is kept per load level while measuring."""
    vs = ViewState(synth_profile(2), {"synth": PriceTable.model_validate(SYNTH_PRICES)})
    vs.ingest("event", {"kind": "load", "key": "measuring", "value": True})
    vs.ingest("event", {"kind": "load", "key": "level", "value": 2})
    for t in (1.0, 2.0, 3.0):
        vs.ingest(
            "client_second",
            {"endpoint": "bf16", "t": t, "rps": 1.0, "in_tps": 400.0, "out_tps": 100.0,
             "requests": 1, "ttft_p95": 0.1, "itl_p95": 0.01, "e2e_p95": 1.0},
        )  # fmt: skip
        _two_gpus(vs, t, 100.0 * t, 100.0 * t + 200.0)  # per GPU 200, 300, 400 W
    vs.ingest("event", {"kind": "load", "key": "level", "value": 8})
    _two_gpus(vs, 4.0, 1000.0, 1000.0)  # another level: not in level 2's mean
    c = cost(vs)
    # capacity 1 req/s: replicas ⌈20 × 1.2 ÷ 1⌉ = 24; 300 W × 24 × 730 ÷ 1000 × 0.12 = $630.72
    assert c.replicas == 24
    assert c.energy_month_usd == pytest.approx(630.72)
    assert c.energy_power == "300 W/GPU at load level 2"


def test_energy_cell_says_why_without_power() -> None:
    vs = ViewState(synth_profile(2), {"synth": PriceTable.model_validate(SYNTH_PRICES)})
    vs.apply(it.SetReplicas("bf16", 2))  # sized by hand: only the power is missing
    assert cost(vs).energy_month == "no power reading (no GPU telemetry)"
    assert cost(vs).energy_month_usd is None
    _gpu(vs, 1.0, None, None)
    assert cost(vs).energy_month == "no power reading (no power)"
    assert (
        cost(vs, "fp8").energy_month == "no load measured yet"
    )  # auto replicas need a measured load
