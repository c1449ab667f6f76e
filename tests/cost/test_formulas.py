"""Every cost formula against a hand calculation (the arithmetic is in the comments)."""

from __future__ import annotations

import pytest

from qtui.cost import formulas as f
from qtui.cost.figure import (
    PERCENT,
    REPLICAS,
    USD_MONTH,
    USD_PER_M_TOKENS,
    USD_PER_REQUEST,
    Figure,
    replicas_and_cost_text,
)


def test_usd_per_million_output_tokens() -> None:
    # $2.00/GPU-h × 1 GPU ÷ (1000 tok/s × 3600 s/h) × 10^6 = 2 ÷ 3.6 = $0.5556 per 1M tokens
    assert f.usd_per_million_tokens(2.0, 1, 1000) == pytest.approx(0.555_555_6)
    # $3.00 × 2 GPUs = $6.00/h; 1500 tok/s × 3600 = 5.4M tok/h; 6 ÷ 5.4 = $1.1111 per 1M
    assert f.usd_per_million_tokens(3.0, 2, 1500) == pytest.approx(1.111_111_1)


def test_usd_per_million_input_tokens_uses_input_rate() -> None:
    # Same replica, input side: $4.00/h ÷ (4000 in-tok/s × 3600) × 10^6 = 4 ÷ 14.4 = $0.2778
    assert f.usd_per_million_tokens(4.0, 1, 4000) == pytest.approx(0.277_777_8)


def test_blended_is_per_token_of_traffic_not_a_weighted_average() -> None:
    # $3.60/h; 3000 in-tok/s, 1000 out-tok/s (a 3:1 mix).
    # C_in = 3.6 ÷ (3000 × 3600) × 10^6 = $0.3333; C_out = 3.6 ÷ (1000 × 3600) × 10^6 = $1.00
    # blended = C_out ÷ (1 + 3) = $0.25 = 3.6 ÷ (4000 tok/s × 3600) × 10^6 = 1 ÷ (1/C_in + 1/C_out)
    c_in = f.usd_per_million_tokens(3.6, 1, 3000)
    c_out = f.usd_per_million_tokens(3.6, 1, 1000)
    blended = f.blended_usd_per_million(c_out, 3.0)
    assert blended == pytest.approx(0.25)
    assert blended == pytest.approx(1 / (1 / c_in + 1 / c_out))
    assert blended == pytest.approx(f.usd_per_million_tokens(3.6, 1, 4000))
    # the API-style weighted average (3 × 0.3333 + 1 × 1.00) ÷ 4 = $0.50 would double-count
    assert blended < (3 * c_in + c_out) / 4


def test_usd_per_request() -> None:
    # $3.60/h ÷ (2 req/s × 3600 s/h) = $0.0005 per request
    assert f.usd_per_request(3.6, 1, 2.0) == pytest.approx(0.0005)
    assert Figure.of(0.0005, USD_PER_REQUEST).text == "$0.000500/req"


def test_peak_from_daily_volume() -> None:
    # 1,728,000 requests/day ÷ 86,400 s = 20 req/s mean; × peak factor 2 = 40 req/s at peak
    assert f.peak_rps_from_daily(1_728_000, 2.0) == pytest.approx(40.0)


@pytest.mark.parametrize(
    ("peak", "capacity", "headroom", "expected"),
    [
        (20, 8, 1.2, 3),  # 20 × 1.2 = 24 req/s; 24 ÷ 8 = 3.0 → 3
        (20, 7, 1.2, 4),  # 24 ÷ 7 = 3.43 → 4
        (7, 0.7, 1.2, 12),  # 7 × 1.2 ÷ 0.7 = 12 (floats say 12.000000000000002; still 12)
        (0.5, 10, 1.2, 1),  # 0.6 ÷ 10 = 0.06 → 1: at least one replica
        (20, 8, 1.0, 3),  # 20 ÷ 8 = 2.5 → 3
    ],
)
def test_replicas_needed(peak: float, capacity: float, headroom: float, expected: int) -> None:
    assert f.replicas_needed(peak, capacity, headroom) == expected


def test_replicas_default_headroom_is_1_2() -> None:
    # 10 req/s × 1.2 ÷ 2.5 req/s = 4.8 → 5 replicas; without headroom 10 ÷ 2.5 = 4.0 → 4
    assert f.replicas_needed(10, 2.5) == 5
    assert f.replicas_needed(10, 2.5, 1.0) == 4


def test_monthly_cost() -> None:
    # 3 replicas × 2 GPUs × $4.00/GPU-h × 730 h = $17,520/month
    assert f.monthly_cost(3, 2, 4.0, 730) == pytest.approx(17_520)
    assert f.monthly_cost(3, 2, 4.0) == pytest.approx(17_520)  # 730 h is the default


def test_energy_cost() -> None:
    # 700 W × 3 replicas × 2 GPUs × 730 h ÷ 1000 = 3,066 kWh; × $0.12/kWh = $367.92/month
    assert f.energy_kwh_month(700, 3, 2, 730) == pytest.approx(3066)
    assert f.energy_cost_month(700, 3, 2, 0.12, 730) == pytest.approx(367.92)


def test_reduction_pct() -> None:
    # (1000 − 250) ÷ 1000 × 100 = 75 %; a dearer candidate is a negative reduction
    assert f.reduction_pct(1000, 250) == pytest.approx(75.0)
    assert f.reduction_pct(1000, 1100) == pytest.approx(-10.0)


