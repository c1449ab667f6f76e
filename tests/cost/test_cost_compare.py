"""The finance table: every cell is a hand-calculated figure with a unit, or a reason."""

from __future__ import annotations

import pytest

from qtui.config.pricing import PriceTable
from qtui.cost.compare import COLUMNS, EndpointMeasure, build_comparison
from qtui.cost.whatif import EndpointWhatIf, Traffic, WhatIf
from qtui.evidence.capacity import Capacity
from qtui.evidence.levels import LevelPoint

# bf16: 2 req/s per replica at the SLO (256 out tok/s, 1024 in tok/s); fp8 twice that.
BF16 = Capacity(2.0, 256.0, 1024.0, p95_s=6.0, source="load level 16", met_slo=True)
FP8 = Capacity(4.0, 512.0, 2048.0, p95_s=5.0, source="load level 32", met_slo=True)
FP8_CURVE = (
    LevelPoint(1, 1.0, 512, 128, e2e_p95_s=2.0),
    LevelPoint(32, 4.0, 2048, 512, e2e_p95_s=5.0),
    LevelPoint(64, 6.0, 3072, 768, e2e_p95_s=11.0),
)


def measures() -> list[EndpointMeasure]:
    return [
        EndpointMeasure("bf16", "bf16", BF16, power_w_per_gpu=600.0, measured_gpu="H100"),
        EndpointMeasure("fp8", "fp8", FP8, FP8_CURVE, quality_delta_pp=-1.5, measured_gpu="H100"),
        EndpointMeasure("int4", "int4-awq", Capacity.none("no sweep yet")),
    ]


@pytest.fixture
def state(tables: dict[str, PriceTable]) -> WhatIf:
    # H100 at $4.00/GPU-hour, 1 GPU per replica, 20 req/s peak, headroom 1.2, 730 h
    return WhatIf(
        endpoints={n: EndpointWhatIf(gpu="H100", price_table="t") for n in ("bf16", "fp8", "int4")},
        tables=tables,
        traffic=Traffic(peak_rps=20),
    )


def test_baseline_row_hand_calculated(state: WhatIf) -> None:
    row = build_comparison(measures(), state, "bf16", input_per_output=4.0).row("bf16")
    # $/1M out = 4.00 ÷ (256 × 3600) × 10^6 = 4 ÷ 0.9216 = $4.3403
    assert row.usd_per_m_output.value == pytest.approx(4.340_278)
    # $/1M in = 4.00 ÷ (1024 × 3600) × 10^6 = $1.0851
    assert row.usd_per_m_input.value == pytest.approx(1.085_069)
    # blended at 512:128 (4 in per out) = 4.3403 ÷ 5 = $0.8681
    assert row.usd_per_m_blended.value == pytest.approx(0.868_056)
    # $/request = 4.00 ÷ (2 × 3600) = $0.000556
    assert row.usd_per_request.value == pytest.approx(0.000_555_6, rel=1e-3)
    # replicas = ceil(20 × 1.2 ÷ 2) = 12; monthly = 12 × 1 × 4.00 × 730 = $35,040
    assert row.replicas.value == 12 and row.sizing.text == "12 (auto)"
    assert row.monthly.value == pytest.approx(35_040)
    # energy: 600 W × 12 × 1 × 730 h ÷ 1000 = 5,256 kWh × $0.12 = $630.72
    assert row.energy_month.value == pytest.approx(630.72)
    assert row.is_baseline and row.reduction_pct.text == "baseline"
    assert row.price_label == "t h1 (r1) on-demand, as of 2026-01"


def test_candidate_deltas_vs_baseline(state: WhatIf) -> None:
    row = build_comparison(measures(), state, "bf16").row("fp8")
    # replicas = ceil(24 ÷ 4) = 6; monthly = 6 × 4.00 × 730 = $17,520
    assert row.replicas.value == 6 and row.monthly.value == pytest.approx(17_520)
    # Δ = 17,520 − 35,040 = −$17,520/month; reduction (35,040 − 17,520) ÷ 35,040 = 50 %
    assert row.delta_month.value == pytest.approx(-17_520)
    assert row.reduction_pct.value == pytest.approx(50.0)
    # $/1M out 4 ÷ (512 × 3600) × 10^6 = $2.1701; Δ = 2.1701 − 4.3403 = −$2.1701
    assert row.delta_per_m_output.value == pytest.approx(-2.170_139)
    # same $/replica, twice the capacity: never dearer at any traffic
    assert row.break_even.text == "never dearer than the baseline at any traffic"
    assert row.quality_delta.text == "-1.5 pp"
    # measured mix (2048 ÷ 512 = 4) when the workload mix is not given: 2.1701 ÷ 5 = $0.4340
    assert row.usd_per_m_blended.value == pytest.approx(0.434_028)
    assert row.energy_month.text == "no power reading"


