#!/usr/bin/env python3
"""peer.json files (from vllm_peer.py) → the markdown tables of qtui vs `vllm bench serve`.

python benchmarks/gpu/peer_table.py PATH [PATH ...]   (a peer.json, or a DIR holding one)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def ms(v: float | None) -> str:
    return "—" if v is None else f"{v * 1000:.1f}"


def pct(a: float | None, b: float | None) -> str:
    return "—" if a is None or not b else f"{(a - b) / b * 100:+.1f} %"


def load(root: Path) -> dict[str, Any]:
    return json.loads((root / "peer.json" if root.is_dir() else root).read_text())


def runs(roots: list[Path]) -> list[dict[str, Any]]:
    return [r for root in roots for r in load(root)["runs"]]


def client_name(client: str) -> str:
    if client in ("peer", "peer-bare"):
        return "vllm bench serve" + (", nobody scraping /metrics" if client == "peer-bare" else "")
    return "qtui" if client == "qtui" else f"qtui, {client.removeprefix('qtui-p')} process(es)"


def latency_table(rows: list[dict[str, Any]]) -> list[str]:
    out = [
        "| endpoint | streams | source | out tok/s | vs peer | TTFT p50 | TTFT p95 | ITL p50 "
        "| ITL p95 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        q, p = r["qtui"], r["peer"]
        hq, hp = r["server_hist_qtui_window"], r["server_hist_peer_window"]
        peer_tps = p.get("out_tps")
        sources = [
            ("qtui", q.get("out_tps"), q),
            ("vllm bench serve", peer_tps, p),
            ("vLLM histograms, qtui window", hq["generation_tokens"] / q["duration_s"], hq),
            ("vLLM histograms, peer window", hp["generation_tokens"] / p["duration_s"], hp),
        ]
        for name, tps, m in sources:
            tps_s = "—" if tps is None else f"{tps:.0f}"
            diff = "" if name == "vllm bench serve" else pct(tps, peer_tps)
            out.append(
                f"| {r['endpoint']} | {r['level']} | {name} | {tps_s} | {diff} | "
                f"{ms(m.get('ttft_p50'))} | {ms(m.get('ttft_p95'))} | "
                f"{ms(m.get('itl_p50'))} | {ms(m.get('itl_p95'))} |"
            )
    return out


def client_table(rows: list[dict[str, Any]]) -> list[str]:
    out = [
        "| endpoint | streams | qtui s | qtui requests | peer s | peer requests | qtui tokens vs "
        "vLLM counter | client-bound s | loop lag max | client CPU max |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        q, p, hq = r["qtui"], r["peer"], r["server_hist_qtui_window"]
        h = q.get("client_health") or {}
        tok = (q.get("out_tps") or 0) * q["duration_s"]
        out.append(
            f"| {r['endpoint']} | {r['level']} | {q['duration_s']:.1f} | {q['requests']} | "
            f"{p.get('duration_s') or 0:.1f} | {p.get('requests')} | "
            f"{tok:.0f} vs {hq['generation_tokens']:.0f} ({pct(tok, hq['generation_tokens'])}) | "
            f"{h.get('client_bound_seconds')} of {h.get('seconds')} | "
            f"{h.get('loop_lag_max_s', 0) * 1000:.0f} ms | {h.get('cpu_max', 0) * 100:.0f} % |"
        )
    return out


def _window_tps(w: dict[str, Any]) -> tuple[float | None, float | None, float | None]:
    """(client tok/s, the server's counter over that window in tok/s, client ITL p50 s)."""
    res = w["result"]
    dur = res.get("duration_s")
    server = w["server"]["generation_tokens"] / dur if dur else None
    return res.get("out_tps"), server, res.get("itl_p50")


def _rate(x: float | None) -> str:
    return "—" if x is None else f"{x:.0f}"


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs)


