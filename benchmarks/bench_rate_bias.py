"""The open-loop (rate) short-step bias, measured: a knee search by rate over real sockets against
`qtui sim`, each step's delivered req/s against the rate offered, and the capacity found against
the simulator's own (`qtui.sim.capacity.profile_capacity`, its engine on a virtual clock).

Run: ``python benchmarks/bench_rate_bias.py [--runs 3] [--out benchmarks/results/rate-bias.md]``
(CPU only, a few minutes). One simulated endpoint (Llama-3.1-70B INT4 on an H100: a knee of a
few tens of req/s, cheap for the client), Poisson arrivals, steps of ≥ ``min_requests``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from qtui.config.load import load_model
from qtui.config.profile import Profile
from qtui.evidence.capacity import capacity, capacity_text
from qtui.evidence.levels import sweep_point
from qtui.load.engine import LoadRun
from qtui.session.rows import sweep_level_row
from qtui.sim.capacity import profile_capacity
from qtui.sim.launcher import start_sim

ROOT = Path(__file__).resolve().parents[1]

PROFILE = """
[profile]
name = "rate bias"
baseline = "e"

[[endpoints]]
name = "e"
precision = "int4-awq"
gpu = "H100"
telemetry = "none"
[endpoints.simulate]
model = "llama-3.1-70b"
weights = "int4"

[workload]
input_tokens = {{ mean = 256, dist = "uniform", spread = 0.25 }}
output_tokens = {{ mean = 32 }}
seed = {seed}

[load]
mode = "sweep"
sweep_by = "rate"
arrival = "poisson"
[load.sweep]
search = "knee"
levels = [4, 8]
step_duration_s = {step}
min_requests = {n}
precision = 0.05
max_steps = 12

[slo]
ttft_p95_ms = {ttft}
"""


async def search(prof: Profile, url: str) -> list[dict[str, object]]:
    run = LoadRun(prof, {"e": url}, scrape=False)
    res = (await run.run())["e"]
    return [sweep_level_row("e", lv) for lv in res.levels]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--ttft", type=float, default=800.0)
    ap.add_argument("--step", type=float, default=2.0)
    ap.add_argument("--min-requests", type=int, default=100)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/rate-bias.md")
    a = ap.parse_args()
    t0 = time.perf_counter()
    rows: list[str] = []
    ratios: list[float] = []
    found: list[tuple[float, float]] = []
    truth_level = None
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(a.runs):
            path = Path(tmp) / f"p{run}.toml"
            text = PROFILE.format(seed=run, step=a.step, n=a.min_requests, ttft=a.ttft)
            path.write_text(text)
            prof = load_model(path, Profile)
            if truth_level is None:
                truth = profile_capacity(prof, "e", requests=800, duration_s=40)
                truth_level = truth.level
            sim = start_sim(path, seed=run)
            try:
                steps = asyncio.run(search(prof, sim.endpoints["e"]))
            finally:
                sim.stop()
            for r in steps:
                offered, got = float(r["level"]), float(r["rps"])  # type: ignore[arg-type]
                if r["ok"]:
                    ratios.append(got / offered)
                rows.append(
                    f"| {run} | {r['step']} | {offered:g} | {got:.2f} | {got / offered:.3f} |"
                    f" {r['requests']} | {float(r['duration_s']):.1f} |"  # type: ignore[arg-type]
                    f" {'pass' if r['ok'] else 'fail'} |"
                )
            pts = [sweep_point(r, "req/s") for r in steps]
            cap = capacity(pts, prof.slo)
            if cap.usable and cap.level is not None and cap.rps is not None:
                found.append((cap.level, cap.rps))
            rows.append(f"| {run} | capacity | {capacity_text(cap)} | | | | | |")
    assert truth_level is not None
    mean = statistics.fmean(ratios) if ratios else float("nan")
    sd = statistics.stdev(ratios) if len(ratios) > 1 else 0.0
    lines = [
        "# Open-loop short-step bias: delivered vs offered req/s (knee search by rate)",
        "",
        f"`python benchmarks/bench_rate_bias.py --runs {a.runs} --ttft {a.ttft:g} --step"
        f" {a.step:g} --min-requests {a.min_requests}`: Llama-3.1-70B INT4 simulated on an H100"
        f" (`qtui sim`, real sockets), input 256 ± 25 %, output 32, Poisson, TTFT p95 ≤"
        f" {a.ttft:g} ms; the simulator's own capacity (virtual clock, 800 requests a level):"
        f" **{truth_level:g} req/s offered**.",
        "",
        "| run | step | offered req/s | delivered req/s | delivered ÷ offered | requests |"
        " measured s | verdict |",
        "|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        f"Passing steps: delivered ÷ offered = {mean:.3f} ± {sd:.3f} (mean ± sd, n ="
        f" {len(ratios)}).",
        "Capacity found (offered level, delivered req/s) vs truth "
        f"{truth_level:g}: "
        + ", ".join(
            f"{lv:g} ({(lv / truth_level - 1) * 100:+.1f} %), {rps:.2f} "
            f"({(rps / truth_level - 1) * 100:+.1f} %)"
            for lv, rps in found
        ),
        "",
        f"(computed in {time.perf_counter() - t0:.0f} s)",
    ]
    a.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
