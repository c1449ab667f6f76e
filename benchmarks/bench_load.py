"""Client capacity and accounting: qtui's load engine against a streaming server at N streams.

    python benchmarks/bench_load.py --streams 256 --requests 2000 --tokens 128 --delay 0.01
    python benchmarks/bench_load.py --url http://127.0.0.1:8000 ...   # any vLLM-compatible server

Without --url it starts tests/load/fakevllm.py in a separate process (its own core). It prints
sent/ok requests and tokens as qtui counted them next to the server's own /metrics counters, the
chunks/s qtui consumed, and whether qtui flagged itself client-bound.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "load"))

SERVER = """
import asyncio, sys
sys.path.insert(0, {path!r})
from aiohttp import web
from fakevllm import Behaviour, make_app
web.run_app(make_app(Behaviour(token_delay_s={delay})), host="127.0.0.1", port={port},
            print=None, backlog=4096)
"""


async def main(a: argparse.Namespace) -> dict[str, object]:
    from qtui.config.profile import Profile
    from qtui.load.engine import LoadRun
    from qtui.load.scraper import ServerScraper

    prof = Profile.model_validate({
        "profile": {"name": "bench"},
        "endpoints": [{"name": "s", "url": a.url, "precision": "bf16"}],
        "workload": {"input_tokens": {"mean": 32}, "output_tokens": {"mean": a.tokens}},
        "load": {"concurrency": a.streams, "duration_s": 600, "max_requests": a.requests,
                 "timeout_s": 600},
        "slo": {"max_error_rate": 0.0},
    })  # fmt: skip
    scr = ServerScraper({"s": f"{a.url}/metrics"})
    await scr.scrape_all()
    before = scr.last["s"]
    run = LoadRun(prof, scrape=False)
    t0 = time.perf_counter()
    res = (await run.run())["s"]
    wall = time.perf_counter() - t0
    await scr.scrape_all()
    after = scr.last["s"]
    await scr.stop()
    s = res.summary
    assert s is not None
    lags = [h.loop_lag_mean_s for h in run.health]
    return {
        "streams": a.streams,
        "wall_s": round(wall, 2),
        "sent": res.sent,
        "ok": s.requests,
        "errors": s.errors,
        "qtui_completion_tokens": s.completion_tokens,
        "server_generation_tokens": (after.generation_tokens or 0)
        - (before.generation_tokens or 0),
        "server_requests": sum(after.request_success.values())
        - sum(before.request_success.values()),
        "qtui_out_tps": round(s.completion_tokens / wall, 1),
        "chunks_per_s": round(s.itl.n / wall + s.requests / wall, 1),
        "ttft_p50_ms": round((s.ttft.p50 or 0) * 1000, 1),
        "itl_p50_ms": round((s.itl.p50 or 0) * 1000, 2),
        "client_bound_seconds": res.client_bound_seconds,
        "seconds": res.seconds,
        "loop_lag_mean_max_ms": round(max(lags, default=0) * 1000, 1),
        "cpu_max": round(max((h.cpu for h in run.health), default=0), 2),
    }


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--streams", type=int, default=256)
    p.add_argument("--requests", type=int, default=2000)
    p.add_argument("--tokens", type=int, default=128)
    p.add_argument("--delay", type=float, default=0.01, help="fake server: seconds per token")
    p.add_argument("--url")
    p.add_argument("--port", type=int, default=18431)
    a = p.parse_args()
    proc = None
    if a.url is None:
        a.url = f"http://127.0.0.1:{a.port}"
        code = SERVER.format(path=str(ROOT / "tests" / "load"), delay=a.delay, port=a.port)
        proc = subprocess.Popen([sys.executable, "-c", code])
        import httpx

        for _ in range(100):
            try:
                httpx.get(f"{a.url}/health", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
    try:
        print(json.dumps(asyncio.run(main(a)), indent=2))
    finally:
        if proc:
            proc.terminate()
            proc.wait(10)
