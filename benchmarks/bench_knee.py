"""Steps and time to a ±5 % capacity: the knee search vs a fixed grid of the same precision.

Against the simulator's engine on a virtual clock (`qtui/sim/capacity.py`: the same `Engine`
and physics the `qtui sim` server steps, no sockets), per endpoint of a profile: the knee search
(`qtui/load/knee.py`, the profile's levels or its ramp) and a fixed geometric grid fine enough
for the same precision (ratio (1 + p) / (1 − p) between levels, run in order until the first
breach, as a fixed sweep does). A step lasts warm-up + max(step_duration_s, the time its
``min_requests`` take at the rate measured there, run on while its p95 is a close call:
`qtui.evidence.closecall`), as `LoadRun` runs a knee step; the truth is
`model_capacity` with long runs. Run: ``python benchmarks/bench_knee.py [--profile P]
[--precision 0.05] [--out benchmarks/results/knee.md]``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from qtui.config.load import load_model
from qtui.config.profile import Profile
from qtui.evidence.slo import breaches
from qtui.load.knee import KneeSearch, slo_ratio
from qtui.sim.capacity import model_capacity, model_knee_step
from qtui.sim.physics import Plan
from qtui.sim.server import endpoint_setup

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--profile", type=Path, default=ROOT / "profiles/demo.toml")
    ap.add_argument("--precision", type=float, default=0.05)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/knee.md")
    a = ap.parse_args()
    prof = load_model(a.profile, Profile)
    sweep, w, slo = prof.load.sweep, prof.workload, prof.slo
    by = prof.load.sweep_by
    step_s, warm = sweep.step_duration_s, prof.load.warmup_s
    lines = [
        f"# Knee search vs fixed grid (±{a.precision * 100:g} %)",
        "",
        f"Profile `{a.profile.name}`, by {by}, SLO ttft {slo.ttft_p95_ms} / itl {slo.itl_p95_ms}"
        f" / e2e {slo.e2e_p95_ms} ms p95; step {step_s:g} s + {warm:g} s warm-up, ≥ "
        f"{sweep.min_requests} requests a step; simulator engine on a virtual clock "
        "(`python benchmarks/bench_knee.py`).",
        "",
        "| endpoint | truth (users) | knee: bracket | steps | minutes | grid: bracket | steps"
        " | minutes |",
        "|---|---|---|---|---|---|---|---|",
    ]
    t0 = time.perf_counter()
    for ep in prof.endpoints:
        plan = endpoint_setup(ep, 0).plan
        truth = model_capacity(plan, by, slo, w.input_tokens, w.output_tokens, requests=800)
        seed = 0

        def measure(level: float, plan: Plan = plan) -> tuple[bool, float | None, float]:
            nonlocal seed
            seed += 1
            pt, judged = model_knee_step(plan, by, level, slo, w.input_tokens, w.output_tokens,
                                         requests=sweep.min_requests, duration_s=step_s,
                                         seed=seed)  # fmt: skip
            wall = warm + max(step_s, judged / pt.rps if pt.rps else step_s)
            return not breaches(pt, slo), slo_ratio(pt, slo), wall

        s = KneeSearch.from_sweep(sweep.model_copy(update={"precision": a.precision}), by)
        s.max_steps = 40
        knee_s = 0.0
        while (lv := s.next_level()) is not None:
            ok, ratio, wall = measure(lv)
            knee_s += wall
            s.record(lv, ok, ratio)
        ratio_step = (1 + a.precision) / (1 - a.precision)
        grid, x = [], 1.0
        while x < 8192:
            r = float(max(1, round(x))) if by == "concurrency" else float(f"{x:.3g}")
            if not grid or r > grid[-1]:
                grid.append(r)
            x *= ratio_step
        grid_s, g_lo, g_hi, g_steps = 0.0, None, None, 0
        for lv in grid:
            ok, _, wall = measure(lv)
            grid_s += wall
            g_steps += 1
            if not ok:
                g_hi = lv
                break
            g_lo = lv
        lines.append(
            f"| {ep.name} | {truth.level:g} | {s.lo:g}–{s.hi:g} ({s.stop}) | {s.steps} | "
            f"{knee_s / 60:.1f} | {g_lo:g}–{g_hi:g} | {g_steps} | {grid_s / 60:.1f} |"
        )
    lines += ["", f"(computed in {time.perf_counter() - t0:.0f} s)"]
    a.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
