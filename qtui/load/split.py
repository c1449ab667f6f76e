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

# The cost of one stream to the client: CPU per streamed chunk × chunks a stream yields per
# second. One qtui loop was measured at 26 µs of CPU per chunk in one process (uvloop, 256-1024
# streams: benchmarks/results/load-cpu.md); 80 µs is taken (≈3×: worker processes also pickle
# and pipe every record to the parent, and the H200 run of issue 17 was client-bound at 384
# streams a process and not at 96). A stream of a loaded vLLM server yields at most ~50
# chunks/s (ITL ≥ 20 ms). A process is planned at half a core (the self-check flags 90 %).
CHUNK_CPU_S = 80e-6
STREAM_CHUNKS_PER_S = 50.0
STREAM_CPU = CHUNK_CPU_S * STREAM_CHUNKS_PER_S  # 0.004 core per stream
PROCESS_CPU = 0.5
STREAMS_PER_PROCESS = round(PROCESS_CPU / STREAM_CPU)  # 125
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


def split_over(level: float, by: By, workers: Sequence[int]) -> dict[int, float]:
    """Each of ``workers``' share of a level (`split_level` over them; none: empty)."""
    return dict(zip(workers, split_level(level, by, len(workers)), strict=True)) if workers else {}


def share_text(level: float, by: By) -> str:
    """A share of load in words: "3 users", "1 user", "2.5 req/s"."""
    if by == "concurrency":
        n = int(level)
        return f"{n} user{'' if n == 1 else 's'}"
    return f"{level:.2f}".rstrip("0").rstrip(".") + " req/s"


def handover_text(shares: Sequence[tuple[str, float, By]], to: Sequence[str], unit: str) -> str:
    """Where a lost worker's load went, for its warning: ``shares`` (endpoint, share, by) it
    held, ``to`` the workers left (named), ``unit`` their noun ("host", "process")."""
    if not to:
        return f"no {unit} is left to take its load"
    plural = "processes" if unit == "process" else f"{unit}s"
    where = f"{unit if len(to) == 1 else plural} {', '.join(to)}"
    held = [f"{share_text(x, by)} of {name}" for name, x, by in shares if x > 0]
    if not held:
        return f"it held no load; the next steps go to {where}"
    return f"its {' and '.join(held)} moved to {where}"


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


def choose_processes(
    streams: float, cpus: int, override: int | None = None, stream_cpu: float = STREAM_CPU
) -> int:
    """Worker processes for a run: the override, else enough for ``streams`` — the concurrent
    streams over every endpoint loaded at once at the run's highest level — at ``stream_cpu``
    cores each to keep every process at PROCESS_CPU, at most one per CPU; 1 (the loop in the
    calling process, no workers) for small runs. 768 streams (3 endpoints × 256 users) at
    0.004 core: ⌈768 × 0.004 ÷ 0.5⌉ = 7."""
    if override is not None:
        return max(1, override)
    want = math.ceil(max(streams, 1.0) * stream_cpu / PROCESS_CPU - 1e-9)
    return max(1, min(want, cpus))


def more_processes(k: int, cpus: int) -> int | None:
    """After a client-bound step at k processes: twice as many, at most one per CPU (None when
    no more can help)."""
    return min(2 * k, cpus) if k < cpus else None


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
