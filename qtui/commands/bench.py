"""`qtui bench PROFILE`: run the load headless; records, per-second series and a summary."""

from __future__ import annotations

import asyncio
import csv
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import polars as pl

from qtui.client.record import RequestRecord
from qtui.config.load import load_model
from qtui.config.profile import Profile
from qtui.errors import NotBuiltYet, QtuiError
from qtui.load.engine import EndpointResult, LoadRun, Mode
from qtui.load.selfcheck import ClientHealth
from qtui.metrics.stats import Stats
from qtui.metrics.vllm import ServerSecond

# SESSION HOOK: the session writer (qtui/session) plugs in here; it gets every finished request
# record (and may take the per-second dicts too). Keep it None until that lands.
ON_RECORD: Callable[[RequestRecord], None] | None = None
ON_SECOND: Callable[[str, dict[str, Any]], None] | None = None  # (kind, row) kind: client|server


class _Collector:
    """Keeps what a bench run writes: records, client/server seconds, client health."""

    def __init__(self) -> None:
        self.records: list[RequestRecord] = []
        self.client: list[dict[str, Any]] = []
        self.server: list[dict[str, Any]] = []
        self.health: list[ClientHealth] = []
        self.events: list[dict[str, Any]] = []

    def record(self, r: RequestRecord) -> None:
        self.records.append(r)
        if ON_RECORD:
            ON_RECORD(r)

    def second(self, s: Stats) -> None:
        row = s.flat()
        h = self.health[-1] if self.health else None
        row["client_bound"] = bool(h and h.client_bound)
        self.client.append(row)
        if ON_SECOND:
            ON_SECOND("client", row)

    def server_second(self, s: ServerSecond) -> None:
        row = s.to_dict()
        self.server.append(row)
        if ON_SECOND:
            ON_SECOND("server", row)

    def event(self, kind: str, msg: str) -> None:
        self.events.append({"t": time.time(), "kind": kind, "value": msg})
        print(f"qtui: {kind}: {msg}", file=sys.stderr)


def _progress(run: LoadRun, t0: float) -> str:
    parts = []
    for name, s in run.latest.items():
        ttft = f"{s.ttft.p95 * 1000:.0f}ms" if s.ttft.p95 is not None else "-"
        err = sum(s.errors.values())
        parts.append(
            f"{name}: {s.rps:.1f} req/s {s.out_tps:.0f} tok/s ttft95 {ttft} "
            f"inflight {s.in_flight}{f' err {err}' if err else ''}"
        )
    bound = " [client-bound]" if run.health and run.health[-1].client_bound else ""
    return f"[{time.time() - t0:5.0f}s] " + " | ".join(parts) + bound


async def _bench(run: LoadRun, show: bool) -> dict[str, EndpointResult]:
    t0 = time.time()
    user_second = run.on_second

    def tick(s: Stats) -> None:
        if user_second:
            user_second(s)
        if show and s.endpoint == next(iter(run.eps)):
            print("\r" + _progress(run, t0)[:200].ljust(120), end="", file=sys.stderr, flush=True)

    run.on_second = tick
    await run.start()
    try:
        res = await run.wait()
    except asyncio.CancelledError:
        res = await run.stop()
    if show:
        print(file=sys.stderr)
    return res


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    if not rows:
        path.write_text("")
        return
    keys = list(rows[0])
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)


def write_outputs(
    out: Path, col: _Collector, results: dict[str, EndpointResult], meta: dict[str, Any]
) -> dict[str, Any]:
    """requests.csv/.parquet, client_seconds.csv, server_seconds.csv, summary.json."""
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for r in col.records:
        d = r.to_dict()
        d["chunk_times"] = json.dumps([round(x, 6) for x in r.chunk_times])
        d["ttft"], d["e2e"], d["tpot"] = r.ttft, r.e2e, r.tpot
        rows.append(d)
    _write_csv(out / "requests.csv", rows)
    if col.records:
        pl.DataFrame([r.to_dict() for r in col.records], infer_schema_length=None).write_parquet(
            out / "requests.parquet"
        )
    _write_csv(out / "client_seconds.csv", col.client)
    _write_csv(out / "server_seconds.csv", col.server)
    summary = {
        **meta,
        "endpoints": {n: r.to_dict() for n, r in results.items()},
        "client_health": {
            "seconds": len(col.health),
            "client_bound_seconds": sum(h.client_bound for h in col.health),
            "loop_lag_max_s": max((h.loop_lag_max_s for h in col.health), default=0.0),
            "cpu_max": max((h.cpu for h in col.health), default=0.0),
        },
        "events": col.events,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    return summary


def run(
    profile: Path,
    out: Path = Path("qtui-out"),
    mode: str | None = None,
    level: float | None = None,
    duration: float | None = None,
    max_requests: int | None = None,
    quality: bool = False,
    launch: bool = False,
    endpoint_urls: dict[str, str] | None = None,
    show_progress: bool = True,
) -> dict[str, Any]:
    if quality:
        raise NotBuiltYet("qtui bench --quality is not built yet; nothing was run")
    if launch:
        raise NotBuiltYet("qtui bench --launch is not built yet; nothing was run")
    prof = load_model(profile, Profile)
    col = _Collector()
    lr = LoadRun(
        prof,
        endpoint_urls,
        on_record=col.record,
        on_second=col.second,
        on_server=col.server_second,
        on_health=col.health.append,
        on_event=col.event,
        base_dir=profile.parent,
        mode=cast(Mode | None, mode),
        level=level,
        duration=duration,
        max_requests=max_requests,
    )
    t0 = time.time()
    try:
        results = asyncio.run(_bench(lr, show_progress))
    except KeyboardInterrupt:
        results = lr.results()
        print("qtui: interrupted; writing what was recorded", file=sys.stderr)
    meta = {
        "profile": str(profile),
        "mode": lr.mode,
        "started": t0,
        "ended": time.time(),
        "warmup_s": prof.load.warmup_s,
        "cooldown_s": prof.load.cooldown_s,
    }
    summary = write_outputs(out, col, results, meta)
    for name, r in results.items():
        s = r.summary
        cap = r.capacity
        line = f"{name}: {s.requests if s else 0} requests"
        if s:
            line += f", {s.out_tps:.1f} out tok/s, error rate {s.error_rate:.1%}"
        line += (
            f"; SLO capacity {cap.rps:.2f} req/s {cap.out_tps:.0f} tok/s"
            if cap
            else "; SLO not met"
        )
        if r.client_bound:
            line += " (CLIENT-BOUND: the client, not the server, was the limit)"
        print(line)
    print(f"results in {out}/")
    if not results:
        raise QtuiError("no endpoint was measured")
    return summary
