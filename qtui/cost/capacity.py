"""The p95 to expect at a given per-replica load, read off the measured load levels (pure).

Capacity itself (the one rule) is ``qtui.evidence.capacity``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from qtui.evidence.levels import LatencyMetric, LevelPoint


@dataclass(frozen=True, slots=True)
class P95Estimate:
    """The p95 expected at a per-replica load, read off the sweep's load → p95 curve."""

    p95_s: float
    lower_bound: bool
    basis: str


def expected_p95(
    points: Sequence[LevelPoint], rps_per_replica: float, metric: LatencyMetric = "e2e"
) -> P95Estimate | None:
    """Linear interpolation of the measured (req/s, p95) points at ``rps_per_replica``.

    Below the lightest level: that level's p95. Above the highest measured req/s: that level's
    p95 as a lower bound (beyond it the queue grows and p95 has no ceiling). None without data.
    """
    curve = sorted((p.rps, v) for p in points if (v := p.p95(metric)) is not None and p.rps > 0)
    if not curve:
        return None
    x = rps_per_replica
    if x <= curve[0][0]:
        return P95Estimate(curve[0][1], False, f"at or below {curve[0][0]:.3g} req/s measured")
    if x > curve[-1][0]:
        top_rps, top_p95 = curve[-1]
        return P95Estimate(top_p95, True, f"above the highest measured load ({top_rps:.3g} req/s)")
    for (x0, y0), (x1, y1) in pairwise(curve):
        if x0 <= x <= x1:
            y = y0 if x1 == x0 else y0 + (y1 - y0) * (x - x0) / (x1 - x0)
            return P95Estimate(y, False, f"interpolated between {x0:.3g} and {x1:.3g} req/s")
    raise AssertionError("unreachable: x lies within the curve")  # pragma: no cover
