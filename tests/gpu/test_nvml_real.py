"""Real NVML: where no GPU is present, say so; on a GPU, agree with nvidia-smi within 1 %."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator

import pytest

from qtui.evidence.records import GpuSnapshot
from qtui.gpu.nvml import NvmlSource

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def nvml() -> Iterator[tuple[NvmlSource, GpuSnapshot]]:
    src = NvmlSource()
    snap = src.sample()
    yield src, snap
    src.close()


def test_real_nvml_reports_a_distinct_state(nvml: tuple[NvmlSource, GpuSnapshot]) -> None:
    # Runs everywhere: here without a driver it must be "no_driver" with a reason, not a crash.
    _, snap = nvml
    assert snap.status in ("ok", "gpu_lost", "no_driver", "no_gpu", "error")
    if snap.status != "ok":
        assert snap.detail and snap.gpus == ()


def smi(query: str, kind: str = "query-gpu") -> list[list[str]]:
    out = subprocess.run(
        ["nvidia-smi", f"--{kind}={query}", "--format=csv,noheader,nounits"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [[c.strip() for c in line.split(",")] for line in out.strip().splitlines()]


@pytest.mark.gpu
def test_matches_nvidia_smi_while_holding_memory(nvml: tuple[NvmlSource, GpuSnapshot]) -> None:
    src, snap = nvml
    if snap.status != "ok":
        pytest.skip(f"no usable NVIDIA GPU here: {snap.status}: {snap.detail}")
    if shutil.which("nvidia-smi") is None:
        pytest.skip("nvidia-smi not on PATH")
    try:
        import torch

        buf = torch.empty(2 * 1024**3, dtype=torch.uint8, device="cuda:0")
        buf.fill_(1)
        a = torch.randn(4096, 4096, device="cuda:0")

        def load() -> None:
            for _ in range(400):
                a @ a
            torch.cuda.synchronize()
    except ImportError:
        from qtui.gpu.probe import CudaError, CudaHold

        try:
            hold = CudaHold(2 * 1024**3, 0)
        except CudaError as exc:
            pytest.skip(f"cannot allocate GPU memory without torch: {exc}")

        def load() -> None:
            hold.load(2.0)

    now = src.sample()
    g0 = next(g for g in now.gpus if g.gpu == 0)
    smi_used = float(next(r for r in smi("index,memory.used") if r[0] == "0")[1])
    assert g0.memory_used is not None
    assert abs(g0.memory_used / MIB - smi_used) <= 0.01 * smi_used
    apps = {int(pid): float(mem) for pid, mem in smi("pid,used_memory", "query-compute-apps")}
    mine = [p for p in now.processes if p.pid == os.getpid()]
    if not mine:
        pytest.skip("this process is not in NVML's process list (pid namespace)")
    assert mine[0].used_memory is not None and os.getpid() in apps
    assert abs(mine[0].used_memory / MIB - apps[os.getpid()]) <= 0.01 * apps[os.getpid()]
    assert mine[0].used_memory >= 2 * 1024**3  # the allocation is really counted

    before = g0.energy_j
    load()
    after = next(g for g in src.sample().gpus if g.gpu == 0).energy_j
    assert before is not None and after is not None and after > before
