#!/usr/bin/env python3
"""peer.json (from vllm_peer.py) → the markdown comparison table of qtui vs `vllm bench serve`.

python benchmarks/gpu/peer_table.py benchmarks/gpu/results/h100-vllm-peer
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path


def streamed_tps(run_dir: Path) -> float | None:
    """Tokens qtui saw stream inside its measured window (cut requests included) per second."""
    path = run_dir / "requests.csv"
    if not path.exists():
        return None
    rows = [r for r in csv.DictReader(path.open()) if r["phase"] == "measure"]
    if not rows:
        return None
    t0 = min(float(r["t_send"]) for r in rows)
    dur = json.loads((run_dir / "summary.json").read_text())["endpoints"]
    d = next(iter(dur.values()))["summary"]["duration_s"]
    n = sum(
        sum(1 for c in json.loads(r["chunk_times"]) if float(r["t_send"]) + c <= t0 + d)
        for r in rows
    )
    return n / d


def ms(v: float | None) -> str:
    return "—" if v is None else f"{v * 1000:.1f}"


def main(root: Path) -> None:
    doc = json.loads((root / "peer.json").read_text())
    print("| endpoint | streams | source | out tok/s | TTFT p50 | TTFT p95 | ITL p50 | ITL p95 |")
    print("|---|---|---|---|---|---|---|---|")
    for r in doc["runs"]:
        q, p = r["qtui"], r["peer"]
        hq, hp = r["server_hist_qtui_window"], r["server_hist_peer_window"]
        run_dir = root / "peer" / f"qtui-{r['endpoint']}-c{r['level']}"
        st = streamed_tps(run_dir)
        gen_q = hq["generation_tokens"] / q["duration_s"]
        head = f"| {r['endpoint']} | {r['level']} |"
        rows = [
            ("qtui (completed requests / window)", q["out_tps"], q),
            ("qtui (tokens streamed in window)", st, q),
            ("vllm bench serve", p.get("out_tps"), p),
            ("vLLM histograms, qtui window", gen_q, hq),
            ("vLLM histograms, peer window", hp["generation_tokens"] / p["duration_s"], hp),
        ]
        for name, tps, m in rows:
            tps_s = "—" if tps is None else f"{tps:.0f}"
            print(f"{head} {name} | {tps_s} | {ms(m.get('ttft_p50'))} | {ms(m.get('ttft_p95'))} | "
                  f"{ms(m.get('itl_p50'))} | {ms(m.get('itl_p95'))} |")  # fmt: skip


if __name__ == "__main__":
    main(Path(sys.argv[1]))
