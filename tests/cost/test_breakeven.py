"""Break-even traffic where the monthly-cost step functions cross (hand-walked steps)."""

from __future__ import annotations

import pytest

from qtui.cost.breakeven import break_even


def test_candidate_cheaper_above_a_traffic_level() -> None:
    # base: $1000/month per replica, 10 req/s; cand: $1500, 20 req/s; headroom 1
    # peak (0,10]: cand 1×1500 vs base 1×1000 → dearer; (10,20]: 1500 vs 2000 → cheaper;
    # (20,30]: 3000 vs 3000 equal; (30,40]: 3000 vs 4000 … past 1500 ÷ (100 − 75) = 60 req/s
    # the order cannot change → cheaper above 10 req/s
    got = break_even(1000, 10, 1500, 20, 1.0)
    assert got.kind == "above" and got.rps == pytest.approx(10)
    assert got.text == "cheaper above 10 req/s peak"


def test_headroom_scales_the_steps() -> None:
    # same as above with headroom 1.2: replicas step every capacity ÷ 1.2 req/s → 10 ÷ 1.2 = 8.33
    got = break_even(1000, 10, 1500, 20, 1.2)
    assert got.kind == "above" and got.rps == pytest.approx(8.333_333)


def test_candidate_cheaper_only_at_low_traffic() -> None:
    # base $1000, 10 req/s; cand $700, 5 req/s (a: 100 vs 140 $/month per req/s → base wins late)
    # (0,5]: 700 vs 1000 cheaper; (5,10]: 1400 vs 1000 dearer; (10,15]: 2100 vs 2000 dearer …
    got = break_even(1000, 10, 700, 5, 1.0)
    assert got.kind == "below" and got.rps == pytest.approx(5)


def test_last_crossing_when_steps_cross_more_than_once() -> None:
    # base $1000, 10 req/s; cand $600, 5 req/s: (0,5] 600<1000; (5,10] 1200>1000;
    # (10,15] 1800<2000; (15,20] 2400>2000; (20,25] 3000=3000; (25,30] 3600>3000 and dearer
    # from then on (until the 1000 ÷ (120 − 100) = 50 req/s bound) → last crossing at 25 req/s
    got = break_even(1000, 10, 600, 5, 1.0)
    assert got.kind == "below" and got.rps == pytest.approx(25)


def test_always_never_tie() -> None:
    always = break_even(1000, 10, 500, 10, 1.2)  # half the price, same capacity
    assert always.kind == "always" and always.rps is None
    never = break_even(1000, 10, 1500, 5, 1.2)  # dearer and slower
    assert never.kind == "never" and never.rps is None
    tie = break_even(1000, 10, 2000, 20, 1.2)  # twice the price for twice the capacity
    assert tie.kind == "tie"


def test_large_break_even_is_written_in_full() -> None:
    # base $1000 @ 10 req/s (a = 100); cand $1000.5 @ 10.01 (a = 99.95): the line gap passes one
    # replica's price at 1000.5 ÷ 0.05 = 20,010 req/s; the last crossing is at 10,000 req/s
    got = break_even(1000, 10, 1000.5, 10.01, 1.0)
    assert got.kind == "above" and got.rps == pytest.approx(10_000)
    assert got.text == "cheaper above 10,000 req/s peak"


def test_nearly_equal_slopes_are_a_tie_not_a_long_search() -> None:
    got = break_even(1000, 10, 1000.001, 10.00002, 1.0)
    assert got.kind == "tie" and got.rps is None
