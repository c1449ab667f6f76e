"""Journal rows built from the load engine's results (pure): sweep levels and discovery."""

from __future__ import annotations

from typing import Any

from qtui.client.discovery import ServerInfo
from qtui.load.slo import LevelResult


def sweep_level_row(endpoint: str, lv: LevelResult) -> dict[str, Any]:
    """One ``sweep_level`` record: the level's load, throughput, p95s and SLO verdict."""
    s = lv.stats
    return {
        "endpoint": endpoint,
        "level": lv.level,
        "t_end": s.t,
        "duration_s": s.duration_s,
        "requests": s.requests,
        "rps": s.rps,
        "in_tps": s.in_tps,
        "out_tps": s.out_tps,
        "ttft_p50": s.ttft.p50,
        "ttft_p95": s.ttft.p95,
        "itl_p95": s.itl.p95,
        "e2e_p50": s.e2e.p50,
        "e2e_p95": s.e2e.p95,
        "error_rate": s.error_rate,
        "counted_usage": s.counted_usage,
        "ok": lv.ok,
        "breaches": "; ".join(lv.breaches),
        "client_bound": lv.client_bound,
    }


def discovery_row(endpoint: str, info: ServerInfo, t: float) -> dict[str, Any]:
    """One ``discovery`` document: what the server said about itself at ``t``."""
    return {"endpoint": endpoint, "t": t, **info.to_dict()}
