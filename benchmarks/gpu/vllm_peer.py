#!/usr/bin/env python3
"""qtui's client against `vllm bench serve` on the same vLLM servers, at the same load.

Starts the profile's servers with qtui's own --launch code (or, with --attach STATE, uses the
ones benchmarks/gpu/hold.py keeps up across device calls), then for each endpoint and level:
qtui bench alone on that endpoint (closed loop, N streams, fixed input/output lengths), then
`vllm bench serve` with the same streams, lengths and number of requests. Around each of the two
runs it scrapes /metrics, so vLLM's own histograms give a third, server-side estimate. Also
compares qtui's NVML readings with nvidia-smi while the servers are up. Writes peer.json.
With --repeat N each row runs N rounds of alternating windows (qtui then peer, peer then qtui,
...) and the peer is vLLM's bench imported once (peer_worker.py), so short windows stay cheap.
Each row starts with an unmeasured peer run of two waves at its level (--no-warmup: none), and
every window sends prompts no earlier window sent (qtui's run nonce, a new --seed for the peer):
a prefix cache kept from the last window flatters neither client. During a peer window a thread
scrapes /metrics once a second, as qtui's own scraper does in its windows: both windows carry the
same observer load, and both get the server's per-second view (`seconds` in each window: running,
waiting, generation tok/s by vLLM's counter; the peer's also the scrape's own ms).
--qtui-processes auto 1 runs qtui twice per round, chosen processes and one process.

    python benchmarks/gpu/vllm_peer.py PROFILE --out DIR [--level 32] [--extra bf16:128]
        [--row fp8:32 ...] [--attach STATE] [--duration 60] [--repeat 3]
        [--vllm "python3 -m vllm.entrypoints.cli.main"] [--tokenizer /root/smol]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import secrets
import shlex
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import tomli_w

from qtui.commands import bench
from qtui.config.load import load_model
from qtui.config.profile import Profile
from qtui.gpu.binding import EndpointBinding
from qtui.gpu.nvml import NvmlSource
from qtui.launch.vllm import launch_servers
from qtui.metrics.vllm import (
    VllmSnapshot,
    parse_vllm,
    prefix_cache_hit_rate,
    server_second,
    window_quantiles,
)

MIB = 1024 * 1024
DRAINED_CAP_S = 600.0  # a --drained qtui window's duration: only a cap, its requests end it


# the host's TCP counters that say whether connections waited at the server's listen queue:
# a full accept queue drops SYNs, and the client resends them after 1, 3, 7 s (the slow ramps of
# qtui's windows at 512 streams, results/h200-2026-12-04b.md, put TTFTs there)
TCP_KEYS = ("ListenOverflows", "ListenDrops", "TCPSynRetrans", "TCPReqQFullDrop",
            "TCPReqQFullDoCookies", "TCPAbortOnClose")  # fmt: skip


def tcp_counters() -> dict[str, int]:
    """TcpExt counters of /proc/net/netstat (TCP_KEYS; empty where it cannot be read)."""
    try:
        lines = Path("/proc/net/netstat").read_text().splitlines()
    except OSError:
        return {}
    for names, values in zip(lines[::2], lines[1::2], strict=False):
        if names.startswith("TcpExt:"):
            row = dict(zip(names.split()[1:], values.split()[1:], strict=False))
            return {k: int(row[k]) for k in TCP_KEYS if k in row}
    return {}


def scrape(url: str) -> VllmSnapshot:
    return parse_vllm(httpx.get(f"{url}/metrics", timeout=10).text, time.time())


def hist(a: VllmSnapshot, b: VllmSnapshot) -> dict[str, Any]:
    """Server-side p50/p95 (s) of what happened between two scrapes, plus token/request counts."""
    out: dict[str, Any] = {}
    for key in ("ttft", "itl", "tpot", "e2e"):
        p50, p95 = window_quantiles(a, b, key)
        out[f"{key}_p50"], out[f"{key}_p95"] = p50, p95
    gen = (b.generation_tokens or 0) - (a.generation_tokens or 0)
    out["generation_tokens"] = gen
    out["prefix_hit_rate"] = prefix_cache_hit_rate(a, b)  # hits / queries over the window
    out["requests"] = sum(b.request_success.values()) - sum(a.request_success.values())
    return out


class Sampler:
    """Scrapes ``url``/metrics once a second on a thread while a peer window runs."""

    def __init__(self, url: str, name: str) -> None:
        self.url, self.name = f"{url}/metrics", name
        self.seconds: list[dict[str, Any]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        last: VllmSnapshot | None = None
        with httpx.Client(timeout=5.0) as http:
            nxt = time.time()
            while not self._stop.is_set():
                t0 = time.perf_counter()
                try:
                    text = http.get(self.url).text
                except httpx.HTTPError as exc:
                    self.seconds.append({"t": time.time(), "error": type(exc).__name__})
                else:
                    ms = (time.perf_counter() - t0) * 1e3
                    snap = parse_vllm(text, time.time(), self.url)
                    row = second_row(server_second(self.name, last, snap).to_dict())
                    self.seconds.append({**row, "scrape_ms": round(ms, 2)})
                    last = snap
                nxt += 1.0
                self._stop.wait(max(0.0, nxt - time.time()))


SECOND_KEYS = ("t", "running", "waiting", "generation_tps", "prompt_tps", "kv_cache_usage")


def second_row(d: dict[str, Any]) -> dict[str, Any]:
    return {k: d.get(k) for k in SECOND_KEYS}


CLIENT_KEYS = ("in_flight", "backing_off", "out_tps", "error_rate")


def read_seconds(path: Path, keys: tuple[str, ...]) -> list[dict[str, Any]]:
    """One of qtui's per-second CSVs (a run directory's server_seconds.csv or
    client_seconds.csv), the named columns as floats; [] when the run wrote none."""
    if not path.exists():
        return []
    with path.open() as f:
        return [{k: float(r[k]) if r.get(k) else None for k in keys} for r in csv.DictReader(f)]


def one_endpoint_profile(
    prof: Profile, name: str, url: str, level: int, dur: float, processes: int | None = None,
    requests: int | None = None,
) -> dict:  # fmt: skip
    """The profile reduced to one endpoint at `url`, closed loop at `level` streams; with
    ``requests``, that many sent and all waited for (``dur`` is then only a cap), as the peer."""
    data = prof.model_dump(mode="json", exclude_none=True)
    ep = next(e for e in data["endpoints"] if e["name"] == name)
    ep.pop("launch", None)
    ep["url"] = url
    data["endpoints"] = [ep]
    data["profile"]["baseline"] = name
    data["workload"].pop("golden_set", None)
    data["load"].update(mode="concurrency", concurrency=level, duration_s=dur, warmup_s=0)
    if requests:
        data["load"]["max_requests"] = requests
    if processes:
        data["load"]["processes"] = processes
    return data


def pick(d: dict[str, Any] | None, metric: str, p: int) -> float | None:
    if not d:
        return None
    if f"{metric}_p{p}" in d:
        return d[f"{metric}_p{p}"]
    return (d.get(metric) or {}).get(f"p{p}")


def run_qtui(
    prof: Profile, profile_path: Path, name: str, url: str, level: int, dur: float, out: Path,
    tag: str = "", processes: int | None = None, requests: int | None = None,
) -> dict[str, Any]:  # fmt: skip
    path = out / f"{name}-c{level}.toml"
    doc = one_endpoint_profile(prof, name, url, level, dur, processes, requests)
    path.write_text(tomli_w.dumps(doc))
    golden = profile_path.parent / "golden"
    if golden.is_dir() and not (out / "golden").exists():
        shutil.copytree(golden, out / "golden")
    t0 = time.time()
    run_dir = out / f"qtui-{name}-c{level}{tag}"
    summary = bench.run(path, out=run_dir, show_progress=False)
    ep = summary["endpoints"][name]
    s = ep["summary"] or {}
    return {
        "wall_s": time.time() - t0,
        "requests": s.get("requests"),
        "duration_s": s.get("duration_s"),
        "out_tps": s.get("out_tps"),
        "completion_tokens": s.get("completion_tokens"),
        # a slow ramp (some windows at 512 streams took 4-6 s to reach the level) is either
        # requests that failed and backed off or requests the server was slow to take
        "errors": s.get("errors"), "cancelled": s.get("cancelled"),
        "ttft_p50": pick(s, "ttft", 50), "ttft_p95": pick(s, "ttft", 95),
        "itl_p50": pick(s, "itl", 50), "itl_p95": pick(s, "itl", 95),
        "tpot_p50": pick(s, "tpot", 50), "tpot_p95": pick(s, "tpot", 95),
        "client_bound": ep.get("client_bound"),
        "client_bound_seconds": ep.get("client_bound_seconds"),
        "client_health": summary.get("client_health"),
        "processes": summary.get("load_processes") or processes,
        # the server's view of the window, and qtui's own (streams in flight and backing off:
        # whether a slow ramp in the server's view was qtui's)
        "seconds": read_seconds(run_dir / "server_seconds.csv", SECOND_KEYS),
        "client_seconds": read_seconds(run_dir / "client_seconds.csv", CLIENT_KEYS),
    }  # fmt: skip


def peer_argv(
    url: str, served: str, tokenizer: str, prof: Profile, level: int, prompts: int, out: Path,
    tag: str, seed: int = 0,
) -> list[str]:  # fmt: skip
    """The arguments after `vllm bench serve` for the same load and request body as qtui's.

    ``seed`` draws the prompts: a new one each window, as qtui's run nonce gives each of its
    runs new prompts (with vLLM's default seed 0 every window re-sent the last one's prompts
    and read them from the prefix cache: 75 % hits in h200-2026-12-02c's second peer windows)."""
    return [
        "--backend", "vllm", "--base-url", url, "--seed", str(seed),
        "--endpoint", "/v1/completions", "--model", served, "--tokenizer", tokenizer,
        *dataset_argv(prof),
        "--num-prompts", str(prompts), "--max-concurrency", str(level), "--ignore-eos",
        # the same request body as qtui's to vLLM: greedy (without --temperature vLLM bench
        # leaves sampling to the server's default) and ignore_eos alone, which runs every
        # request to its max_tokens (qtui adds min_tokens only for servers that may not honour
        # it; until 2026-12-04 both sent min_tokens for fixed lengths)
        "--temperature", "0",
        "--percentile-metrics", "ttft,tpot,itl,e2el", "--metric-percentiles", "50,95",
        "--save-result", "--result-dir", str(out), "--result-filename", f"{tag}.json",
    ]  # fmt: skip


def dataset_argv(prof: Profile) -> list[str]:
    """vLLM 0.26's dataset for the profile's workload: `random` (fixed lengths), or with
    shared prefixes `prefix_repetition` (K prefixes of P tokens, a suffix of the input length:
    qtui's `prefix_count` / `prefix_tokens`; vLLM 0.26 vllm/benchmarks/datasets/datasets.py)."""
    w = prof.workload
    if w.prefix_count and w.prefix_tokens:
        return [
            "--dataset-name", "prefix_repetition",
            "--prefix-repetition-prefix-len", str(w.prefix_tokens),
            "--prefix-repetition-suffix-len", str(w.input_tokens.mean),
            "--prefix-repetition-num-prefixes", str(w.prefix_count),
            "--prefix-repetition-output-len", str(w.output_tokens.mean),
        ]  # fmt: skip
    return [
        "--dataset-name", "random",
        "--random-input-len", str(w.input_tokens.mean),
        "--random-output-len", str(w.output_tokens.mean),
        *range_argv(prof),
    ]  # fmt: skip


def range_argv(prof: Profile) -> list[str]:
    """Uniform lengths (qtui: mean × [1 − spread, 1 + spread]) as vLLM's `--random-range-ratio`,
    which samples input and output lengths from the same range: one spread for both, or none."""
    i, o = prof.workload.input_tokens, prof.workload.output_tokens
    spreads = {d.spread if d.dist == "uniform" else 0.0 for d in (i, o)}
    if spreads == {0.0}:
        return []
    if len(spreads) > 1:
        raise SystemExit("vllm bench serve has one --random-range-ratio: give input and output"
                         " tokens the same uniform spread")  # fmt: skip
    return ["--random-range-ratio", f"{spreads.pop():g}"]


class PeerWorker:
    """benchmarks/gpu/peer_worker.py: `vllm bench serve` imported once, run once per window."""

    def __init__(self) -> None:
        here = Path(__file__).with_name("peer_worker.py")
        self.proc = subprocess.Popen(
            [sys.executable, str(here)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        if self.proc.stdout.readline().strip() != "ready":
            raise SystemExit("peer_worker.py did not start (vLLM not importable?)")

    def run(self, argv: list[str]) -> int:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(argv) + "\n")
        self.proc.stdin.flush()
        answer = json.loads(self.proc.stdout.readline() or '{"rc": 1, "error": "worker died"}')
        if answer.get("error"):
            print(f"peer: {answer['error']}", flush=True)
        return int(answer["rc"])

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=30)


def run_peer(
    vllm: list[str] | PeerWorker, url: str, served: str, tokenizer: str, prof: Profile,
    level: int, prompts: int, out: Path, tag: str,
) -> dict[str, Any]:  # fmt: skip
    seed = secrets.randbits(31)
    argv = peer_argv(url, served, tokenizer, prof, level, prompts, out, tag, seed)
    t0 = time.time()
    if isinstance(vllm, PeerWorker):
        cmd, rc = ["vllm", "bench", "serve", *argv], vllm.run(argv)
    else:
        cmd = [*vllm, "bench", "serve", *argv]
        with (out / f"{tag}.log").open("w") as log:
            rc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT).returncode
    res: dict[str, Any] = {
        "rc": rc, "wall_s": time.time() - t0, "command": shlex.join(cmd), "seed": seed,
    }  # fmt: skip
    path = out / f"{tag}.json"
    if path.exists():
        raw = json.loads(path.read_text())
        ms = 1e-3
        res.update(
            requests=raw.get("completed"),
            duration_s=raw.get("duration"),
            out_tps=raw.get("output_throughput"),
            completion_tokens=raw.get("total_output_tokens"),
            ttft_p50=_ms(raw, "median_ttft_ms", ms), ttft_p95=_ms(raw, "p95_ttft_ms", ms),
            itl_p50=_ms(raw, "median_itl_ms", ms), itl_p95=_ms(raw, "p95_itl_ms", ms),
            tpot_p50=_ms(raw, "median_tpot_ms", ms), tpot_p95=_ms(raw, "p95_tpot_ms", ms),
        )  # fmt: skip
    return res


