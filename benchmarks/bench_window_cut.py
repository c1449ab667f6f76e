"""A duration window that cuts streams mid-answer: qtui's tokens vs the server's own counter.

    python benchmarks/bench_window_cut.py --streams 256 1024 --duration 8
    python benchmarks/bench_window_cut.py --url http://127.0.0.1:8000 --streams 256   # real vLLM

Runs `LoadRun` as `qtui bench` does (closed loop, N streams, a fixed duration, no warm-up)
against the built-in simulator (its pacer at a fixed cost per write, so several tokens share a
chunk as on a busy vLLM) or a server at --url, and scrapes the server's /metrics before and
after. Prints, per stream count, the window's output tokens four ways: qtui's figure
(`streamed_tokens`: a stream cut at the stop is worth its text bytes at the finished requests'
tokens per byte), the same records with a cut stream's chunks at the finished requests' tokens
per chunk (qtui from 5409e44 to the byte count), and as one token per cut chunk (before
5409e44), and the server's generation-token counter over the run (which also holds the few
tokens generated between the cut and the server seeing the cancel).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_load import SIM_PROFILE, scrape

from qtui.config.profile import Profile
from qtui.evidence.records import RequestRecord
from qtui.load.engine import LoadRun
from qtui.metrics.stats import tokens_per_byte, tokens_per_chunk
from qtui.sim.launcher import start_sim


async def one(url: str, streams: int, a: argparse.Namespace) -> dict[str, object]:
    prof = Profile.model_validate(
        {
            "profile": {"name": "window-cut"},
            "endpoints": [{"name": "s", "url": url, "precision": "bf16"}],
            "workload": {
                "input_tokens": {"mean": a.prompt_tokens},
                "output_tokens": {"mean": a.tokens, "dist": "uniform", "spread": a.spread},
            },
            "load": {"concurrency": streams, "duration_s": a.duration, "warmup_s": 0,
                     "timeout_s": 600},
        }
    )  # fmt: skip
    recs: list[RequestRecord] = []
    before = await scrape(url)
    res = (await LoadRun(prof, scrape=False, on_record=recs.append).run())["s"]
    after = await scrape(url)
    s = res.summary
    assert s is not None and before.generation_tokens is not None
    assert after.generation_tokens is not None
    cut = [r for r in recs if r.error_class == "cancelled" and r.chunk_times]
    finished = [r for r in recs if r.ok]
    qtui = s.out_tps * s.duration_s
    done = sum(r.completion_tokens or 0 for r in finished)
    one_each = done + sum(len(r.chunk_times) for r in cut)
    by_chunk = done + tokens_per_chunk(recs) * sum(len(r.chunk_times) for r in cut)
    server = after.generation_tokens - before.generation_tokens
    return {
        "streams": streams,
        "duration_s": round(s.duration_s, 2),
        "finished": len(finished),
        "cut": len(cut),
        "tokens_per_chunk": round(tokens_per_chunk(recs), 2),
        "tokens_per_byte": round(tokens_per_byte(recs) or 0.0, 4),
        "server_tokens": int(server),
        "qtui_tokens": round(qtui),
        "qtui_vs_server_pct": round(100 * (qtui / server - 1), 1),
        "by_chunk_tokens": round(by_chunk),
        "by_chunk_vs_server_pct": round(100 * (by_chunk / server - 1), 1),
        "one_per_cut_chunk_tokens": one_each,
        "one_per_cut_chunk_vs_server_pct": round(100 * (one_each / server - 1), 1),
    }


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--streams", type=int, nargs="+", default=[256, 1024])
    ap.add_argument("--duration", type=float, default=8.0)
    ap.add_argument("--tokens", type=int, default=256, help="mean output tokens")
    ap.add_argument("--spread", type=float, default=0.5, help="uniform ± this fraction")
    ap.add_argument("--prompt-tokens", type=int, default=64)
    ap.add_argument("--url", help="a running server (else the simulator)")
    ap.add_argument("--sim-write-cost-us", type=float, default=50.0)
    a = ap.parse_args()
    for streams in a.streams:
        if a.url:
            print(json.dumps(await one(a.url, streams, a)), flush=True)
            continue
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "sim.toml"
            path.write_text(SIM_PROFILE)
            sim = start_sim(path, write_cost_us=a.sim_write_cost_us)
            try:
                print(json.dumps(await one(sim.endpoints["s"], streams, a)), flush=True)
            finally:
                sim.stop()


if __name__ == "__main__":
    asyncio.run(main())
