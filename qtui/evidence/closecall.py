"""A close call: a step whose p95 lies within its own sampling noise of an SLO limit (pure).

A step's p95 is one draw. Requests under load are not independent (a queue that builds slows
the next ones too), so the noise is read off the step itself by batch quantiles: its successful
requests in send order are cut into ``BLOCKS`` consecutive blocks, each block's p95 taken, and
the step's p95 ± t(0.975, BLOCKS − 1) × sd(block p95s) / √BLOCKS is its 95 % interval (the
batch-means method applied to a quantile: for independent requests it gives the textbook
order-statistic width, and it widens where neighbours are correlated). When that interval holds
a limit the verdict is a coin toss, so the step is extended — run on until it has
``CLOSE_CALL_GROWTH`` times its requests, or its time cap — before it is judged.
docs/cost-formulas.md, "Close calls", says the same.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from qtui.config.profile import Slo
from qtui.evidence.levels import LatencyMetric
from qtui.evidence.records import RequestRecord

BLOCKS = 5
T_975 = 2.776  # Student's t, 4 degrees of freedom (BLOCKS − 1), two-sided 95 %
MIN_PER_BLOCK = 20  # a block's p95 needs this many values; fewer: no interval
CLOSE_CALL_GROWTH = 4  # a close call runs on to at most this × its requests at first judgement
CLOSE_CALL_WHY = (
    f"its p95 still within its own noise of the SLO when run on to {CLOSE_CALL_GROWTH}× its"
    " requests (or its time cap); judged on the p95 measured"
)


@dataclass(frozen=True, slots=True)
class P95Interval:
    """A p95 (s) and its 95 % interval from the step's own blocks."""

    metric: LatencyMetric
    p95: float
    low: float
    high: float
    requests: int

    def holds(self, limit_s: float) -> bool:
        return self.low <= limit_s <= self.high

    def text(self, limit_ms: float) -> str:
        """'e2e p95 2880 ms (95 % 2610–3150 ms at 394 requests) holds the 3000 ms limit'."""
        return (
            f"{self.metric} p95 {self.p95 * 1000:.0f} ms (95 % {self.low * 1000:.0f}–"
            f"{self.high * 1000:.0f} ms at {self.requests} requests) holds the {limit_ms:g} ms"
            " limit"
        )


def _values(r: RequestRecord, metric: LatencyMetric) -> np.ndarray:
    times = np.asarray(r.chunk_times, dtype=float)
    if metric == "ttft":
        return times[:1]
    if metric == "e2e":
        return times[-1:]
    return np.diff(times)


def p95_interval(records: Sequence[RequestRecord], metric: LatencyMetric) -> P95Interval | None:
    """The p95 of ``metric`` over the successful records (as `qtui.metrics.stats.summarize`
    takes it) and its batch interval; None with fewer than ``BLOCKS × MIN_PER_BLOCK`` values.
    Arrays throughout: a long ITL step holds a million gaps, and this runs on the load's loop."""
    ok = sorted((r for r in records if r.error_class == "none" and r.chunk_times),
                key=lambda r: r.t_send)  # fmt: skip
    if len(ok) < BLOCKS * MIN_PER_BLOCK:
        return None
    per = [_values(r, metric) for r in ok]
    edges = [round(i * len(per) / BLOCKS) for i in range(BLOCKS + 1)]
    blocks = [np.concatenate(per[a:b]) for a, b in itertools.pairwise(edges)]
    if sum(b.size for b in blocks) < BLOCKS * MIN_PER_BLOCK or any(not b.size for b in blocks):
        return None
    p95 = float(np.percentile(np.concatenate(blocks), 95))
    half = T_975 * statistics.stdev(float(np.percentile(b, 95)) for b in blocks) / math.sqrt(BLOCKS)
    return P95Interval(metric, p95, p95 - half, p95 + half, len(ok))


def close_call(records: Sequence[RequestRecord], slo: Slo) -> str:
    """'' when every latency SLO's verdict is clear of the step's noise; else why not, one
    phrase per limit the interval holds ('e2e p95 2880 ms (95 % …) holds the 3000 ms limit')."""
    out: list[str] = []
    for metric, limit_ms in (("ttft", slo.ttft_p95_ms), ("itl", slo.itl_p95_ms),
                             ("e2e", slo.e2e_p95_ms)):  # fmt: skip
        if limit_ms is None:
            continue
        iv = p95_interval(records, metric)  # type: ignore[arg-type]
        if iv is not None and iv.holds(limit_ms / 1000):
            out.append(iv.text(limit_ms))
    return "; ".join(out)


def extend_to(requests: int, first: int, why: str) -> int | None:
    """The successes a close call (``why`` non-empty) runs on to: twice what it has, up to
    ``CLOSE_CALL_GROWTH`` × ``first`` (its count at first judgement); None when it is judged now."""
    if not why or requests >= CLOSE_CALL_GROWTH * first:
        return None
    return min(2 * requests, CLOSE_CALL_GROWTH * first)
