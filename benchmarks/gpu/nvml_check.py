#!/usr/bin/env python3
"""qtui's NVML readings next to nvidia-smi's, while this process holds GPU memory under load.

Needs only qtui and nvidia-ml-py (memory is held through the CUDA driver API, or torch if asked).

    python benchmarks/gpu/nvml_check.py [--gpu 0] [--alloc-gib 4] [--load-s 5] [--torch]

Exit status 0 when every per-GPU and per-process memory reading is within --tolerance-pct (1 %)
of nvidia-smi and the energy counter advanced under load; 1 otherwise; 2 when no GPU is usable.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from typing import Any

from qtui.evidence.records import GpuSnapshot
from qtui.gpu.binding import EndpointBinding
from qtui.gpu.nvml import NvmlSource

MIB = 1024 * 1024


def smi(query: str, kind: str = "query-gpu") -> list[list[str]]:
    out = subprocess.run(
        ["nvidia-smi", f"--{kind}={query}", "--format=csv,noheader,nounits"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [[c.strip() for c in line.split(",")] for line in out.strip().splitlines() if line]


def pct(ours: float, theirs: float) -> float:
    if theirs == 0:
        return 0.0 if ours == 0 else 100.0
    return abs(ours - theirs) / theirs * 100.0


CHILD = """
import sys
from qtui.gpu.probe import CudaHold
h = CudaHold(int(sys.argv[1]), int(sys.argv[2]))
print("ready", flush=True)
sys.stdin.read()
"""


def hold(args: argparse.Namespace) -> tuple[Any, Any]:
    """(object keeping memory alive, load function taking seconds)."""
    nbytes = int(args.alloc_gib * 1024**3)
    if args.child:  # like a vLLM engine: memory held by a child of the "server" (this process)
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(nbytes), str(args.gpu)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        if child.stdout.readline().strip() != "ready":
            raise SystemExit("child could not allocate GPU memory")
        from qtui.gpu.probe import CudaHold

        loader = CudaHold(64 * MIB, args.gpu)
        return (child, loader), loader.load
    if args.torch:
        import torch

        dev = torch.device(f"cuda:{args.gpu}")
        buf = torch.empty(nbytes, dtype=torch.uint8, device=dev)
        a = torch.randn(8192, 8192, device=dev, dtype=torch.bfloat16)

        def load_torch(seconds: float) -> int:
            n, end = 0, time.monotonic() + seconds
            while time.monotonic() < end:
                for _ in range(20):
                    a @ a
                torch.cuda.synchronize(dev)
                n += 20
            return n

        return (buf, a), load_torch
    from qtui.gpu.probe import CudaHold

    h = CudaHold(nbytes, args.gpu)
    return h, h.load


def compare(snap: GpuSnapshot, gpu: int, tol: float) -> bool:
    ok = True
    rows = {int(r[0]): r for r in smi("index,memory.used,memory.total,power.draw")}
    print(f"{'GPU':>3} {'qtui used MiB':>14} {'smi used MiB':>13} {'diff %':>7}  "
          f"{'qtui total':>10} {'smi total':>9}  reserved MiB  query")  # fmt: skip
    for g in snap.gpus:
        r = rows.get(g.gpu)
        if r is None or g.memory_used is None or g.memory_total is None:
            print(f"{g.gpu:>3} N/A ({g.state}: {g.detail or g.na})")
            ok = False
            continue
        used, total = g.memory_used / MIB, g.memory_total / MIB
        d = pct(used, float(r[1]))
        ok &= d <= tol or g.gpu != gpu
        res = "N/A" if g.memory_reserved is None else f"{g.memory_reserved / MIB:.0f}"
        print(f"{g.gpu:>3} {used:>14.0f} {float(r[1]):>13.0f} {d:>7.2f}  {total:>10.0f} "
              f"{float(r[2]):>9.0f}  {res:>12}  {g.memory_query}")  # fmt: skip
    apps = {int(p): float(m) for p, m in smi("pid,used_memory", "query-compute-apps")}
    print(f"\n{'pid':>8} {'GPU':>3} {'qtui MiB':>9} {'smi MiB':>8} {'diff %':>7}  endpoint")
    me_seen = False
    for p in snap.processes:
        ours = None if p.used_memory is None else p.used_memory / MIB
        theirs = apps.get(p.pid)
        me = " (this process)" if p.pid == os.getpid() else ""
        me = " (child of this process)" if p.endpoint == "nvml_check" and not me else me
        me_seen |= bool(me)
        if ours is None or theirs is None:
            print(f"{p.pid:>8} {p.gpu:>3} {'N/A' if ours is None else f'{ours:.0f}':>9} "
                  f"{'-' if theirs is None else f'{theirs:.0f}':>8}{me}")  # fmt: skip
            ok &= not me
            continue
        d = pct(ours, theirs)
        ok &= d <= tol
        print(f"{p.pid:>8} {p.gpu:>3} {ours:>9.0f} {theirs:>8.0f} {d:>7.2f}  {p.endpoint}{me}")
    if not me_seen:
        print("this process is missing from NVML's compute processes (container pid namespace?)")
        ok = False
    return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("--gpu", type=int, default=0)
    ap.add_argument("--alloc-gib", type=float, default=4.0)
    ap.add_argument("--load-s", type=float, default=5.0)
    ap.add_argument("--tolerance-pct", type=float, default=1.0)
    ap.add_argument("--torch", action="store_true", help="hold memory and load with torch")
    ap.add_argument("--child", action="store_true", help="hold the memory in a child process")
    args = ap.parse_args()

    # This process plays the API server: its children map to endpoint "nvml_check".
    src = NvmlSource([EndpointBinding("nvml_check", pids=frozenset({os.getpid()}))])
    first = src.sample()
    print(f"NVML status: {first.status} {first.detail}".rstrip())
    if first.status not in ("ok", "gpu_lost"):
        return 2
    if shutil.which("nvidia-smi") is None:
        print("nvidia-smi not on PATH: nothing to compare with")
        return 2
    for g in first.gpus:
        print(f"GPU {g.gpu}: {g.name} {g.uuid} memory query {g.memory_query}, "
              f"power limit {g.power_limit_w} W, N/A: {g.na or 'none'}")  # fmt: skip

    keep, load = hold(args)
    print(f"\nholding {args.alloc_gib:g} GiB on GPU {args.gpu} in pid {os.getpid()}\n")
    snap = src.sample()
    ok = compare(snap, args.gpu, args.tolerance_pct)
    if args.child:
        kids = [
            p.pid for p in snap.processes if p.pid != os.getpid() and p.endpoint == "nvml_check"
        ]
        print(f"child processes mapped to endpoint nvml_check by process tree: {kids or 'NONE'}")
        ok &= bool(kids)
    import pynvml

    h = pynvml.nvmlDeviceGetHandleByIndex(args.gpu)
    v1 = pynvml.nvmlDeviceGetMemoryInfo(h)
    print(f"\nv1 memory query on GPU {args.gpu}: used {v1.used / MIB:.0f} MiB "
          "(v1 counts driver-reserved memory as used; qtui shows v2 used + reserved)")  # fmt: skip

    # energy counter across a short load; also time NVML sampling (the 2 Hz sampler's cost).
    before = next(g for g in src.sample().gpus if g.gpu == args.gpu)
    t0 = time.monotonic()
    passes = load(args.load_s)
    t1 = time.monotonic()
    smi_power = float(smi("index,power.draw")[args.gpu][1])
    after = next(g for g in src.sample().gpus if g.gpu == args.gpu)
    lat = []
    for _ in range(20):
        s0 = time.perf_counter()
        src.sample()
        lat.append((time.perf_counter() - s0) * 1000)
    if before.energy_j is None or after.energy_j is None:
        print(f"\nenergy counter N/A: {after.na.get('energy_j')}")
        ok = False
    else:
        dj = after.energy_j - before.energy_j
        print(f"\nenergy counter: {before.energy_j:.3f} J → {after.energy_j:.3f} J, "
              f"+{dj:.1f} J over {t1 - t0:.2f} s of load ({passes} passes) = "
              f"{dj / (t1 - t0):.0f} W average; nvidia-smi power.draw at end {smi_power:.0f} W; "
              f"NVML power {after.power_w} W, util {after.util} %")  # fmt: skip
        advanced = dj > 0
        print(f"energy advanced under load: {'yes' if advanced else 'NO'}")
        ok &= advanced
    print(f"NvmlSource.sample() latency: median {statistics.median(lat):.2f} ms, "
          f"max {max(lat):.2f} ms over {len(lat)} samples, {len(snap.gpus)} GPU(s)")  # fmt: skip
    if args.child:
        child = keep[0]
        child.stdin.close()
        child.wait(timeout=60)
    del keep
    src.close()
    print("\nRESULT:", "PASS" if ok else "FAIL", f"(tolerance {args.tolerance_pct} %)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
