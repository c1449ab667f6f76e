"""Simulator benchmarks (run by hand): `python benchmarks/bench_sim.py [--streams 1000]`.

To measure an older simulator in the same conditions, put its tree first on the path:
`git archive REV qtui | tar -x -C /tmp/old && PYTHONPATH=/tmp/old python benchmarks/bench_sim.py`.

1. What the engine model predicts for SmolLM2-135M bf16 on one H100 (pure, virtual clock), next to
   what a real vLLM 0.26 measured (README of tests/fixtures/vllm).
2. N concurrent streaming requests against one simulator process over real HTTP: the simulator's
   event-loop lag next to the lag an idle asyncio process sees on this machine in the same run
   (the scheduling noise floor of a shared 2-core box), the simulator's CPU per socket write, and
   output tok/s achieved at the client vs what the engine model gives for the same burst on its
   virtual clock.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from qtui.data import gpu_specs, model_shapes
from qtui.sim.engine import Engine, SimRequest
from qtui.sim.launcher import start_sim
from qtui.sim.physics import FRONTEND_S, make_plan


def predict_smollm(streams: int, out_tokens: int = 256, prompt: int = 16, rounds: int = 4) -> dict:
    """Closed loop on the virtual clock: each stream sends its next request when one finishes."""
    plan = make_plan("smol", model_shapes()["smollm2-135m"], gpu_specs()["H100"], "bf16")
    e = Engine(plan)
    n = 0
    ttfts: list[float] = []
    live: list[SimRequest] = []
    for _ in range(streams):
        r = SimRequest(str(n), prompt, out_tokens, out_tokens)
        n += 1
        e.add(r, at=0.0)
        live.append(r)
    done = 0
    while (out := e.step()) is not None:
        for r in out.finished:
            ttfts.append((r.first_token_at or 0) - r.arrival + FRONTEND_S)
            done += 1
            if done + len(e.running) + len(e.waiting) < streams * rounds:
                nr = SimRequest(str(n), prompt, out_tokens, out_tokens)
                n += 1
                e.add(nr, at=e.now + FRONTEND_S)
    toks = e.stats.generation_tokens
    return {
        "streams": streams,
        "out_tok_s": toks / e.now,
        "ttft_p50_ms": 1e3 * statistics.median(ttfts),
        "itl_ms": 1e3 * plan.step_time(streams, streams * (prompt + out_tokens // 2), 0),
    }


PROFILE = """[profile]
name = "bench"
[[endpoints]]
name = "bf16"
precision = "bf16"
gpu = "H100"
[endpoints.simulate]
model = "llama-3.1-8b"
"""


PROMPT_CHARS = 2000

LAG_PROBE = """
import asyncio, json, sys, threading
lags, stop = [], threading.Event()
threading.Thread(target=lambda: (sys.stdin.readline(), stop.set()), daemon=True).start()
async def main():
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        t = loop.time()
        await asyncio.sleep(0.05)
        lags.append(max(0.0, loop.time() - t - 0.05))