def _ms(raw: dict[str, Any], key: str, scale: float) -> float | None:
    v = raw.get(key)
    return None if v is None else float(v) * scale


def smi(query: str, kind: str = "query-gpu") -> list[list[str]]:
    out = subprocess.run(
        ["nvidia-smi", f"--{kind}={query}", "--format=csv,noheader,nounits"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return [[c.strip() for c in ln.split(",")] for ln in out.strip().splitlines() if ln]


def nvml_vs_smi(pids: dict[str, int]) -> dict[str, Any]:
    """qtui's NvmlSource (servers bound by pid) next to nvidia-smi, read back to back."""
    if shutil.which("nvidia-smi") is None:
        return {"status": "no nvidia-smi"}
    src = NvmlSource([EndpointBinding(n, frozenset({p})) for n, p in pids.items()])
    snap = src.sample()
    gpus = {int(r[0]): r for r in smi("index,memory.used,memory.total")}
    apps = {int(p): float(m) for p, m in smi("pid,used_memory", "query-compute-apps")}
    rows: list[dict[str, Any]] = []
    for g in snap.gpus:
        r = gpus.get(g.gpu)
        rows.append({
            "kind": "gpu", "gpu": g.gpu, "query": g.memory_query,
            "qtui_used_mib": None if g.memory_used is None else g.memory_used / MIB,
            "qtui_reserved_mib": None if g.memory_reserved is None else g.memory_reserved / MIB,
            "smi_used_mib": None if r is None else float(r[1]),
            "qtui_total_mib": None if g.memory_total is None else g.memory_total / MIB,
            "smi_total_mib": None if r is None else float(r[2]),
        })  # fmt: skip
    for p in snap.processes:
        rows.append({
            "kind": "process", "pid": p.pid, "gpu": p.gpu, "endpoint": p.endpoint,
            "qtui_used_mib": None if p.used_memory is None else p.used_memory / MIB,
            "smi_used_mib": apps.get(p.pid),
        })  # fmt: skip
    for row in rows:
        a, b = row.get("qtui_used_mib"), row.get("smi_used_mib")
        row["diff_pct"] = None if a is None or not b else abs(a - b) / b * 100
    src.close()
    return {"status": snap.status, "rows": rows}


@contextlib.contextmanager
def servers(prof: Profile, out: Path, attach: Path | None) -> Iterator[dict[str, tuple[str, int]]]:
    """name → (url, pid): servers started here by qtui's launch code, or hold.py's (--attach)."""
    if attach is None:
        with launch_servers(prof, out / "logs") as procs:
            yield {p.spec.name: (p.url, p.proc.pid) for p in procs}
        return
    deadline = time.monotonic() + float(os.environ.get("HOLD_WAIT_S", "600"))
    while True:  # hold.py may still be compiling; it writes ready once every server is healthy
        doc = json.loads(attach.read_text()) if attach.exists() else {}
        if doc.get("ready"):
            break
        if doc.get("stopped") or time.monotonic() > deadline:
            raise SystemExit(f"{attach}: servers not ready ({doc.get('error') or 'timed out'})")
        time.sleep(2)
    for n, s in doc["servers"].items():
        if "failed" in s:
            print(f"peer: {n} is not up: {s['failed']}", flush=True)
    yield {n: (s["url"], s["pid"]) for n, s in doc["servers"].items() if "failed" not in s}


def compare(
    args: argparse.Namespace, prof: Profile, peer: list[str] | PeerWorker, name: str, url: str,
    served: str, level: int, doc: dict[str, Any],
) -> dict[str, Any]:  # fmt: skip
    """qtui and the peer on one endpoint, in alternating windows (q p, p q, q p, ...).

    The server's own throughput moves between back-to-back windows (synchronised 256-token
    waves), so one window per client can differ by several percent for reasons of the server's;
    alternating the order and repeating gives each client windows at the same points in time.
    """
    row: dict[str, Any] = {"endpoint": name, "level": level, "windows": []}
    doc["runs"].append(row)
    if args.warmup:  # one unmeasured wave at this level first: no client gets its first contact
        row["warmup"] = run_peer(
            peer, url, served, args.tokenizer, prof, level, 2 * level, args.out,
            f"vllm-bench-{name}-c{level}-warmup",
        )  # fmt: skip
    # --drained W: both clients send W waves of requests and wait for every one (the peer's
    # definition of a run), so no stream is cut and no token of qtui's is estimated
    prompts = args.drained * level if args.drained else 0
    if prompts:
        row["prompts"] = prompts
    variants = {"qtui" if p == "auto" else f"qtui-p{p}": p for p in args.qtui_processes}
    order = [*variants, "peer", *(["peer-bare"] if args.peer_bare else [])]
    for rnd in range(args.repeat):
        for client in order if rnd % 2 == 0 else order[::-1]:
            tag = f"-r{rnd}" if args.repeat > 1 else ""
            before, tcp = scrape(url), tcp_counters()
            if client in variants:
                p = variants[client]
                tag += "" if p == "auto" else f"-p{p}"
                res = run_qtui(
                    prof, args.profile, name, url, level,
                    DRAINED_CAP_S if args.drained else args.duration, args.out, tag,
                    None if p == "auto" else int(p), prompts if args.drained else None,
                )  # fmt: skip
                if not prompts:  # the peer sends as many requests as qtui completed
                    prompts = max(level, round((res["requests"] or level) / level) * level)
                    # prefix_repetition sends num_prompts // K per prefix: a multiple of K
                    k = prof.workload.prefix_count or 1
                    prompts = max(k, prompts // k * k)
                    row["prompts"] = prompts
            else:  # the peer; "peer-bare": the same run with nobody scraping /metrics
                bare = client == "peer-bare"
                observer = contextlib.nullcontext() if bare else Sampler(url, name)
                with observer as sampler:
                    res = run_peer(
                        peer, url, served, args.tokenizer, prof, level, prompts, args.out,
                        f"vllm-bench-{name}-c{level}{tag}{'-bare' if bare else ''}",
                    )  # fmt: skip
                if sampler is not None:
                    res["seconds"] = sampler.seconds
            server = hist(before, scrape(url))
            tcp_after = tcp_counters()
            res["tcp"] = {k: tcp_after[k] - tcp[k] for k in tcp_after if k in tcp}
            row["windows"].append({"client": client, "round": rnd, "result": res, "server": server})
            if rnd == 0:  # the first pair, as before, for peer_table.py's per-row tables
                row[client] = res
                row[f"server_hist_{client}_window"] = server
            (args.out / "peer.json").write_text(json.dumps(doc, indent=1, default=str))
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("profile", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--level", type=int, default=32, help="streams for every endpoint")
    ap.add_argument("--extra", action="append", default=[], help="NAME:LEVEL, more runs")
    ap.add_argument("--duration", type=float, default=15.0, help="qtui's seconds per run")
    ap.add_argument("--vllm", default="python3 -m vllm.entrypoints.cli.main")
    ap.add_argument("--tokenizer", default="/root/smol")
    ap.add_argument("--row", action="append", default=[], help="NAME:LEVEL; replaces --level")
    ap.add_argument("--attach", type=Path, help="hold.py's state file: use its servers")
    ap.add_argument("--session", action="store_true", help="first qtui bench --quality on all")
    ap.add_argument("--repeat", type=int, default=1, help="rounds of alternating windows per row")
    ap.add_argument(
        "--peer-bare",
        action="store_true",
        help="also run the peer with nobody scraping /metrics (what its window costs the server)",
    )
    ap.add_argument(
        "--qtui-processes",
        nargs="+",
        default=["auto"],
        help="qtui variants per round: 'auto' (qtui's chooser) and/or process counts",
    )
    ap.add_argument(
        "--drained",
        type=int,
        default=0,
        metavar="W",
        help="qtui too sends W × streams requests and waits for all, as the peer (no cut window)",
    )
    ap.add_argument(
        "--no-warmup",
        dest="warmup",
        action="store_false",
        help="no unmeasured peer run (2 waves) at each row's level before its windows",
    )
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    prof = load_model(args.profile, Profile)
    runs = [(e.name, args.level) for e in prof.endpoints if e.launch is not None]
    runs += [(n, int(lv)) for n, lv in (x.split(":") for x in args.extra)]
    if args.row:
        runs = [(n, int(lv)) for n, lv in (x.split(":") for x in args.row)]
    doc: dict[str, Any] = {"profile": str(args.profile), "runs": [], "started": time.time()}
    with contextlib.suppress(OSError, ValueError):  # the listen backlog the kernel allows
        doc["somaxconn"] = int(Path("/proc/sys/net/core/somaxconn").read_text())
    with servers(prof, args.out, args.attach) as up:
        urls = {n: u for n, (u, _) in up.items()}
        doc["nvml_vs_smi"] = nvml_vs_smi({n: pid for n, (_, pid) in up.items()})
        print(json.dumps(doc["nvml_vs_smi"], indent=1), flush=True)
        (args.out / "peer.json").write_text(json.dumps(doc, indent=1, default=str))
        if args.session:  # all endpoints at once: sweep + golden set, recorded as a session
            bench.run(args.profile, out=args.out / "session", quality=True, endpoint_urls=urls,
                      show_progress=False)  # fmt: skip
        peer: list[str] | PeerWorker = shlex.split(args.vllm)
        if args.repeat > 1:
            peer = PeerWorker()  # imports vLLM once (25-50 s), not once per window
        for name, level in runs:
            if name not in urls:
                continue
            ep = next(e for e in prof.endpoints if e.name == name)
            row = compare(args, prof, peer, name, urls[name], ep.model or name, level, doc)
            print(json.dumps(row, default=str), flush=True)
        if isinstance(peer, PeerWorker):
            peer.close()
    doc["ended"] = time.time()
    (args.out / "peer.json").write_text(json.dumps(doc, indent=1, default=str))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
