"""Splitting a load over worker processes and merging what they measure (pure)."""

from __future__ import annotations

from itertools import pairwise

import pytest

from qtui.client.stream import Prompt
from qtui.load.selfcheck import ClientHealth
from qtui.load.split import (
    STREAMS_PER_PROCESS,
    choose_processes,
    expected_streams,
    handover_text,
    merge_health,
    more_processes,
    phase_at,
    share_text,
    split_int,
    split_level,
    split_over,
    stagger,
)
from qtui.load.workload import Strided


@pytest.mark.parametrize(("n", "k"), [(0, 1), (1, 2), (7, 2), (1024, 2), (10, 3), (5, 8)])
def test_split_int_is_near_equal_and_sums(n: int, k: int) -> None:
    parts = split_int(n, k)
    assert len(parts) == k and sum(parts) == n
    assert max(parts) - min(parts) <= 1 and parts == sorted(parts, reverse=True)


def test_split_level_users_are_whole_and_rates_divide() -> None:
    assert split_level(5, "concurrency", 2) == [3.0, 2.0]
    assert split_level(1, "concurrency", 2) == [1.0, 0.0]  # a process may idle at level 1
    assert split_level(9.0, "rate", 3) == [3.0, 3.0, 3.0]
    with pytest.raises(ValueError):
        split_int(4, 0)


def test_a_lost_workers_share_goes_to_the_rest_and_the_level_holds() -> None:
    assert split_over(7, "concurrency", [0, 2, 3]) == {0: 3.0, 2: 2.0, 3: 2.0}
    assert sum(split_over(7, "concurrency", [2, 3]).values()) == 7
    assert split_over(9.0, "rate", [1, 4]) == {1: 4.5, 4: 4.5}
    assert split_over(5, "concurrency", []) == {}


def test_where_a_lost_workers_load_went_is_one_phrase() -> None:
    shares = [("bf16", 64.0, "concurrency"), ("fp8", 2.5, "rate"), ("kv8", 0.0, "concurrency")]
    assert handover_text(shares, ["a", "b"], "host") == (
        "its 64 users of bf16 and 2.5 req/s of fp8 moved to hosts a, b"
    )
    assert handover_text([("x", 1.0, "concurrency")], ["0"], "process") == (
        "its 1 user of x moved to process 0"
    )
    assert share_text(1500.0, "rate") == "1500 req/s" and share_text(20 / 3, "rate") == "6.67 req/s"
    assert handover_text([], ["0", "2"], "process") == (
        "it held no load; the next steps go to processes 0, 2"
    )
    assert handover_text(shares, [], "host") == "no host is left to take its load"


def test_constant_arrivals_are_staggered_so_the_merged_stream_is_even() -> None:
    level, k = 10.0, 3
    offs = stagger(level, "rate", k)
    # each process sends every k/level s from its offset: together every 1/level s
    times = sorted(o + j * k / level for o in offs for j in range(5))
    gaps = {round(b - a, 9) for a, b in pairwise(times)}
    assert gaps == {0.1}
    assert stagger(4, "concurrency", 2) == [0.0, 0.0]


def test_processes_default_to_one_for_small_loads_and_respect_cpus_and_override() -> None:
    assert choose_processes(8, cpus=16) == 1
    assert choose_processes(STREAMS_PER_PROCESS, cpus=16) == 1
    assert choose_processes(STREAMS_PER_PROCESS + 1, cpus=16) == 2
    assert choose_processes(100_000, cpus=2) == 2  # never more than the CPUs
    assert choose_processes(1024, cpus=16) == 9  # ⌈1024 × 0.004 ÷ 0.5⌉ = ⌈8.19⌉
    # the H200 run: 3 endpoints × 256 users at once on a 16-core host
    assert choose_processes(3 * 256, cpus=16) == 7  # ⌈768 × 0.004 ÷ 0.5⌉ = ⌈6.14⌉
    assert choose_processes(3 * 256, cpus=16, stream_cpu=0.001) == 2  # ⌈1.54⌉
    assert choose_processes(8, cpus=1, override=3) == 3
    assert (more_processes(2, cpus=16), more_processes(12, 16), more_processes(16, 16)) == (
        4, 16, None,
    )  # fmt: skip
    # open loop: λ · output tokens · time per token concurrent streams (Little's law)
    assert expected_streams("rate", 50, 256) == pytest.approx(50 * 256 * 0.02)
    assert expected_streams("concurrency", 64, 256) == 64


def test_phase_by_send_time_within_the_step() -> None:
    assert phase_at(0.5, 0, 1, 1, 10) == "warmup"
    assert phase_at(5, 0, 1, 1, 10) == "measure"
    assert phase_at(9.5, 0, 1, 1, 10) == "cooldown"
    assert phase_at(9.5, 0, 1, 0, 10) == "measure"


def _h(lag: float, cpu: float, bound: bool) -> ClientHealth:
    return ClientHealth(1.0, lag, 2 * lag, cpu, bound)


def test_merged_health_is_client_bound_if_any_process_is() -> None:
    quiet, busy = _h(0.001, 0.2, False), _h(0.2, 0.95, True)
    m = merge_health([quiet, busy, quiet])
    assert m.client_bound and m.loop_lag_mean_s == 0.2 and m.cpu == 0.95
    assert m.loop_lag_max_s == 0.4
    assert not merge_health([quiet, quiet]).client_bound
    assert merge_health([busy]) is busy
    with pytest.raises(ValueError):
        merge_health([])


class _Cycle:
    def __init__(self) -> None:
        self.i = 0

    def next(self) -> Prompt:
        self.i += 1
        return Prompt(str(self.i), 1)


def test_strided_prompt_lists_are_disjoint_and_cover_the_list() -> None:
    shards = [Strided(_Cycle(), i, 3) for i in range(3)]
    got = [[int(s.next().text) for _ in range(4)] for s in shards]
    assert got == [[1, 4, 7, 10], [2, 5, 8, 11], [3, 6, 9, 12]]