def test_cells_render_with_units(state: WhatIf) -> None:
    table = build_comparison(measures(), state, "bf16")
    assert [c.key for c in COLUMNS] == [
        "precision", "p95", "output_tps", "quality_delta", "usd_per_m_output", "monthly",
        "reduction_pct", "replicas",
    ]  # fmt: skip
    assert table.row("fp8").cells() == {
        "precision": "fp8",
        "p95": "5.00 s",
        "output_tps": "512.0 tok/s",
        "quality_delta": "-1.5 pp",
        "usd_per_m_output": "$2.17/1M tok",
        "monthly": "$17,520/month",
        "reduction_pct": "+50.0%",
        "replicas": "6 (auto)",
    }
    assert table.peak_rps.text == "20.0 req/s"
    assert [t.name for t in table.tables] == ["t"]


def test_no_sweep_shows_the_reason_in_every_measured_cell(state: WhatIf) -> None:
    row = build_comparison(measures(), state, "bf16").row("int4")
    for fig in (row.p95, row.output_tps, row.usd_per_m_output, row.usd_per_request, row.monthly):
        assert fig.value is None and fig.text == "no sweep yet"
    assert row.reduction_pct.text == "no sweep yet"
    assert row.quality_delta.text == "no quality run yet"
    assert row.cells()["replicas"] == "no sweep yet"


def test_hand_set_replicas_price_without_a_sweep(state: WhatIf) -> None:
    state.set("endpoints.int4.replicas", 3)
    row = build_comparison(measures(), state, "bf16").row("int4")
    # 3 × 1 × 4.00 × 730 = $8,760/month even without capacity; $/1M still needs a sweep
    assert row.monthly.value == pytest.approx(8_760)
    assert row.usd_per_m_output.text == "no sweep yet"
    assert row.sizing.status == "unknown" and row.sizing.text == "3 (set; need: no sweep yet)"
    # −26,280 vs baseline: (35,040 − 8,760) ÷ 35,040 = 75 %
    assert row.reduction_pct.value == pytest.approx(75.0)


def test_slo_never_met(state: WhatIf) -> None:
    never = [*measures()[:2], EndpointMeasure("int4", "int4", Capacity.none("SLO never met"))]
    row = build_comparison(never, state, "bf16").row("int4")
    assert row.usd_per_m_output.text == "SLO never met"
    assert row.break_even.text == "SLO never met"


def test_hand_set_replicas_below_need_is_an_slo_breach(state: WhatIf) -> None:
    state.set("endpoints.fp8.replicas", 3)
    row = build_comparison(measures(), state, "bf16").row("fp8")
    # need 6; 20 req/s ÷ 3 = 6.67 req/s per replica > 4 SLO-compliant; beyond 6 measured → ≥ 11 s
    assert row.sizing.status == "slo-breach" and row.sizing.needed == 6
    assert row.sizing.load_per_replica_rps == pytest.approx(6.666_667)
    assert row.sizing.expected_p95 is not None and row.sizing.expected_p95.lower_bound
    assert "SLO breach" in row.sizing.text and "expected e2e p95 ≥ 11.00 s" in row.sizing.text
    # the monthly cost is still what 3 replicas cost: 3 × 4.00 × 730 = $8,760
    assert row.monthly.value == pytest.approx(8_760)


def test_breach_p95_is_interpolated(state: WhatIf) -> None:
    state.set("endpoints.fp8.replicas", 4)
    row = build_comparison(measures(), state, "bf16").row("fp8")
    # 20 ÷ 4 = 5 req/s per replica: between (4, 5.0 s) and (6, 11.0 s) → 5 + ½ × 6 = 8.0 s
    assert row.sizing.status == "slo-breach"
    assert row.sizing.expected_p95 is not None
    assert row.sizing.expected_p95.p95_s == pytest.approx(8.0)
    assert "expected e2e p95 ≈ 8.00 s" in row.sizing.text


def test_below_need_but_within_capacity_is_a_headroom_shortfall(state: WhatIf) -> None:
    state.set("endpoints.fp8.replicas", 5)
    row = build_comparison(measures(), state, "bf16").row("fp8")
    # need ceil(24 ÷ 4) = 6; 20 ÷ 5 = 4 req/s per replica = the SLO-compliant 4 → p95 5.0 s
    assert row.sizing.status == "no-headroom"
    assert "below the 1.2× headroom" in row.sizing.text and "5.00 s" in row.sizing.text


def test_enough_hand_set_replicas_are_ok(state: WhatIf) -> None:
    state.set("endpoints.fp8.replicas", 8)
    row = build_comparison(measures(), state, "bf16").row("fp8")
    assert row.sizing.status == "ok" and row.sizing.text == "8 (set; need 6)"


