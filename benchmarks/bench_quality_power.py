"""Items and minutes to decide a quality floor against the simulator (issue 18), run by hand:
`python benchmarks/bench_quality_power.py [--items 3000] [--concurrency 8 32] [--seeds 0 1 2]`.

For a true drop of 0.5 points (should be GO) and of 3 points (should be NO-GO) against a 2-point
floor (`max_drop_vs_baseline = 0.02`): a simulated BF16 baseline (6 % of items wrong) and an
endpoint whose error rate is 0.5 or 3 points higher (the simulator's misses are nested, so every
discordant pair is one the endpoint lost) answer a generated golden set at C concurrent
requests per endpoint, over real HTTP. The records are then judged in the order they finished:
after every 50 paired items, the floor's verdict (qtui.quality.floor, the rule every view uses)
on the items answered so far. Reported: the first item count at which the verdict is decided
(and whether it is the right one), the wall time until then, and what the power calculation
(docs/golden-set.md) predicts: 7.8489·(ψ − D²)/(0.02 − D)², ψ = D here.

Results land in benchmarks/results/quality-power.{json,md} (--out DIR elsewhere); the shipped .md
adds the reading notes by hand.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from qtui.config.profile import QualityFloor
from qtui.evidence.records import QualityRecord
from qtui.quality.floor import verdict
from qtui.quality.generate import generate, to_jsonl
from qtui.quality.golden import load_golden
from qtui.quality.runner import QualityTarget, run_quality
from qtui.quality.scores import compare, paired_items_needed, score_endpoint
from qtui.sim.launcher import start_sim

FLOOR = QualityFloor(max_drop_vs_baseline=0.02, min_items=50)
BASE_ERROR = 0.06
STEP = 50
OUT = Path(__file__).resolve().parent / "results"  # --out overrides

PROFILE = """
[profile]
name = "quality power"
baseline = "bf16"

[[endpoints]]
name = "bf16"
precision = "bf16"
[endpoints.simulate]
model = "llama-3.1-8b"
quality_error_rate = {base}

[[endpoints]]
name = "q"
precision = "fp8"
[endpoints.simulate]
model = "llama-3.1-8b"
weights = "fp8"
quality_error_rate = {other}

[workload]
golden_set = "{golden}"
"""


def decided_at(recs: list[tuple[float, QualityRecord]], t0: float) -> dict[str, object]:
    """Judge the pairs in the order their second answer finished, every STEP pairs."""
    first: dict[str, tuple[float, QualityRecord]] = {}
    pairs: list[tuple[float, QualityRecord, QualityRecord]] = []
    for t, r in sorted(recs, key=lambda x: x[0]):
        other = first.pop(r.item_id, None)
        if other is None:
            first[r.item_id] = (t, r)
            continue
        pairs.append((t, other[1], r))
    for k in range(STEP, len(pairs) + 1, STEP):
        sub = [x for _, a, b in pairs[:k] for x in (a, b)]
        score = score_endpoint("q", sub)
        v = verdict(score, FLOOR, compare("q", "bf16", sub))
        if v.status != "not-decided":
            return {"items": k, "minutes": (pairs[k - 1][0] - t0) / 60, "status": v.status,
                    "reason": v.reason}  # fmt: skip
    return {"items": None, "minutes": None, "status": "not-decided", "pairs": len(pairs)}


async def one(golden: Path, items: int, drop: float, conc: int, seed: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        prof = Path(tmp) / "p.toml"
        prof.write_text(PROFILE.format(base=BASE_ERROR, other=BASE_ERROR + drop,
                                       golden=golden.as_posix()))  # fmt: skip
        with start_sim(prof, seed=seed, golden=golden) as sim:
            targets = [QualityTarget(n, url, "") for n, url in sim.endpoints.items()]
            got: list[tuple[float, QualityRecord]] = []
            t0 = time.monotonic()
            await run_quality(
                load_golden(golden)[:items], targets, concurrency=conc, seed=seed,
                on_record=lambda r, _d, _t: got.append((time.monotonic(), r)),
            )  # fmt: skip
            wall = time.monotonic() - t0
    res = decided_at(got, t0)
    return {"drop_pts": drop * 100, "concurrency": conc, "seed": seed, **res,
            "run_minutes": wall / 60, "items_run": items}  # fmt: skip


def predicted(drop: float) -> int | None:
    """The power calculation with every discordant pair lost: b = D·n, c = 0 (ψ = D)."""
    n = 1000
    return paired_items_needed(round(drop * n), 0, n, FLOOR.max_drop_vs_baseline or 0.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=3000)
    ap.add_argument("--concurrency", type=int, nargs="+", default=[8, 32])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    out = args.out
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        golden = Path(tmp) / "g.jsonl"
        golden.write_text(to_jsonl(generate(args.items, seed=18)))
        for drop in (0.005, 0.03):
            for conc in args.concurrency:
                for seed in args.seeds:
                    row = asyncio.run(one(golden, args.items, drop, conc, seed))
                    rows.append(row)
                    print(json.dumps(row), file=sys.stderr)
    out.mkdir(parents=True, exist_ok=True)
    pred = {"0.5": predicted(0.005), "3": predicted(0.03)}
    doc = {"floor_pts": 2.0, "baseline_error": BASE_ERROR, "step": STEP, "predicted_items": pred,
           "runs": rows}  # fmt: skip
    (out / "quality-power.json").write_text(json.dumps(doc, indent=1) + "\n")
    lines = ["| true drop | concurrent | seed | decided at (items) | minutes | verdict | "
             "predicted items |", "|---|---|---|---|---|---|---|"]  # fmt: skip
    for r in rows:
        pred = doc["predicted_items"]["0.5" if r["drop_pts"] < 1 else "3"]  # type: ignore[index]
        mins = "—" if r["minutes"] is None else f"{r['minutes']:.2f}"
        lines.append(f"| {r['drop_pts']:.1f} pts | {r['concurrency']} | {r['seed']} | "
                     f"{r['items'] or '> ' + str(r.get('pairs'))} | {mins} | {r['status']} | "
                     f"{pred} |")  # fmt: skip
    for drop in (0.5, 3.0):
        done = [r["minutes"] for r in rows if r["drop_pts"] == drop and r["minutes"] is not None]
        if done:
            lines.append(f"\nmedian minutes to decide {drop} pts: {statistics.median(done):.2f}")  # type: ignore[type-var]
    (out / "quality-power.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
