"""Journal rows built from what a measurement produces (pure): discovery, client seconds, GPU
samples, sweep levels — the record shapes of docs/architecture.md, whichever command records."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from qtui.client.discovery import ServerInfo
from qtui.evidence.records import GpuSnapshot, Stats, gpu_records
from qtui.load.knee import KneeStep
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
        "ttft_rise": lv.ttft_rise,  # a rate step: last third's median TTFT ÷ first third's
        "error_rate": s.error_rate,
        "counted_usage": s.counted_usage,
        "ok": lv.ok,
        "breaches": "; ".join(lv.breaches),
        "client_bound": lv.client_bound,
        "shared_gpu": lv.shared_gpu,  # '' = no other endpoint was loaded on its GPU meanwhile
        "sharing": ", ".join(lv.sharing),
        **(_knee_fields(lv) if isinstance(lv, KneeStep) else {}),
    }


def _knee_fields(lv: KneeStep) -> dict[str, Any]:
    """A knee-search step also says where it stood: step k of at most n, the ± precision asked
    (the capacity rule says when the bracket ended wider), and how long it ran past its length
    to reach the minimum of completed requests."""
    return {
        "search": "knee",
        "step": lv.step,
        "max_steps": lv.max_steps,
        "precision": lv.precision,
        "extended_s": lv.extended_s,
        "close_call": lv.close_call,
    }


def discovery(endpoint: str, info: ServerInfo) -> dict[str, Any]:
    """What /v1/models, /version and /health said; ``error`` when nothing answered."""
    rec: dict[str, Any] = {"endpoint": endpoint, **info.to_dict()}
    rec["model"] = info.model_id
    if info.model_id is None and not info.healthy:
        rec["error"] = info.detail or "the endpoint did not answer"
    return rec


def client_second(st: Stats, level: float | None, client_bound: bool) -> dict[str, Any]:
    """One endpoint's 1 s client window, with the load level it was driven at."""
    row = st.flat()
    row["level"] = level
    row["client_bound"] = client_bound
    return row


def gpu_samples(snap: GpuSnapshot, endpoints: Iterable[str]) -> list[dict[str, Any]]:
    """``gpu_sample`` records of the GPUs attributed to ``endpoints``.

    A source with no GPU to show (no driver, exporter down) gives each endpoint one record with
    the state and the reason, so the UI can say why the memory bar is empty.
    """
    names = list(endpoints)
    rows = gpu_records(snap)
    if not snap.gpus:
        return [{**rows[0], "endpoint": n} for n in names]
    out = [r for r in rows if r["endpoint"] in names]
    seen = {r["endpoint"] for r in out}
    for n in names:
        if n in seen:
            continue
        if shared := shared_gpu_rows(snap, n, rows):
            out.extend(shared)
        else:
            out.append(
                {
                    **rows[0],
                    **dict.fromkeys(("gpu", "uuid", "name", "memory_total", "memory_used")),
                    **dict.fromkeys(("memory_reserved", "util", "power_w", "energy_j")),
                    "temperature_c": None,
                    "endpoint": n,
                    "state": "unattributed",
                    "detail": "no GPU here is attributed to this endpoint (set gpu_indices;"
                    " on a shared GPU its server is found by the port it listens on)",
                }
            )
    return out


def shared_gpu_rows(
    snap: GpuSnapshot, name: str, rows: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """An endpoint whose server shares a GPU with others (several precisions on one GPU): the
    memory its own processes hold, on each GPU they use; power, energy and utilisation belong to
    the whole GPU and are not split between the servers on it."""
    if any(g.endpoint == name for g in snap.gpus):
        return []  # the endpoint has GPUs of its own
    held: dict[int, int] = {}
    for p in snap.processes:
        if p.endpoint == name and p.used_memory is not None:
            held[p.gpu] = held.get(p.gpu, 0) + p.used_memory
    by_index = {r["gpu"]: r for r in (gpu_records(snap) if rows is None else rows)}
    return [
        {
            **by_index[gpu],
            "endpoint": name,
            "memory_used": used,
            **dict.fromkeys(("memory_reserved", "util", "power_w", "energy_j")),
            "state": "shared",
            "detail": f"GPU {gpu} shared: memory held by this server's processes",
        }
        for gpu, used in sorted(held.items())
        if gpu in by_index
    ]
