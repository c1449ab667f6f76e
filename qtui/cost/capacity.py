"""SLO-compliant capacity per replica from a load sweep, and the p95 to expect at a given load."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Literal

from qtui.config.profile import Slo

LatencyMetric = Literal["ttft", "itl", "e2e"]
NO_SWEEP = "no sweep yet"
SLO_NEVER_MET = "SLO never met"


@dataclass(frozen=True, slots=True)
class SweepPoint:
    """One sweep level as measured against one replica (client-side, measure phase only)."""

    level: float
    rps: float
    input_tps: float
    output_tps: float
    ttft_p95_s: float | None = None
    itl_p95_s: float | None = None
    e2e_p95_s: float | None = None
    error_rate: float = 0.0

    def p95(self, metric: LatencyMetric) -> float | None:
        return {"ttft": self.ttft_p95_s, "itl": self.itl_p95_s, "e2e": self.e2e_p95_s}[metric]


@dataclass(frozen=True, slots=True)
class Capacity:
    """What one replica sustains while meeting every SLO; ``reason`` says why there is none."""

    rps: float | None = None
    output_tps: float | None = None
    input_tps: float | None = None
    p95_s: float | None = None
    source: str = ""
    met_slo: bool = False
    reason: str | None = None
    detail: str = ""
    level: float | None = None  # the sweep level the capacity was measured at

    @classmethod
    def none(cls, reason: str, detail: str = "") -> Capacity:
        return cls(reason=reason, detail=detail)

    @property
    def usable(self) -> bool:
        return self.met_slo and self.reason is None and bool(self.rps) and bool(self.output_tps)


def slo_breaches(point: SweepPoint, slo: Slo) -> list[str]:
    """Every SLO this level broke, as short phrases; empty when it met them all."""
    out: list[str] = []
    limits: tuple[tuple[LatencyMetric, float | None], ...] = (
        ("ttft", slo.ttft_p95_ms),
        ("itl", slo.itl_p95_ms),
        ("e2e", slo.e2e_p95_ms),
    )
    for metric, limit_ms in limits:
        if limit_ms is None:
            continue
        value = point.p95(metric)
        if value is None:
            out.append(f"{metric} p95 not measured")
        elif value * 1000 > limit_ms:
            out.append(f"{metric} p95 {value * 1000:.0f} ms > {limit_ms:g} ms")
    if point.error_rate > slo.max_error_rate:
        out.append(f"error rate {point.error_rate:.1%} > {slo.max_error_rate:.1%}")
    return out


def capacity_from_sweep(
    points: Sequence[SweepPoint], slo: Slo, latency: LatencyMetric = "e2e"
) -> Capacity:
    """The last level before the first SLO breach (levels in increasing order).

    A level that passes after an earlier one failed is noise, not capacity: a sweep stops at the
    first breach, so "highest level that met every SLO" is the last one of the passing prefix.
    """
    if not points:
        return Capacity.none(NO_SWEEP)
    best: SweepPoint | None = None
    for point in sorted(points, key=lambda p: p.level):
        broken = slo_breaches(point, slo)
        if not broken:
            if point.rps > 0 and point.output_tps > 0:
                best = point
            continue
        if best is None:
            return Capacity.none(SLO_NEVER_MET, f"level {point.level:g}: {'; '.join(broken)}")
        break
    if best is None:
        return Capacity.none(SLO_NEVER_MET, "no level completed any request")
    return Capacity(
        rps=best.rps,
        output_tps=best.output_tps,
        input_tps=best.input_tps,
        p95_s=best.p95(latency),
        source=f"load level {best.level:g}",
        met_slo=True,
        level=best.level,
    )


@dataclass(frozen=True, slots=True)
class P95Estimate:
    """The p95 expected at a per-replica load, read off the sweep's load → p95 curve."""

    p95_s: float
    lower_bound: bool
    basis: str


def expected_p95(
    points: Sequence[SweepPoint], rps_per_replica: float, metric: LatencyMetric = "e2e"
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
