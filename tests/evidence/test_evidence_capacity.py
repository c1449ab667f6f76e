"""The one capacity rule: sweeps, held loads as lower bounds, client-bound levels (by hand)."""

from __future__ import annotations

import pytest
from levelpoints import SWEEP, pt

from qtui.config.profile import Slo
from qtui.evidence.capacity import (
    NO_LOAD,
    SLO_NEVER_MET,
    capacity,
    capacity_text,
)
from qtui.evidence.levels import LevelPoint, sweep_point
from qtui.evidence.slo import breaches

SLO = Slo(ttft_p95_ms=500, e2e_p95_ms=8000, max_error_rate=0.01)


def test_a_sweep_gives_the_last_level_before_the_first_breach() -> None:
    cap = capacity(SWEEP, SLO)
    assert cap.usable and cap.met_slo and not cap.lower_bound
    assert (cap.rps, cap.output_tps, cap.input_tps) == (6.0, 768.0, 3072.0)
    assert cap.p95_s == 4.0
    assert cap.source == "load level 16" and cap.level == 16
    assert capacity_text(cap) == (
        "≥ 6 req/s, < 9 req/s per replica; ±20.0 % (load level 16; first breach at 32 users)"
    )
    assert capacity(list(reversed(SWEEP)), SLO).level == 16  # order of the input does not matter


def test_a_sweep_that_never_broke_is_a_lower_bound() -> None:
    cap = capacity(SWEEP[:3], SLO)
    assert cap.level == 16 and cap.lower_bound
    assert capacity_text(cap) == (
        "≥ 6 req/s per replica (load level 16; the sweep's highest level met every SLO)"
    )


def test_a_client_bound_capacity_is_a_lower_bound_saying_why() -> None:
    levels = [*SWEEP[:2], pt(16, 6.0, 0.30, 4.0, client_bound=True), SWEEP[3]]
    cap = capacity(levels, SLO)
    assert cap.level == 16 and cap.lower_bound and cap.client_bound
    assert capacity_text(cap) == (
        "≥ 6 req/s per replica (load level 16; first breach at 32 users; client-bound: the "
        "client, not the server, "
        "was the limit at 16 users)"
    )


def test_a_client_bound_breach_is_no_brackets_end() -> None:
    """A fixed-levels sweep whose first breach the client limited: not the server's knee, so
    no bracket; a lower bound in the knee search's words ("client-bound mid-search")."""
    levels = [*SWEEP[:3], pt(32, 9.0, 0.70, 7.0, client_bound=True)]
    cap = capacity(levels, SLO)
    assert cap.level == 16 and cap.lower_bound and cap.bracket is None and cap.rps == 6.0
    why = "at 32 users, the client, not the server, was the limit; not judged"
    assert capacity_text(cap) == (
        f"≥ 6 req/s per replica (load level 16; client-bound mid-search ({why}); the steps"
        " before it kept)"
    )
    first = capacity([pt(1, 0.5, 0.9, 2.0, client_bound=True)], SLO)
    assert capacity_text(first) == (
        "— (client-bound: mid-search (at 1 users, the client, not the server, was the limit;"
        " not judged); no step before it)"
    )
    row = {"level": 32, "rps": 9.0, "in_tps": 1.0, "out_tps": 1.0, "ttft_p95": 0.7,
           "e2e_p95": 7.0, "requests": 100, "client_bound": True}  # fmt: skip
    assert capacity([*SWEEP[:3], sweep_point(row)], SLO) == cap  # as a record replays it


def test_a_held_load_that_met_every_slo_is_a_lower_bound() -> None:
    held = [pt(8, 3.0, 0.2, 3.0, held=True), pt(2, 1.0, 0.1, 2.0, held=True)]
    cap = capacity(held, SLO)
    assert cap.rps == 3.0 and cap.level == 8 and cap.lower_bound
    assert capacity_text(cap) == "≥ 3 req/s per replica (held at 8 users; no sweep)"


def test_a_sweep_replaces_a_held_load() -> None:
    cap = capacity([pt(64, 20.0, 0.1, 1.0, held=True), *SWEEP], SLO)
    assert cap.level == 16 and not cap.lower_bound


def test_a_held_load_over_the_slo_gives_none_and_the_highest_breach() -> None:
    held = [pt(4, 1.0, 0.1, 2.0, held=True), pt(8, 1.5, 0.9, 3.0, held=True, unit="req/s")]
    cap = capacity(held, SLO)
    assert cap.level == 4  # the highest level that met every SLO
    only_bad = capacity([held[1]], SLO)
    assert not only_bad.usable and only_bad.reason == SLO_NEVER_MET
    assert only_bad.detail == "held at 8 req/s: ttft p95 900 ms > 500 ms"
    assert capacity_text(only_bad) == (
        "— (SLO never met: held at 8 req/s: ttft p95 900 ms > 500 ms)"
    )


def test_nothing_measured() -> None:
    cap = capacity([], SLO)
    assert cap.reason == NO_LOAD and capacity_text(cap) == "— (no load measured yet)"
    never = capacity([pt(1, 0.5, 0.9, 2.0)], SLO)
    assert never.reason == SLO_NEVER_MET and never.detail == "level 1: ttft p95 900 ms > 500 ms"


