"""Trace replay fidelity (run by hand): `python benchmarks/bench_trace.py [--rates 10 100 1000]`.

For each rate, a trace of Poisson arrivals (seeded) at that mean rate is replayed by `LoadRun`
from one process against one simulator endpoint (a child process, real sockets). The send error
of a request is its achieved send time (the client's `t_send`, stamped just before the POST)
minus when the trace said to send it (the schedule's start + offset / speed). Reported: p50,
p99 and max of the error in ms, requests late by more than 1 ms / 10 ms, the achieved rate, and
whether the client said it was client-bound. `--spin-ms 0` sends on timers alone (no
yielding through the last millisecond before each send). Requests are short (input 32,
output 4 tokens) so that the simulator is not what is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from qtui.config import load_model
from qtui.config.profile import Profile
from qtui.evidence.records import RequestRecord
from qtui.load.engine import LoadRun
from qtui.load.trace import SPIN_S, TraceItem, TraceSender, dump_trace
from qtui.sim.launcher import start_sim

PROFILE = """
[profile]
name = "bench trace"

[[endpoints]]
name = "sim"
precision = "bf16"
telemetry = "none"
[endpoints.simulate]
model = "smollm2-135m"

[workload]
kind = "trace"
trace_file = "trace.jsonl"

[load]
mode = "rate"
timeout_s = 60
"""


def poisson_trace(rate: float, seconds: float, seed: int) -> list[TraceItem]:
    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.exponential(1 / rate, int(rate * seconds * 1.2)))
    return [TraceItem(float(x - t[0]), 32, 4) for x in t[t - t[0] < seconds]]


async def replay(prof: Profile, url: str, base: Path, spin_s: float) -> dict[str, float]:
    recs: list[RequestRecord] = []
    run = LoadRun(prof, {"sim": url}, on_record=recs.append, base_dir=base, scrape=False)
    await run.start()
    sender = run.eps["sim"].sender
    assert isinstance(sender, TraceSender)
    sender.spin_s = spin_s  # from the second request on
    # perf_counter → wall clock, read once (both clocks agree to µs over a minute)
    wall_minus_perf = time.time() - time.perf_counter()
    res = (await run.wait())["sim"]
    items = run.trace.items if run.trace else ()
    due0 = sender.anchor[0] if sender.anchor[1] == 0.0 else sender.targets[0]
    err = []
    for r in recs:
        n = int(r.request_id.rsplit("-", 1)[1])
        due = due0 + items[n - 1].offset_s / prof.workload.speed + wall_minus_perf
        err.append(r.t_send - due)
    e = np.array(err) * 1000
    span = max(r.t_send for r in recs) - min(r.t_send for r in recs)
    return {
        "requests": len(recs),
        "ok": sum(r.ok for r in recs),
        "achieved_rps": (len(recs) - 1) / span if span > 0 else 0.0,
        "err_p50_ms": float(np.percentile(e, 50)),
        "err_p99_ms": float(np.percentile(e, 99)),
        "err_max_ms": float(e.max()),
        "early_min_ms": float(e.min()),
        "late_over_1ms": float((e > 1).mean()),
        "late_over_10ms": float((e > 10).mean()),
        "client_bound_s": res.client_bound_seconds,
        "seconds": res.seconds,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rates", type=float, nargs="+", default=[10.0, 100.0, 1000.0])
    ap.add_argument("--seconds", type=float, default=20.0, help="trace length per rate")
    ap.add_argument("--spin-ms", type=float, default=SPIN_S * 1000, help="0: timers only")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()
    out = []
    with tempfile.TemporaryDirectory() as d:
        base = Path(d)
        (base / "p.toml").write_text(PROFILE)
        prof = load_model(base / "p.toml", Profile)
        with start_sim(base / "p.toml") as sim:
            for rate in args.rates:
                items = poisson_trace(rate, args.seconds, seed=int(rate))
                (base / "trace.jsonl").write_text(dump_trace(items))
                row = {
                    "rate": rate,
                    "trace_rps": len(items) / args.seconds,
                    "spin_ms": args.spin_ms,
                    **asyncio.run(replay(prof, sim.endpoints["sim"], base, args.spin_ms / 1000)),
                }
                out.append(row)
                print(
                    f"{rate:>6g} req/s (trace {row['trace_rps']:.1f}): {row['requests']:>6} sent "
                    f"({row['ok']} ok), achieved "
                    f"{row['achieved_rps']:.1f} req/s, send error p50 {row['err_p50_ms']:.3f} ms "
                    f"p99 {row['err_p99_ms']:.3f} ms max {row['err_max_ms']:.2f} ms, "
                    f">1 ms late {row['late_over_1ms']:.1%}, >10 ms {row['late_over_10ms']:.1%}, "
                    f"client-bound {row['client_bound_s']}/{row['seconds']} s",
                    flush=True,
                )
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
