"""qtui's load engine against a peer client, same server, same run (run by hand).

    python benchmarks/bench_load.py --streams 256 1024 --rounds 2
    python benchmarks/bench_load.py --streams 256 1024 --processes 1 2   # load worker processes
    python benchmarks/bench_load.py --server fake --streams 256 --tokens 256   # cheap server
    python benchmarks/bench_load.py --url http://127.0.0.1:8000 --streams 32   # a real vLLM

For each stream count it starts (unless --url) the built-in simulator in its own process, then
runs the same closed-loop workload (N streams, 2·N requests, fixed output length) with

- qtui: `LoadRun` exactly as `qtui bench` drives it (self-check on), once for each
  `--processes K` (K load worker processes; K = 1 is the engine's own event loop), and
- peer: a minimal aiohttp streaming client written like `vllm bench serve`'s request function,
- guidellm (with --guidellm BIN --tokenizer DIR): GuideLLM's `run`, concurrent profile, synthetic
  text, as a second peer (it needs an HF tokenizer directory; any small local one will do),

alternating which goes first each round, after --warmup unmeasured peer runs (the simulator's
first seconds under a new load are slower, which no client should be charged). The simulator's
pacer gets a fixed cost per write (`--sim-write-cost-us`), so both clients get the same tokens
per chunk at the same streams. qtui runs on
`qtui.client.loop.run` (uvloop where installed), as load worker processes do (`qtui bench` and
the live worker still call asyncio.run: their own loop); `--qtui-loops asyncio uvloop` runs
qtui on each in the same run; the peers run on asyncio's (`--peer-loop uvloop` to
give them uvloop too). Throughput is given over the wall time of the whole client run (start-up
included: discovery, and for K > 1 spawning the workers) and over its active span (first send
to last answer). Client CPU is the parent's plus, for K > 1, the workers' after their start-up
(user and system time per chunk are given apart for this process). Each row carries the
1-minute load average when it began. `--profile DIR` writes a cProfile of each client run.
Every client is checked against the server's own /metrics
over their run (`qtui.metrics.crosscheck`): requests and tokens served, and TTFT/TPOT/ITL/e2e
quantiles vs the server's histograms (agree = within the bucket's width). It prints one JSON
line per client run and a summary of qtui/peer ratios. Absolute figures depend on the machine
(2 shared cores here); the ratios are the result.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import itertools
import json
import os
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import uvloop

from qtui.client import loop as client_loop
from qtui.config.profile import Profile
from qtui.evidence.records import RequestRecord
from qtui.load.engine import LoadRun
from qtui.load.scraper import scrape_once
from qtui.metrics.crosscheck import crosscheck
from qtui.metrics.vllm import VllmSnapshot, prefix_cache_hit_rate

ROOT = Path(__file__).resolve().parent.parent
SIM_PROFILE = """[profile]
name = "bench-load"
[[endpoints]]
name = "s"
precision = "bf16"
gpu = "H100"
[endpoints.simulate]
model = "llama-3.1-8b"
"""
FAKE = """
import sys
sys.path.insert(0, {path!r})
from aiohttp import web
from fakevllm import Behaviour, make_app
web.run_app(make_app(Behaviour(token_delay_s={delay})), host="127.0.0.1", port={port},
            print=None, backlog=4096)