def test_breaches_name_every_broken_slo() -> None:
    bad = LevelPoint(8, 3.0, 1, 1, ttft_p95_s=0.6, itl_p95_s=None, e2e_p95_s=9.0, error_rate=0.05)
    slo = Slo(ttft_p95_ms=500, itl_p95_ms=40, e2e_p95_ms=8000, max_error_rate=0.01)
    assert breaches(bad, slo) == [
        "ttft p95 600 ms > 500 ms",
        "itl p95 not measured",
        "e2e p95 9000 ms > 8000 ms",
        "error rate 5.0% > 1.0%",
    ]
    assert breaches(bad, Slo(max_error_rate=0.1)) == []  # no latency SLO set
    none_ok = LevelPoint(8, 0.0, 0, 0, requests=0)
    assert breaches(none_ok, Slo(max_error_rate=0.1)) == ["no successful request"]


def test_error_rate_alone_breaks_capacity() -> None:
    sweep = [pt(1, 0.5, 0.05, 2.0), pt(4, 1.9, 0.05, 2.0, err=0.02)]
    assert capacity(sweep, SLO).source == "load level 1"


def rate_pt(level: float, rps: float, ttft: float, **kw: object) -> LevelPoint:
    return LevelPoint(level, rps, rps * 512, rps * 128, ttft, None, 2.0, 0.0, unit="req/s", **kw)  # type: ignore[arg-type]


def test_a_breaking_sweep_carries_its_bracket() -> None:
    """The issue's figure: passing at 58.1 req/s, failing at 61.0 offered: ±2.4 %."""
    cap = capacity([rate_pt(32, 32.0, 0.1), rate_pt(58.1, 58.1, 0.4), rate_pt(61, 55.0, 0.9)], SLO)
    assert cap.bracket is not None and cap.rps == 58.1 and cap.bracket.upper_rps == 61.0
    assert capacity_text(cap) == (
        "≥ 58.1 req/s, < 61.0 req/s per replica; ±2.4 % (load level 58.1; first breach at 61 req/s)"
    )


def test_a_bracket_wider_than_asked_says_the_budget_was_spent() -> None:
    knee = {"asked_precision": 0.05, "max_steps": 2}
    cap = capacity([rate_pt(32, 32.0, 0.1, **knee), rate_pt(64, 50.0, 0.9, **knee)], SLO)
    assert cap.bracket_why == "±33.3 % is wider than the ±5 % asked: step budget (2) spent"
    assert capacity_text(cap).endswith(
        f"({'; '.join(['load level 32', 'first breach at 64 req/s', cap.bracket_why])})"
    )


def test_a_saturated_failing_step_closes_the_bracket() -> None:
    """Closed loop: 256 users delivered no more than 64 did (the issue's fp8 server)."""
    cap = capacity([pt(64, 51.2, 0.16, 3.0), pt(256, 51.2, 0.51, 9.0)], SLO)
    assert capacity_text(cap).startswith(
        "51.2 req/s per replica; saturated: more users delivered no more (load level 64;"
    )


def test_a_sweep_past_saturation_keeps_its_best_passing_rate() -> None:
    """The H200 bf16 sweep: 128 users delivered 76.8 req/s, 256 users (lockstep waves) 51.2, both
    within every SLO: the server sustained 76.8, so that is the (lower-bound) capacity."""
    cap = capacity([pt(32, 30.0, 0.1, 2.0), pt(128, 76.8, 0.3, 3.0), pt(256, 51.2, 0.4, 4.0)], SLO)
    assert cap.rps == 76.8 and cap.level == 128 and cap.lower_bound
    assert capacity_text(cap).startswith("≥ 76.8 req/s per replica (load level 128;")


def test_a_rate_step_that_passed_is_the_rate_offered() -> None:
    """Poisson arrivals over a short step read ±10 % around the offered rate (1/√100): the
    passing side is the rate offered, as the failing side is; token rates scale alike. The
    bench's run: 9.82 offered, 9.65 delivered, then 10.8 failed → ±4.8 %, as the search saw."""
    ok = LevelPoint(9.82, 9.65, 9.65 * 256, 9.65 * 32, 0.4, None, 2.0, 0.0, requests=102,
                    unit="req/s")  # fmt: skip
    bad = LevelPoint(10.8, 9.6, 1, 1, 0.9, None, 2.0, 0.0, requests=115, unit="req/s")
    cap = capacity([ok, bad], SLO)
    assert cap.rps == 9.82 and cap.output_tps == pytest.approx(9.82 * 32)
    assert cap.bracket is not None and round(cap.bracket.precision, 4) == 0.0475
    behind = LevelPoint(9.82, 5.0, 1, 5.0 * 32, 0.4, None, 2.0, 0.0, requests=102, unit="req/s")
    assert capacity([behind, bad], SLO).rps == 5.0  # 5 < 9.82 × (1 − 4/√102): fell behind
