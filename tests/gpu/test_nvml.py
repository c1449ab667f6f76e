"""NvmlSource against a scripted pynvml: version fallbacks, lost GPUs, no driver, no GPU."""

from __future__ import annotations

import sys

import pynvml as real
import pytest

from qtui.evidence.records import gpu_records
from qtui.gpu.binding import EndpointBinding
from qtui.gpu.nvml import NvmlSource

from .fake_nvml import MIB, FakeGpu, FakeNvml

PARENTS = {201: 200, 200: 100, 301: 300}  # engine 201 → 200 → API server 100


def parent_of(pid: int) -> int | None:
    return PARENTS.get(pid)


def two_gpus() -> list[FakeGpu]:
    return [
        FakeGpu(uuid="GPU-a", procs=[(201, 10160 * MIB)]),
        FakeGpu(uuid="GPU-b", used=10032 * MIB, procs=[(301, 10032 * MIB)], energy_mj=5_000_000),
    ]


def test_v2_memory_query_reports_reserved_separately() -> None:
    fake = FakeNvml([FakeGpu()])
    snap = NvmlSource(nvml=fake).sample()  # type: ignore[arg-type]
    assert snap.status == "ok"
    g = snap.gpus[0]
    assert g.memory_query == "v2"
    assert g.memory_used == 20207 * MIB
    assert g.memory_reserved == 540 * MIB
    assert g.memory_total == 81559 * MIB
    assert g.power_w == pytest.approx(118.17)
    assert g.energy_j == pytest.approx(1000.0)
    assert g.power_limit_w == pytest.approx(700.0)
    assert (g.sm_clock_mhz, g.mem_clock_mhz, g.temperature_c) == (1980, 2619, 35)


def test_falls_back_to_v1_memory_and_says_so_once() -> None:
    fake = FakeNvml([FakeGpu()], memory_v2=False)
    src = NvmlSource(nvml=fake)  # type: ignore[arg-type]
    g = src.sample().gpus[0]
    assert g.memory_query == "v1"
    assert g.memory_reserved is None
    assert "v1 counts reserved memory as used" in g.na["memory_reserved"]
    assert g.memory_used == (20207 + 540) * MIB  # v1 includes reserved
    src.sample()
    assert fake.calls["memory_v2"] == 1  # the fallback decision is cached


def test_lost_gpu_mid_run_is_marked_and_others_keep_being_sampled() -> None:
    gpus = two_gpus()
    fake = FakeNvml(gpus)
    src = NvmlSource(nvml=fake)  # type: ignore[arg-type]
    assert src.sample().status == "ok"
    gpus[1].lost = True
    gpus[0].energy_mj = 1_250_000
    snap = src.sample()
    assert snap.status == "gpu_lost"
    assert "GPU 1 lost" in snap.detail
    ok, lost = snap.gpus
    assert (ok.state, lost.state) == ("ok", "lost")
    assert ok.energy_j == pytest.approx(1250.0)
    assert lost.memory_used is None and "GPU is lost" in lost.detail
    assert lost.uuid == "GPU-b"  # cached identity survives the loss
    calls_before = fake.handle_calls[1]
    again = src.sample()
    assert again.gpus[1].state == "lost"
    assert fake.handle_calls[1] == calls_before  # a lost GPU is not queried again
    records = gpu_records(again)
    assert [r["state"] for r in records] == ["ok", "lost"]
    assert records[1]["memory_used"] is None and records[1]["detail"]


def test_gpu_lost_before_start_is_reported() -> None:
    gpus = two_gpus()
    gpus[0].lost = True
    snap = NvmlSource(nvml=FakeNvml(gpus)).sample()  # type: ignore[arg-type]
    assert snap.status == "gpu_lost"
    assert [g.state for g in snap.gpus] == ["lost", "ok"]


@pytest.mark.parametrize(
    ("code", "needle"),
    [
        (real.NVML_ERROR_LIBRARY_NOT_FOUND, "no NVIDIA driver on this machine"),
        (real.NVML_ERROR_DRIVER_NOT_LOADED, "kernel driver is not loaded"),
    ],
)
def test_no_driver_is_a_status_not_an_exception(code: int, needle: str) -> None:
    src = NvmlSource(nvml=FakeNvml([], init_error=code))  # type: ignore[arg-type]
    snap = src.sample()
    assert snap.status == "no_driver"
    assert needle in snap.detail
    assert snap.gpus == ()
    [record] = gpu_records(snap)
    assert record["state"] == "no_driver" and record["gpu"] is None
    src.close()


def test_permission_problem_is_an_error_status() -> None:
    snap = NvmlSource(nvml=FakeNvml([], init_error=real.NVML_ERROR_NO_PERMISSION)).sample()  # type: ignore[arg-type]
    assert snap.status == "error"
    assert "permission" in snap.detail


def test_nvml_without_gpus() -> None:
    snap = NvmlSource(nvml=FakeNvml([])).sample()  # type: ignore[arg-type]
    assert snap.status == "no_gpu"
    assert "no GPU" in snap.detail


def test_unsupported_query_is_na_with_reason_not_zero() -> None:
    fake = FakeNvml([FakeGpu(unsupported={"energy", "power"})])
    g = NvmlSource(nvml=fake).sample().gpus[0]  # type: ignore[arg-type]
    assert g.energy_j is None and g.power_w is None
    assert g.na["energy_j"] == "Not Supported"
    assert g.memory_used == 20207 * MIB  # the rest still sampled


def test_process_query_falls_back_v3_to_v2_and_maps_by_process_tree() -> None:
    fake = FakeNvml(two_gpus(), process_versions=("v2",))
    bindings = [
        EndpointBinding("bf16", pids=frozenset({100})),
        EndpointBinding("fp8", gpu_indices=(1,)),
    ]
    src = NvmlSource(bindings, nvml=fake, parent_of=parent_of)  # type: ignore[arg-type]
    snap = src.sample()
    by_pid = {p.pid: p for p in snap.processes}
    assert by_pid[201].endpoint == "bf16"  # engine child of the API server pid
    assert by_pid[201].used_memory == 10160 * MIB
    assert by_pid[301].endpoint == "fp8"  # unknown tree: the GPU index the profile names
    assert [g.endpoint for g in snap.gpus] == ["bf16", "fp8"]
    src.sample()
    assert fake.calls["procs_v3"] == 1  # v3 tried once, then the working version is kept


def test_process_query_with_only_v1() -> None:
    fake = FakeNvml([FakeGpu(procs=[(7, None)])], process_versions=("v1",))
    snap = NvmlSource(nvml=fake).sample()  # type: ignore[arg-type]
    [p] = snap.processes
    assert p.pid == 7 and p.used_memory is None  # driver could not say: N/A, not 0


def test_slow_fields_are_cached() -> None:
    fake = FakeNvml(two_gpus())
    src = NvmlSource(nvml=fake)  # type: ignore[arg-type]
    for _ in range(3):
        src.sample()
    assert fake.calls["name"] == 2 and fake.calls["uuid"] == 2 and fake.calls["power_limit"] == 2
    assert fake.calls["memory"] == 6
    src.close()
    assert fake.shutdowns == 1


def test_default_import_uses_pynvml_module(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", FakeNvml([FakeGpu(uuid="GPU-z")]))
    snap = NvmlSource().sample()
    assert snap.gpus[0].uuid == "GPU-z"


def test_missing_binding_is_no_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import raises ImportError
    snap = NvmlSource().sample()
    assert snap.status == "no_driver"
    assert "nvidia-ml-py" in snap.detail