"""


async def scrape(url: str) -> VllmSnapshot:
    async with httpx.AsyncClient() as http:
        snap, status = await scrape_once(http, f"{url}/metrics", timeout=30)
    if snap is None:
        raise SystemExit(f"{url}/metrics: {status.detail}")
    return snap


async def run_qtui(url: str, a: argparse.Namespace, streams: int, k: int) -> tuple[list, dict]:
    prof = Profile.model_validate({
        "profile": {"name": "bench"},
        "endpoints": [{"name": "s", "url": url, "precision": "bf16"}],
        "workload": {"input_tokens": {"mean": a.prompt_tokens},
                     "output_tokens": {"mean": a.tokens}},
        "load": {"concurrency": streams, "duration_s": 3600, "max_requests": 2 * streams,
                 "timeout_s": 600},
        "slo": {"max_error_rate": 0.0},
    })  # fmt: skip
    recs: list[RequestRecord] = []
    run = LoadRun(prof, scrape=False, on_record=recs.append, processes=k)
    res = (await run.run())["s"]
    lags = [h.loop_lag_mean_s for h in run.health]
    extra = {
        "processes": run.processes,
        "worker_cpu_s": round(run.worker_cpu_s, 2),
        "worker_start_cpu_s": round(sum(run.pool.start_cpu_s), 2) if run.pool else 0.0,
        "client_bound_seconds": res.client_bound_seconds,
        "seconds": res.seconds,
        "loop_lag_mean_max_ms": round(1e3 * max(lags, default=0.0), 1),
        "loop_cpu_max": round(max((h.cpu for h in run.health), default=0.0), 2),
    }
    return recs, extra


async def run_peer(url: str, a: argparse.Namespace, streams: int) -> tuple[list, dict]:
    """A vllm-bench-serve-style client: aiohttp, one JSON parse per SSE line, no self-check."""
    async with httpx.AsyncClient() as http:
        model = (await http.get(f"{url}/v1/models")).json()["data"][0]["id"]
    prompt = "the model of data " * a.prompt_tokens
    # a head no earlier run sent (as qtui's run nonce): a prefix cache kept from the last run
    # flattered the peer's prompts, the same every run (98 % hits on the simulator)
    nonce = secrets.randbits(40)
    total = 2 * streams
    numbers = itertools.count()
    recs: list[RequestRecord] = []
    conn = aiohttp.TCPConnector(limit=0, force_close=False)
    timeout = aiohttp.ClientTimeout(total=600)

    async def worker(session: aiohttp.ClientSession) -> None:
        while (i := next(numbers)) < total:
            rec = RequestRecord("peer", f"peer-{i}")
            body = {
                "model": model, "prompt": f"{nonce}-{i} {prompt}"[: 4 * a.prompt_tokens],
                "max_tokens": a.tokens, "ignore_eos": True,  # qtui's body to vLLM
                "temperature": 0.0, "stream": True,
                "stream_options": {"include_usage": True},
            }  # fmt: skip
            rec.t_send = time.time()
            p0 = time.perf_counter()
            try:
                async with session.post(f"{url}/v1/completions", json=body) as r:
                    rec.http_status = r.status
                    async for line in r.content:
                        if not line.startswith(b"data: "):
                            continue
                        data = line[6:].strip()
                        if data == b"[DONE]":
                            break
                        obj = json.loads(data)
                        ch = obj.get("choices")
                        if ch and ch[0].get("text"):
                            rec.chunk_times.append(time.perf_counter() - p0)
                        if obj.get("usage"):
                            rec.completion_tokens = obj["usage"]["completion_tokens"]
            except (aiohttp.ClientError, TimeoutError) as exc:
                rec.error_class, rec.error_detail = "disconnect", type(exc).__name__
            rec.t_end = rec.t_send + time.perf_counter() - p0
            recs.append(rec)

    async with aiohttp.ClientSession(connector=conn, timeout=timeout) as session:
        await asyncio.gather(*(worker(session) for _ in range(streams)))
    return recs, {}


def q(values: list[float], p: float) -> float | None:
    if not values:
        return None
    v = sorted(values)
    return v[min(len(v) - 1, int(p * len(v)))]


async def run_guidellm(url: str, a: argparse.Namespace, streams: int) -> dict[str, Any]:
    """GuideLLM as a black box: its own figures from its JSON, its CPU from the OS, the server's
    counters from /metrics."""
    before = await scrape(url)
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "out.json"
        cmd = [
            a.guidellm, "run",
            "--backend", f"kind=openai_http,target={url},request_format=/v1/completions",
            "--profile", f"kind=concurrent,streams={streams}",
            "--constraint", f"kind=max_requests,count={2 * streams}",
            "--data", f"kind=synthetic_text,prompt_tokens={a.prompt_tokens},"
                      f"output_tokens={a.tokens}",
            "--tokenizer", f"kind=hf_auto,model={a.tokenizer}",
            "--output", f"kind=json,path={out}", "--disable-console",
        ]  # fmt: skip
        c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        proc = await asyncio.create_subprocess_exec(*cmd, stdout=subprocess.DEVNULL)
        await proc.wait()
        c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        bench = json.loads(out.read_text())["benchmarks"][0]
    after = await scrape(url)
    m = bench["metrics"]

    def ok(key: str) -> dict[str, Any]:
        return m[key]["successful"]

    wall = bench["duration"]
    tokens = ok("output_token_count")["total_sum"]
    chunks = ok("request_streaming_iterations_count")["total_sum"]
    cpu = (c1.ru_utime + c1.ru_stime) - (c0.ru_utime + c0.ru_stime)
    return {
        "client": "guidellm",
        "streams": streams,
        "requests": m["request_totals"]["total"],
        "ok": m["request_totals"]["successful"],
        "wall_s": round(wall, 2),
        "out_tok_s": round(tokens / wall, 1),
        "chunks_per_s": round(chunks / wall, 1),
        "tokens_per_chunk": round(tokens / chunks, 2) if chunks else None,
        "client_cpu_s": round(cpu, 2),  # all its processes, start-up (imports, data) included
        "client_cpu_us_per_chunk": round(1e6 * cpu / chunks, 1) if chunks else None,
        "ttft_p50_ms": round(ok("time_to_first_token_ms")["median"], 1),
        "tpot_p50_ms": round(ok("time_per_output_token_ms")["median"], 2),
        "server_requests": sum(after.request_success.values())
        - sum(before.request_success.values()),
        "server_tokens": (after.generation_tokens or 0) - (before.generation_tokens or 0),
        "counts_agree": None,
        "warnings": [w["message"] for w in bench.get("warnings", [])],
    }


async def one(url: str, who: str, a: argparse.Namespace, streams: int) -> dict[str, Any]:
    if who == "guidellm":
        return await run_guidellm(url, a, streams)
    load1 = os.getloadavg()[0]
    before = await scrape(url)
    prof = cProfile.Profile() if a.profile else None
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    c0, t0 = time.process_time(), time.perf_counter()
    if prof:
        prof.enable()
    if who.startswith("qtui"):
        k = int(who.removeprefix("qtui-k").split("-")[0])
        recs, extra = await run_qtui(url, a, streams, k)
    else:
        recs, extra = await run_peer(url, a, streams)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    if prof:
        prof.disable()
        out = Path(a.profile) / f"{who}-{streams}.pstats"
        out.parent.mkdir(parents=True, exist_ok=True)
        prof.dump_stats(out)
    cpu += extra.get("worker_cpu_s", 0.0)
    after = await scrape(url)
    ok = [r for r in recs if r.ok]
    chunks = sum(len(r.chunk_times) for r in ok)
    tokens = sum(r.completion_tokens or 0 for r in ok)
    cc = crosscheck(recs, before, after)
    ttft = [r.chunk_times[0] for r in ok if r.chunk_times]
    tpot = [t for r in ok if (t := r.tpot) is not None]
    active = max((r.t_end for r in recs), default=0.0) - min((r.t_send for r in recs), default=0.0)
    return {
        "client": who,
        "streams": streams,
        "loadavg_1m": round(load1, 2),
        "requests": len(recs),
        "ok": len(ok),
        "wall_s": round(wall, 2),
        "active_s": round(active, 2),
        "out_tok_s": round(tokens / wall, 1),
        "chunks_per_s": round(chunks / wall, 1),
        "chunks_per_active_s": round(chunks / active, 1) if active > 0 else None,
        "tokens_per_chunk": round(tokens / chunks, 2) if chunks else None,
        "client_cpu_s": round(cpu, 2),
        "client_cpu_us_per_chunk": round(1e6 * cpu / chunks, 1) if chunks else None,
        # this process only (K = 1): user (Python, C) and system (syscalls) time per chunk
        "user_us_per_chunk": round(1e6 * (r1.ru_utime - r0.ru_utime) / chunks, 1)
        if chunks
        else None,
        "sys_us_per_chunk": round(1e6 * (r1.ru_stime - r0.ru_stime) / chunks, 1)
        if chunks
        else None,
        "ttft_p50_ms": round(1e3 * (q(ttft, 0.5) or 0), 1),
        "ttft_p99_ms": round(1e3 * (q(ttft, 0.99) or 0), 1),
        "tpot_p50_ms": round(1e3 * (q(tpot, 0.5) or 0), 2),
        "server_requests": cc.requests_server,
        "server_tokens": cc.tokens_server,
        # prompt tokens the server prefilled per request: the same workload costs the same
        # the server's prefix-cache hits over the run: ~0 for both (fresh prompts each run)
        "server_prefix_hit_rate": prefix_cache_hit_rate(before, after),
        "server_prompt_tokens_per_request": round(
            ((after.prompt_tokens or 0) - (before.prompt_tokens or 0)) / max(1, len(recs)), 1
        ),
        "counts_agree": cc.counts_agree,
        "quantiles_vs_server": {
            f"{c.metric}@p{int(c.q * 100)}": [
                None if c.client is None else round(1e3 * c.client, 1),
                None if c.server is None else round(1e3 * c.server, 1),
                c.agrees,
            ]
            for c in cc.quantiles
        },
        "cdf_gap": {k: round(v, 3) for k, v in cc.cdf_gap.items()},
        **extra,
    }


def start_server(a: argparse.Namespace, tmp: Path) -> tuple[str, Any]:
    if a.server == "sim":
        from qtui.sim.launcher import start_sim

        prof = tmp / "bench.toml"
        prof.write_text(SIM_PROFILE)
        # a fixed cost per write: the same streams get the same chunks for every client
        sim = start_sim(prof, write_cost_us=a.sim_write_cost_us or None)
        return sim.endpoints["s"], sim.stop
    code = FAKE.format(path=str(ROOT / "tests" / "load"), delay=a.delay, port=a.port)
    proc = subprocess.Popen([sys.executable, "-c", code])
    url = f"http://127.0.0.1:{a.port}"
    for _ in range(100):
        try:
            httpx.get(f"{url}/health", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.1)

    def stop() -> None:
        proc.terminate()
        proc.wait(10)

    return url, stop


def ratio(
    rows: list[dict[str, Any]], key: str, peer_name: str = "peer", mine_name: str = "qtui-k1"
) -> float | None:
    mine = [r[key] for r in rows if r["client"] == mine_name and r[key]]
    peer = [r[key] for r in rows if r["client"] == peer_name and r[key]]
    if not mine or not peer:
        return None
    return round(statistics.mean(mine) / statistics.mean(peer), 3)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--streams", type=int, nargs="+", default=[256, 1024])
    p.add_argument("--rounds", type=int, default=2, help="each round runs both clients")
    p.add_argument("--tokens", type=int, default=128, help="output tokens per request")
    p.add_argument("--prompt-tokens", type=int, default=64)
    p.add_argument("--server", choices=["sim", "fake"], default="sim")
    p.add_argument("--delay", type=float, default=0.01, help="fake server: seconds per token")
    p.add_argument(
        "--sim-write-cost-us",
        type=float,
        default=50.0,
        help="simulator: a fixed CPU cost per write for its pacer, so both clients get the same "
        "tokens per chunk at the same streams (0: the pacer learns it, as in `qtui demo`)",
    )
    p.add_argument("--port", type=int, default=18431)
    p.add_argument("--url", help="an already running vLLM-compatible server")
    p.add_argument("--guidellm", help="path of a `guidellm` executable: also run it as a peer")
    p.add_argument("--tokenizer", help="HF tokenizer directory for GuideLLM's synthetic data")
    p.add_argument(
        "--processes", type=int, nargs="+", default=[1], help="qtui load worker processes K"
    )
    p.add_argument(
        "--peer-loop",
        choices=["asyncio", "uvloop"],
        default="asyncio",
        help="the peers' event loop (vllm bench serve runs on asyncio's); qtui runs on "
        "qtui.client.loop's (uvloop when installed, QTUI_LOOP=asyncio for the stdlib's)",
    )
    p.add_argument(
        "--warmup", type=int, default=1, help="unmeasured peer runs first, for the server to settle"
    )
    p.add_argument(
        "--qtui-loops",
        nargs="+",
        choices=["default", "asyncio", "uvloop"],
        default=["default"],
        help="run qtui on each of these loops (default: qtui.client.loop's) in the same run",
    )
    p.add_argument(
        "--profile",
        metavar="DIR",
        help="cProfile each client run into DIR (CPU figures then "
        "include the profiler's overhead: use them for where the time goes, not for the floor)",
    )
    a = p.parse_args()
    qtuis = tuple(
        f"qtui-k{k}" if loop == "default" else f"qtui-k{k}-{loop}"
        for k in a.processes
        for loop in a.qtui_loops
    )
    for streams in a.streams:
        with tempfile.TemporaryDirectory() as d:
            url, stop = (a.url, lambda: None) if a.url else start_server(a, Path(d))
            rows = []
            try:
                for _ in range(a.warmup):  # the simulator paces its writes after a first load
                    w = asyncio.run(one(url, "peer", a, streams))
                    print(json.dumps({"warmup": True, **w}), flush=True)
                for k in range(a.rounds):
                    order: tuple[str, ...] = ("peer", *qtuis)
                    if k % 2:
                        order = order[::-1]
                    if a.guidellm:
                        order = (*order, "guidellm")
                    for who in order:
                        # qtui on its client loop, as `qtui bench` runs it
                        if who.endswith("-asyncio"):
                            row = asyncio.run(one(url, who, a, streams))
                            row["loop"] = "asyncio"
                        elif who.endswith("-uvloop"):
                            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                                row = runner.run(one(url, who, a, streams))
                            row["loop"] = "uvloop"
                        elif who.startswith("qtui") or a.peer_loop == "uvloop":
                            row = client_loop.run(one(url, who, a, streams))
                            row["loop"] = client_loop.loop_name()
                        else:
                            row = asyncio.run(one(url, who, a, streams))
                            row["loop"] = "asyncio"
                        rows.append(row)
                        print(json.dumps(row), flush=True)
            finally:
                stop()
        keys = (
            "out_tok_s",
            "chunks_per_s",
            "chunks_per_active_s",
            "ttft_p50_ms",
            "tpot_p50_ms",
            "client_cpu_us_per_chunk",
        )
        summary = {
            "streams": streams,
            "server": a.url or a.server,
            **{f"{q}_over_peer": {k: ratio(rows, k, mine_name=q) for k in keys} for q in qtuis},
            "qtui_over_guidellm": {
                k: ratio(rows, k, "guidellm")
                for k in (
                    "out_tok_s",
                    "chunks_per_s",
                    "ttft_p50_ms",
                    "tpot_p50_ms",
                    "client_cpu_us_per_chunk",
                )
            }
            if a.guidellm
            else None,
            "qtui_counts_agree": all(
                r["counts_agree"] for r in rows if r["client"].startswith("qtui")
            ),
            "qtui_client_bound_seconds": {
                q: [r["client_bound_seconds"] for r in rows if r["client"] == q] for q in qtuis
            },
        }
        print("SUMMARY " + json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
