"""Spreading one endpoint's load over worker processes, and merging what they measure (pure).

A closed loop of N users becomes K loops of ⌊N/K⌋ or ⌈N/K⌉ users; an open loop at λ req/s
becomes K loops at λ/K (K independent Poisson streams of λ/K sum to one of λ; constant arrivals
are staggered by 1/λ so the merged stream stays evenly spaced). The request limit is global (a
counter shared by the processes), so it is not split here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

from qtui.evidence.records import Phase
from qtui.load.selfcheck import ClientHealth

By = Literal["concurrency", "rate"]

# One qtui loop spends about 80 µs of CPU per streamed chunk (benchmarks/bench_load.py); at half
# a core that is ~6k chunks/s. A stream of a loaded vLLM server yields at most ~50 chunks/s
# (ITL ≥ 20 ms), so one loop comfortably drives this many concurrent streams.
STREAMS_PER_PROCESS = 128
TOKEN_S = 0.02  # assumed time per output token, to turn an arrival rate into concurrent streams


def split_int(n: int, k: int) -> list[int]:
    """n into k near-equal non-negative parts, larger ones first (sums to n)."""
    if k < 1:
        raise ValueError("k must be ≥ 1")
    q, r = divmod(max(0, n), k)
    return [q + (i < r) for i in range(k)]


def split_level(level: float, by: By, k: int) -> list[float]:
    """Each process's share of a level: users (whole numbers) or req/s."""
    if by == "concurrency":
        return [float(x) for x in split_int(int(level), k)]
    return [level / k] * k


def stagger(level: float, by: By, k: int) -> list[float]:
    """Start offsets (s) of each process's constant-rate arrivals: i/λ, so the sum is even."""
    if by != "rate" or level <= 0:
        return [0.0] * k
    return [i / level for i in range(k)]


def expected_streams(by: By, level: float, output_tokens: float) -> float:
    """Concurrent streams a level keeps open: the users, or λ · (time per request) (Little)."""
    if by == "concurrency":
        return level
    return level * max(1.0, output_tokens) * TOKEN_S


def choose_processes(streams: float, cpus: int, override: int | None = None) -> int:
    """Worker processes for a run: the override, else one per STREAMS_PER_PROCESS streams, at
    most one per CPU; 1 (the loop in the calling process, no workers) for small runs."""
    if override is not None:
        return max(1, override)
    want = math.ceil(max(streams, 1.0) / STREAMS_PER_PROCESS)
    return max(1, min(want, cpus))


def phase_at(now: float, start: float, warmup: float, cooldown: float, end: float) -> Phase:
    """A request's phase from its send time within a step [start, end)."""
    if now < start + warmup:
        return "warmup"
    if cooldown and now >= end - cooldown:
        return "cooldown"
    return "measure"


def merge_health(samples: Sequence[ClientHealth]) -> ClientHealth:
    """One second of several processes: the worst lag and CPU; client-bound if ANY is."""
    if not samples:
        raise ValueError("no health samples")
    if len(samples) == 1:
        return samples[0]
    return ClientHealth(
        max(s.t for s in samples),
        max(s.loop_lag_mean_s for s in samples),
        max(s.loop_lag_max_s for s in samples),
        max(s.cpu for s in samples),
        any(s.client_bound for s in samples),
    )