def test_missing_price_is_named(tables: dict[str, PriceTable]) -> None:
    state = WhatIf(
        endpoints={
            "bf16": EndpointWhatIf(gpu="H100", price_table="t"),
            "fp8": EndpointWhatIf(gpu="H100", price_table="t", pricing="spot"),
            "int4": EndpointWhatIf(gpu="L4", price_table="u"),
        },
        tables=tables,
        traffic=Traffic(peak_rps=20),
    )
    table = build_comparison(measures(), state, "bf16")
    assert table.row("fp8").usd_per_m_output.text == "no price for H100 in table t/spot"
    assert table.row("fp8").monthly.text == "no price for H100 in table t/spot"
    assert table.row("fp8").break_even.text == "no price for H100 in table t/spot"
    assert table.row("int4").usd_per_gpu_hour.text == "no price for L4 in table u/on-demand"


def test_what_if_gpu_and_price_change_flow_through(state: WhatIf) -> None:
    assert state.set("endpoints.fp8.gpu", "L4").ok
    row = build_comparison(measures(), state, "bf16").row("fp8")
    # L4 cheapest on-demand $0.70: 6 × 0.70 × 730 = $3,066/month
    assert row.monthly.value == pytest.approx(3_066)
    assert "capacity measured on H100" in row.price_label
    assert state.set("hours_per_month", 365).ok
    row = build_comparison(measures(), state, "bf16").row("fp8")
    assert row.monthly.value == pytest.approx(1_533)  # 6 × 0.70 × 365


def test_no_traffic_target(tables: dict[str, PriceTable]) -> None:
    state = WhatIf(
        endpoints={n: EndpointWhatIf(gpu="H100", price_table="t") for n in ("bf16", "fp8", "int4")},
        tables=tables,
    )
    table = build_comparison(measures(), state, "bf16")
    assert table.peak_rps.value is None
    assert table.row("bf16").monthly.text.startswith("no traffic target")
    # $/1M tokens does not depend on traffic
    assert table.row("bf16").usd_per_m_output.value == pytest.approx(4.340_278)


def test_record_keeps_value_unit_and_reason(state: WhatIf) -> None:
    table = build_comparison(measures(), state, "bf16")
    rec = table.row("int4").record()
    assert rec["monthly"] == {
        "value": None, "unit": "USD/month", "text": "no sweep yet", "note": "",
        "reason": "no sweep yet",
    }  # fmt: skip
    assert table.row("bf16").record()["monthly"]["value"] == pytest.approx(35_040)


def test_energy_says_its_power_basis_and_arithmetic(state: WhatIf) -> None:
    ms = measures()
    ms[0] = EndpointMeasure(
        "bf16", "bf16", BF16, power_w_per_gpu=600.0, power_basis="at load level 16"
    )
    ms[1] = EndpointMeasure("fp8", "fp8", FP8, power_reason="no power reading (no GPU telemetry)")
    state.set("energy_usd_per_kwh", 0.2)
    table = build_comparison(ms, state, "bf16")
    row = table.row("bf16")
    # 600 W × 12 × 1 × 730 h ÷ 1000 = 5,256 kWh × $0.20 = $1,051.20
    assert row.energy_month.value == pytest.approx(1_051.2)
    assert row.energy_month.text == "$1,051/month"
    assert row.energy_month.note == "600 W/GPU at load level 16 × 12 × 1 GPU × 730 h × $0.2/kWh"
    assert row.monthly.value == pytest.approx(35_040)  # energy is not added to the bill
    assert table.row("fp8").energy_month.text == "no power reading (no GPU telemetry)"
    # the measured mix and where it was measured: 1024 ÷ 256 = 4 at the capacity level
    assert row.usd_per_m_blended.note == "at 4.00:1 in:out (measured at load level 16)"
    given = build_comparison(ms, state, "bf16", input_per_output=2.0).row("bf16")
    # 4.3403 ÷ (1 + 2) = $1.4468 at the workload's 2:1
    assert given.usd_per_m_blended.value == pytest.approx(1.446_759)
    assert given.usd_per_m_blended.note == "at 2.00:1 in:out (workload)"


def test_auto_replicas_state_the_range_within_the_bracket(state: WhatIf) -> None:
    """Sized from the passing side: ceil(20 × 1.2 ÷ 2.0) = 12; the failing side, 2.5 req/s,
    would need ceil(24 ÷ 2.5) = 10."""
    from dataclasses import replace

    from qtui.evidence.levels import Bracket

    cap = replace(BF16, bracket=Bracket(2.0, 2.5, 16, 20))
    row = build_comparison([EndpointMeasure("bf16", "bf16", cap)], state, "bf16").row("bf16")
    assert row.replicas.value == 12 and row.sizing.within_bracket == (10, 12)
    assert row.sizing.text == "12 (auto; 10–12 within the bracket)"
    narrow = replace(BF16, bracket=Bracket(2.0, 2.05, 16, 17))  # ceil(24 ÷ 2.05) = 12
    row = build_comparison([EndpointMeasure("bf16", "bf16", narrow)], state, "bf16").row("bf16")
    assert row.sizing.text == "12 (auto; the same across the bracket)"