@pytest.mark.parametrize(
    "call",
    [
        lambda: f.usd_per_million_tokens(2.0, 1, 0),
        lambda: f.usd_per_request(2.0, 1, -1),
        lambda: f.replicas_needed(0, 4),
        lambda: f.replicas_needed(10, float("nan")),
        lambda: f.monthly_cost(0, 1, 2.0),
        lambda: f.monthly_cost(1, 1, -2.0),
        lambda: f.reduction_pct(0, 10),
    ],
)
def test_invalid_inputs_raise(call: object) -> None:
    with pytest.raises(ValueError):
        call()  # type: ignore[operator]


# --- seed articles: their worked tables, recomputed -----------------------------------------


@pytest.mark.parametrize(
    ("price", "hours", "expected", "text"),
    [
        (3.20, 730, 2336.00, "$2,336/month"),  # A100 40GB FP32 row: 3.20 × 730 = 2,336
        (3.20, 365, 1168.00, "$1,168/month"),  # FP16 row: 3.20 × 365 = 1,168
        (0.526, 730, 383.98, "$384/month"),  # T4 INT8 row: 0.526 × 730 = 383.98 ≈ 384
        (0.526, 365, 191.99, "$192/month"),  # T4 INT4 row: 0.526 × 365 = 191.99 ≈ 192
    ],
)
def test_seed_002_monthly_cost_table(
    price: float, hours: float, expected: float, text: str
) -> None:
    cost = f.monthly_cost(1, 1, price, hours)
    assert cost == pytest.approx(expected)
    assert Figure.of(cost, USD_MONTH).text == text


def test_seed_002_savings_lines() -> None:
    # "Savings from FP32 to INT8: $2,144/month (92% reduction)": 2,336 − 191.99 = 2,144.01 and
    # 2,144 ÷ 2,336 = 91.8 % — that is the INT4 row (365 h); the true FP32 → INT8 (730 h) figure
    # is 2,336 − 383.98 = 1,952.02, 83.6 %, the article's "83% cost savings" line.
    fp32 = f.monthly_cost(1, 1, 3.20, 730)
    int8 = f.monthly_cost(1, 1, 0.526, 730)
    int4 = f.monthly_cost(1, 1, 0.526, 365)
    assert fp32 - int4 == pytest.approx(2144.01)
    assert round(f.reduction_pct(fp32, int4)) == 92
    assert fp32 - int8 == pytest.approx(1952.02)
    assert int(f.reduction_pct(fp32, int8)) == 83
    # Client case: $11,840 → $2,840 = $9,000/month saved (× 12 = $108,000/year), 76 % lower
    assert 11_840 - 2_840 == 9_000 and 9_000 * 12 == 108_000
    assert round(f.reduction_pct(11_840, 2_840)) == 76
    assert Figure.of(f.reduction_pct(11_840, 2_840), PERCENT).text == "+76.0%"


def test_seed_001_cost_per_million_tokens_table() -> None:
    # FP16 on one A10: 25 tok/s, $8.12 per 1M tokens → implied price
    # 8.12 × 25 × 3600 ÷ 10^6 = $0.7308/h. At that price:
    #   INT8 43 tok/s: 0.7308 ÷ (43 × 3600) × 10^6 = $4.72 ✓ ; 42 % lower: (8.12 − 4.72) ÷ 8.12
    #   INT4 62 tok/s: 0.7308 ÷ (62 × 3600) × 10^6 = $3.27, not the article's $3.10 (its 62 % is
    #   (8.12 − 3.10) ÷ 8.12 = 61.8 %; from tok/s alone it would be 1 − 25/62 = 59.7 %).
    price = 8.12 * 25 * 3600 / 1e6
    assert price == pytest.approx(0.7308)
    assert f.usd_per_million_tokens(price, 1, 25) == pytest.approx(8.12)
    int8 = f.usd_per_million_tokens(price, 1, 43)
    assert round(int8, 2) == 4.72
    assert Figure.of(int8, USD_PER_M_TOKENS).text == "$4.72/1M tok"
    assert round(f.reduction_pct(8.12, 4.72)) == 42
    int4 = f.usd_per_million_tokens(price, 1, 62)
    assert round(int4, 2) == 3.27
    assert round(f.reduction_pct(8.12, 3.10)) == 62
    assert round(f.reduction_pct(8.12, int4), 1) == 59.7


def test_replicas_and_cost_say_a_missing_figure_once() -> None:
    reps, money = Figure.of(3, REPLICAS), Figure.of(15_067.2, USD_MONTH)
    assert replicas_and_cost_text(reps, money) == "3 replica(s), $15,067/month"
    never = Figure.missing("SLO never met", REPLICAS)
    assert replicas_and_cost_text(never, Figure.missing("SLO never met", USD_MONTH)) == (
        "replicas — (SLO never met)"
    )
    unpriced = Figure.missing("no price for H200", USD_MONTH)
    assert replicas_and_cost_text(reps, unpriced) == "3 replica(s), $/month — (no price for H200)"
    sized = "3 (auto; 3–4 within the bracket)"
    assert replicas_and_cost_text(reps, money, sized) == (
        "replicas 3 (auto; 3–4 within the bracket), $15,067/month"
    )
