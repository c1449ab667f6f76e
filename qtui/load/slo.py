"""SLO checks and the SLO-compliant capacity of a sweep (pure)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from qtui.config.profile import Slo
from qtui.metrics.stats import Stats


def breaches(s: Stats, slo: Slo) -> list[str]:
    """Which promises a level broke, each as a short phrase with the measured value."""
    out: list[str] = []
    checks = (("ttft", slo.ttft_p95_ms), ("itl", slo.itl_p95_ms), ("e2e", slo.e2e_p95_ms))
    for name, limit in checks:
        p95 = getattr(s, name).p95
        if limit is not None and p95 is not None and p95 * 1000 > limit:
            out.append(f"{name} p95 {p95 * 1000:.0f} ms > {limit:g} ms")
    if s.error_rate > slo.max_error_rate:
        out.append(f"error rate {s.error_rate:.1%} > {slo.max_error_rate:.1%}")
    if s.requests == 0:
        out.append("no successful request")
    return out


@dataclass(slots=True)
class LevelResult:
    """One sweep step: its load level, measured statistics and the SLOs it broke."""

    level: float
    stats: Stats
    breaches: list[str] = field(default_factory=list)
    client_bound: bool = False

    @property
    def ok(self) -> bool:
        return not self.breaches

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["ok"] = self.ok
        return d


@dataclass(frozen=True, slots=True)
class Capacity:
    """Highest level that met every SLO: the req/s and output tok/s it delivered."""

    level: float
    rps: float
    out_tps: float


def capacity(levels: list[LevelResult]) -> Capacity | None:
    """The SLO-compliant capacity: the best level among those before the first breach."""
    best: LevelResult | None = None
    for lv in levels:
        if not lv.ok:
            break
        best = lv
    if best is None:
        return None
    return Capacity(best.level, best.stats.rps, best.stats.out_tps)
