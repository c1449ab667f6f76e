"""The one SLO-breach rule: which promises a load level broke (pure)."""

from __future__ import annotations

from qtui.config.profile import Slo
from qtui.evidence.levels import BACKLOG_RISE, LatencyMetric, LevelPoint


def breaches(point: LevelPoint, slo: Slo) -> list[str]:
    """Every SLO this level broke, each a short phrase with the measured value; [] if none.

    A level with no successful request broke them all ("no successful request"); a latency
    SLO whose p95 was not measured at a level that had successes is not met ("not measured").
    A rate step whose queue grew through it broke them too ("backlog growing"): a longer step
    would have shown a higher p95 (docs/cost-formulas.md, "Backlog").
    """
    if point.requests == 0:
        return ["no successful request"]
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
    if point.backlog:
        out.append(
            f"backlog growing: median TTFT ×{point.ttft_rise:.1f} from the step's first third to"
            f" its last (≥ ×{BACKLOG_RISE:g})"
        )
    return out
