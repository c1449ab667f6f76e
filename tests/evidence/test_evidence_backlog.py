"""The backlog rule: a rate step whose queue grew through it is a breach (by hand)."""

from __future__ import annotations

import random

from qtui.config.profile import Slo
from qtui.evidence.capacity import capacity, capacity_text
from qtui.evidence.levels import LevelPoint, sweep_point, ttft_rise
from qtui.evidence.records import RequestRecord, Stats
from qtui.evidence.slo import breaches
from qtui.load.slo import LevelResult, step_rise
from qtui.session.rows import sweep_level_row

SLO = Slo(ttft_p95_ms=500, e2e_p95_ms=8000, max_error_rate=0.01)
# 60 successes sent at 0..59 s: the first third waits 0.1 s, the middle 0.15 s, the last 0.25 s
SENT = [float(i) for i in range(60)]
TTFT = [0.1] * 20 + [0.15] * 20 + [0.25] * 20


def rate(level: float, rise: float | None, *, held: bool = False) -> LevelPoint:
    """A rate step that met every SLO by its p95s (TTFT 300 ms, e2e 4 s)."""
    return LevelPoint(level, level, level * 512, level * 128, 0.3, None, 4.0, 0.0,
                      requests=100, unit="req/s", held=held, ttft_rise=rise)  # fmt: skip


def test_the_rise_is_the_last_thirds_median_over_the_firsts() -> None:
    assert ttft_rise(SENT, TTFT) == 0.25 / 0.1  # 2.5
    order = list(range(60))
    random.Random(1).shuffle(order)  # by send time, whatever the order given
    assert ttft_rise([SENT[i] for i in order], [TTFT[i] for i in order]) == 2.5
    assert ttft_rise(SENT[:59], TTFT[:59]) is None  # fewer than 60 (20 a third): no verdict
    assert ttft_rise(SENT, [0.0] * 20 + TTFT[20:]) is None


def test_a_rising_queue_breaks_the_slo_of_a_rate_step_only() -> None:
    assert breaches(rate(8, 2.5), SLO) == [
        "backlog growing: median TTFT ×2.5 from the step's first third to its last (≥ ×2)"
    ]
    assert breaches(rate(8, 1.9), SLO) == []  # below ×2: a queue that keeps up
    assert breaches(rate(8, None), SLO) == []
    assert breaches(rate(8, 2.5, held=True), SLO) == []  # a held load is judged per second
    users = LevelPoint(8, 8, 1, 1, 0.3, None, 4.0, 0.0, requests=100, ttft_rise=2.5)
    assert breaches(users, SLO) == []  # a closed loop cannot grow a queue past its users


def test_a_backlog_step_is_the_brackets_failing_end() -> None:
    cap = capacity([rate(4, 1.0), rate(8, 2.5), rate(16, 3.0)], SLO)
    assert capacity_text(cap) == (
        "≥ 4 req/s, < 8 req/s per replica; ±33.3 % (load level 4; first breach at 8 req/s)"
    )


def test_the_rise_is_recorded_and_judged_again_from_the_row() -> None:
    recs = [
        RequestRecord("e", f"r{i}", "measure", 8.0, t_send=s, chunk_times=[t, t + 1.0])
        for i, (s, t) in enumerate(zip(SENT, TTFT, strict=True))
    ]
    recs.append(RequestRecord("e", "x", "measure", 8.0, t_send=99.0, error_class="timeout"))
    rise = step_rise(recs)
    assert rise == 2.5  # the failure is not a success: not counted
    stats = Stats("e", 0.0, 10.0, requests=60, rps=8.0, in_tps=1.0, out_tps=1.0)
    row = sweep_level_row("e", LevelResult(8.0, stats, [], ttft_rise=rise))
    assert row["ttft_rise"] == 2.5
    assert sweep_point(row, "req/s").backlog and not sweep_point(row, "users").backlog
