"""Clock alignment of workers on other hosts (pure), checked by hand."""

from __future__ import annotations

import pytest

from qtui.evidence.records import RequestRecord
from qtui.load.clocks import ClockOffset, Ping, offset, realigned, to_driver
from qtui.load.sender import StridedCounter


def test_offset_takes_the_shortest_round_trip_and_half_of_it_as_bound() -> None:
    # driver perf 10.0 → 10.2 (rtt 0.2), worker read perf 110.1 / wall 5000.1 at the midpoint
    slow = Ping(10.0, 1000.0, 110.1, 5000.1, 10.2)
    # driver perf 20.0 → 20.01 (rtt 0.01): midpoint 20.005, driver wall then 1010.005
    fast = Ping(20.0, 1010.0, 120.0, 5010.0, 20.01)
    off = offset([slow, fast])
    assert off.perf_s == pytest.approx(120.0 - 20.005)  # 99.995
    assert off.wall_s == pytest.approx(5010.0 - 1010.005)  # 3999.995
    assert off.bound_s == pytest.approx(0.005)
    assert off.to_remote_perf(21.0) == pytest.approx(120.995)
    assert off.to_driver_wall(5011.0) == pytest.approx(1011.005)
    with pytest.raises(ValueError):
        offset([])


def test_a_record_comes_back_on_the_driver_wall_clock_with_its_durations_unchanged() -> None:
    off = offset([Ping(0.0, 100.0, 50.0, 4100.0, 0.0)])  # worker wall 4000 s ahead, rtt 0
    rec = RequestRecord("e", "e-1", t_send=4200.0, t_first_token=4200.5, t_end=4201.0)
    rec.chunk_times = [0.5, 0.75, 1.0]
    out = to_driver(rec, off)
    assert (out.t_send, out.t_first_token, out.t_end) == (200.0, 200.5, 201.0)
    assert out.chunk_times == [0.5, 0.75, 1.0] and out.ttft == 0.5
    assert to_driver(RequestRecord("e", "e-2", t_send=4000.0), off).t_first_token is None


def test_strided_counters_share_the_limit_with_no_repeat() -> None:
    counters = [StridedCounter(i, 3, 10) for i in range(3)]
    got = [[n for n in iter(c.claim, None)] for c in counters]
    assert got == [[1, 4, 7, 10], [2, 5, 8], [3, 6, 9]]
    assert [c.value for c in counters] == [4, 3, 3]
    free = StridedCounter(1, 2, None)
    assert [free.claim() for _ in range(3)] == [2, 4, 6]


def test_a_new_round_of_pings_is_taken_unless_it_was_slowed() -> None:
    current = ClockOffset(1.0, 2.0, 0.001)
    drifted = ClockOffset(1.0002, 2.0002, 0.0015)  # bound 1.5 ms ≤ 2 × best 1 ms: taken
    slowed = ClockOffset(1.01, 2.01, 0.0025)  # 2.5 ms > 2 ms: a congested round, kept out
    assert realigned(current, drifted, 0.001) is drifted
    assert realigned(current, slowed, 0.001) is current
