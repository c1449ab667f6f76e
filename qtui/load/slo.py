"""A load step's result and its SLO verdict, through the one rule in ``qtui.evidence`` (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from qtui.config.profile import Slo
from qtui.evidence.capacity import Capacity
from qtui.evidence.capacity import capacity as capacity_rule
from qtui.evidence.levels import LevelPoint, ttft_rise
from qtui.evidence.records import RequestRecord, Stats
from qtui.evidence.slo import breaches as breach_rule


def point(s: Stats, level: float, *, held: bool = False, client_bound: bool = False,
          unit: str = "users", rise: float | None = None) -> LevelPoint:  # fmt: skip
    """A step's statistics as a load-level point (``rise``: its ``ttft_rise``)."""
    return LevelPoint(
        level=level,
        rps=s.rps,
        input_tps=s.in_tps,
        output_tps=s.out_tps,
        ttft_p95_s=s.ttft.p95,
        itl_p95_s=s.itl.p95,
        e2e_p95_s=s.e2e.p95,
        error_rate=s.error_rate,
        requests=s.requests,
        client_bound=client_bound,
        held=held,
        unit=unit,
        ttft_rise=rise,
    )


def step_rise(records: Iterable[RequestRecord]) -> float | None:
    """The ``ttft_rise`` of a step's successful requests (``qtui.evidence.levels``)."""
    ok = [r for r in records if r.error_class == "none" and r.chunk_times]
    return ttft_rise([r.t_send for r in ok], [r.chunk_times[0] for r in ok])


def breaches(s: Stats, slo: Slo, unit: str = "users", rise: float | None = None) -> list[str]:
    """Which promises a step broke (``qtui.evidence.slo.breaches``)."""
    return breach_rule(point(s, 0.0, unit=unit, rise=rise), slo)


@dataclass(slots=True)
class LevelResult:
    """One load step: its level, measured statistics and the SLOs it broke."""

    level: float
    stats: Stats
    breaches: list[str] = field(default_factory=list)
    client_bound: bool = False
    shared_gpu: str = ""  # the GPU it shared with other loaded endpoints ('GPU 0'), if any
    sharing: tuple[str, ...] = ()  # the endpoints loaded on that GPU during the step
    ttft_rise: float | None = None  # a rate step: last third's median TTFT ÷ first third's

    @property
    def ok(self) -> bool:
        return not self.breaches

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["ok"] = self.ok
        return d


def capacity(
    levels: list[LevelResult], slo: Slo, *, held: bool, unit: str = "users"
) -> Capacity | None:
    """The steps' SLO capacity (``qtui.evidence.capacity``); None when no step met every SLO."""
    pts = [point(lv.stats, lv.level, held=held, client_bound=lv.client_bound, unit=unit,
                 rise=lv.ttft_rise) for lv in levels]  # fmt: skip
    cap = capacity_rule(pts, slo)
    return cap if cap.usable else None