asyncio.run(main())
lags.sort()
print(json.dumps({"p50_ms": lags[len(lags) // 2] * 1e3, "p99_ms": lags[int(len(lags) * 0.99)] * 1e3,
                  "max_ms": lags[-1] * 1e3}))
"""


def start_probe() -> subprocess.Popen[str]:
    """An idle asyncio process with the simulator's own lag probe: this machine's noise floor."""
    return subprocess.Popen(
        [sys.executable, "-c", LAG_PROBE], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )


def stop_probe(p: subprocess.Popen[str]) -> dict:
    out, _ = p.communicate("stop\n", timeout=30)
    return {f"idle_probe_lag_{k}": v for k, v in json.loads(out).items()}


def modelled(streams: int, max_tokens: int) -> dict:
    """The same burst of requests on the engine's virtual clock: what the simulator should serve."""
    plan = make_plan("bf16", model_shapes()["llama-3.1-8b"], gpu_specs()["H100"], "bf16")
    e = Engine(plan)
    prompt = -(-(len("request 999 ") + PROMPT_CHARS) // 4)
    for i in range(streams):
        e.add(SimRequest(str(i), prompt, max_tokens, max_tokens), at=FRONTEND_S)
    while e.step() is not None:
        pass
    return {"makespan_s": e.now, "tok_s": streams * max_tokens / (e.now - FRONTEND_S)}


def proc_times(pid: int) -> tuple[float, float]:
    """(CPU seconds, seconds runnable but waiting for a CPU) of a process, from /proc (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / tick
    with open(f"/proc/{pid}/schedstat") as f:
        wait = int(f.read().split()[1]) / 1e9
    return cpu, wait


async def load(url: str, streams: int, max_tokens: int, pid: int) -> dict:
    conn = aiohttp.TCPConnector(limit=streams + 10)
    timeout = aiohttp.ClientTimeout(total=600)
    chunks = 0
    tokens = 0
    ttfts: list[float] = []

    async def one(i: int) -> None:
        nonlocal chunks, tokens
        body = {
            "prompt": f"request {i} " + "x" * PROMPT_CHARS,
            "max_tokens": max_tokens,
            "ignore_eos": True,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        t0 = time.perf_counter()
        first = None
        async with session.post(f"{url}/v1/completions", json=body) as r:
            async for line in r.content:
                if line.startswith(b"data: {"):
                    if first is None:
                        first = time.perf_counter() - t0
                    chunks += 1
                    obj = json.loads(line[6:])
                    if "usage" in obj:
                        tokens += obj["usage"]["completion_tokens"]
        ttfts.append(first or 0.0)

    async with aiohttp.ClientSession(connector=conn, timeout=timeout) as session:
        async with session.get(f"{url}/qtui/sim/stats") as r:
            before = await r.json()
        cpu0, wait0 = proc_times(pid)
        t0 = time.perf_counter()
        c0 = time.process_time()
        await asyncio.gather(*(one(i) for i in range(streams)))
        wall = time.perf_counter() - t0
        client_cpu = time.process_time() - c0
        cpu1, wait1 = proc_times(pid)
        async with session.get(f"{url}/qtui/sim/stats") as r:
            after = await r.json()
    model = modelled(streams, max_tokens)
    sim_cpu = cpu1 - cpu0
    # .get: an older simulator (PYTHONPATH=old tree) lacks some of these figures
    writes = after.get("stream_writes", 0) - before.get("stream_writes", 0)
    return {
        "streams": streams,
        "wall_s": wall,
        "modelled_makespan_s": model["makespan_s"],
        "tokens": tokens,
        "chunks": chunks,
        "achieved_tok_s": tokens / wall,
        "modelled_tok_s": model["tok_s"],
        "achieved_over_modelled": tokens / wall / model["tok_s"],
        "sim_cpu_s": sim_cpu,
        "sim_waiting_for_cpu_s": wait1 - wait0,
        "sim_cpu_us_per_write": 1e6 * sim_cpu / writes if writes else 0,
        "sim_cpu_us_per_token": 1e6 * sim_cpu / tokens if tokens else 0,
        "tokens_per_write": tokens / writes if writes else tokens / max(1, chunks),
        "client_cpu_s": client_cpu,
        "ttft_p50_s": statistics.median(ttfts),
        "loop_lag_p50_ms": after["loop_lag_p50_ms"],
        "loop_lag_p99_ms": after["loop_lag_p99_ms"],
        "loop_lag_max_ms": after["loop_lag_max_ms"],
        "lag_resets": after["lag_resets"] - before["lag_resets"],
        "late_wakeups": after.get("late_wakeups", []),
        "preemptions": after["preemptions"],
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--streams", type=int, default=1000)
    ap.add_argument("--max-tokens", type=int, default=128)
    args = ap.parse_args()
    print(
        "SmolLM2-135M bf16 on H100, 256 output tokens (real vLLM 0.26: 1 stream ~340 tok/s,"
        " TTFT p50 ~23 ms; 32 streams ~10.9k tok/s)"
    )
    for s in (1, 32):
        print("  predicted", json.dumps({k: round(v, 2) for k, v in predict_smollm(s).items()}))
    with tempfile.TemporaryDirectory() as d:
        prof = Path(d) / "bench.toml"
        prof.write_text(PROFILE)
        with start_sim(prof) as sim:
            probe = start_probe()
            res = asyncio.run(load(sim.endpoints["bf16"], args.streams, args.max_tokens, sim.pid))
            res |= stop_probe(probe)
    print(f"{args.streams} concurrent streams, Llama-3.1-8B bf16 on a simulated H100:")
    print(
        "  " + json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in res.items()})
    )


if __name__ == "__main__":
    main()