def repeated(rows: list[dict[str, Any]]) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """(row, its windows) for the rows run with --repeat (two rounds or more)."""
    with_windows = ((r, r.get("windows") or []) for r in rows)
    return [(r, ws) for r, ws in with_windows if len({w["round"] for w in ws}) >= 2]


def qtui_clients(ws: list[dict[str, Any]]) -> list[str]:
    """The qtui variants of a row's windows, in the order they first ran."""
    return list(dict.fromkeys(w["client"] for w in ws if w["client"] != "peer"))


def windows_table(rows: list[dict[str, Any]]) -> list[str]:
    """Rows run with --repeat: each client's windows, alternating, so both see the same drift."""
    out = [
        "| endpoint | streams | client | windows | out tok/s each | mean | vs peer mean "
        "| vLLM counter, same windows | client vs counter | ITL p50 mean |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r, ws in repeated(rows):
        means: dict[str, float] = {}
        for client in ["peer", *qtui_clients(ws)]:
            got = [_window_tps(w) for w in ws if w["client"] == client]
            tps = [t for t, _, _ in got if t is not None]
            srv = [s for _, s, _ in got if s is not None]
            itl = [i for _, _, i in got if i is not None]
            if not tps:
                continue
            means[client] = _mean(tps)
            name = client_name(client)
            vs = "" if client == "peer" else pct(means[client], means.get("peer"))
            each = ", ".join(f"{t:.0f}" for t in tps)
            counter = f"{_mean(srv):.0f}" if srv else "—"
            out.append(
                f"| {r['endpoint']} | {r['level']} | {name} | {len(tps)} | {each} | "
                f"{means[client]:.0f} | {vs} | {counter} | "
                f"{pct(means[client], _mean(srv) if srv else None)} | "
                f"{ms(_mean(itl) if itl else None)} |"
            )
    return out


def paired_table(rows: list[dict[str, Any]]) -> list[str]:
    """Each round's qtui / peer throughput ratio: the two windows of one round are next to each
    other in time, so the server's drift between rounds cancels out of the pair (the floor
    "qtui ≥ the peer" is about these, not about two means that each carry the drift)."""
    out = [
        "| endpoint | streams | client | rounds | qtui / peer each round | mean | min "
        "| rounds ≥ 1 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r, ws in repeated(rows):
        rounds = sorted({w["round"] for w in ws})
        peer = {w["round"]: w["result"].get("out_tps") for w in ws if w["client"] == "peer"}
        for client in qtui_clients(ws):
            mine = {w["round"]: w["result"].get("out_tps") for w in ws if w["client"] == client}
            ratios = [mine[k] / peer[k] for k in rounds if mine.get(k) and peer.get(k)]
            if not ratios:
                continue
            each = ", ".join(f"{x:.3f}" for x in ratios)
            out.append(
                f"| {r['endpoint']} | {r['level']} | {client_name(client)} | {len(ratios)} | "
                f"{each} | {_mean(ratios):.3f} | {min(ratios):.3f} | "
                f"{sum(x >= 1 for x in ratios)} of {len(ratios)} |"
            )
    return out


def held_seconds(seconds: list[dict[str, Any]], level: int) -> list[dict[str, Any]]:
    """The seconds a window held its load: running + waiting ≥ half the level, less the first
    two (ramp) and the last one (drain) of them."""
    held = [
        s for s in seconds
        if s.get("generation_tps") is not None
        and (s.get("running") or 0) + (s.get("waiting") or 0) >= 0.5 * level
    ]  # fmt: skip
    return held[2:-1]


def span_rate(seconds: list[dict[str, Any]], level: int) -> float | None:
    """The server's generation rate from the second held second to the last, every second
    between included: the held-second mean leaves out a wave's end, when `running` drops below
    half the level and the frontend reports its highest rates (results/h200-2026-12-04b.md)."""
    idx = [
        i for i, s in enumerate(seconds)
        if s.get("generation_tps") is not None
        and (s.get("running") or 0) + (s.get("waiting") or 0) >= 0.5 * level
    ]  # fmt: skip
    if len(idx) < 4:
        return None
    tokens = span = 0.0
    for i in range(idx[1] + 1, idx[-1] + 1):
        dt = seconds[i]["t"] - seconds[i - 1]["t"]
        tokens += (seconds[i].get("generation_tps") or 0.0) * dt
        span += dt
    return tokens / span if span > 0 else None


def seconds_table(rows: list[dict[str, Any]]) -> list[str]:
    """The server's own per-second view of each window (vLLM's counters scraped once a second):
    generation tok/s over the held seconds, and over their whole span (`span_rate`), so ramp
    and drain do not weigh on either client."""
    out = [
        "| endpoint | streams | client | round | held s | server gen tok/s (held) "
        "| (held span) | running | waiting | /metrics scrape ms p50 / max |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        for w in r.get("windows") or []:
            secs = (w.get("result") or {}).get("seconds") or []
            held = held_seconds(secs, r["level"])
            if not held:
                continue
            scr = sorted(s["scrape_ms"] for s in secs if s.get("scrape_ms") is not None)
            scrape = f"{scr[len(scr) // 2]:.1f} / {scr[-1]:.1f}" if scr else "— (qtui's own)"
            out.append(
                f"| {r['endpoint']} | {r['level']} | {client_name(w['client'])} | {w['round']} "
                f"| {len(held)} | {_mean([s['generation_tps'] for s in held]):.0f} "
                f"| {_rate(span_rate(secs, r['level']))} "
                f"| {_mean([s.get('running') or 0 for s in held]):.0f} "
                f"| {_mean([s.get('waiting') or 0 for s in held]):.0f} | {scrape} |"
            )
    return out


def prefix_table(rows: list[dict[str, Any]]) -> list[str]:
    """Shared-prefix rows (issue 21): each window's prefix-cache hit rate from vLLM's counters
    (hits / queries between the scrapes around it) next to the client's and the server's TTFT."""
    out = [
        "| endpoint | streams | client | round | prefix-cache hits | TTFT p50 | TTFT p95 "
        "| server TTFT p95 | out tok/s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        for w in r.get("windows") or []:
            hit = (w.get("server") or {}).get("prefix_hit_rate")
            if hit is None:
                continue
            res, srv = w.get("result") or {}, w.get("server") or {}
            name = client_name(w["client"])
            tps = res.get("out_tps")
            out.append(
                f"| {r['endpoint']} | {r['level']} | {name} | {w['round']} | {hit * 100:.1f} % | "
                f"{ms(res.get('ttft_p50'))} | {ms(res.get('ttft_p95'))} | "
                f"{ms(srv.get('ttft_p95'))} | {'—' if tps is None else f'{tps:.0f}'} |"
            )
    return out


def nvml_table(roots: list[Path]) -> list[str]:
    out = ["| read at | what | qtui (NVML) MiB | nvidia-smi MiB | diff |", "|---|---|---|---|---|"]
    for root in roots:
        rows = load(root).get("nvml_vs_smi", {}).get("rows", [])
        for row in rows:
            what = (
                f"GPU {row['gpu']} used ({row.get('query')})"
                if row["kind"] == "gpu"
                else f"{row.get('endpoint')} server pid {row['pid']}"
            )
            d = row.get("diff_pct")
            out.append(
                f"| {root.name} | {what} | {row.get('qtui_used_mib') or 0:.0f} | "
                f"{row.get('smi_used_mib') or 0:.0f} | {'—' if d is None else f'{d:.2f} %'} |"
            )
    return out


def main(roots: list[Path]) -> None:
    rows = runs(roots)
    tables = [
        latency_table(rows), client_table(rows), windows_table(rows), paired_table(rows),
        seconds_table(rows),
        prefix_table(rows), nvml_table(roots),
    ]  # fmt: skip
    print("\n\n".join("\n".join(t) for t in tables if len(t) > 2))


if __name__ == "__main__":
    main([Path(a) for a in sys.argv[1:]])
