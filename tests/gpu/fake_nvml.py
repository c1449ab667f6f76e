"""A stand-in for the pynvml module: real pynvml error classes and constants, scripted GPUs."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from types import SimpleNamespace

import pynvml as real

MIB = 1024 * 1024


@dataclass
class FakeGpu:
    name: str = "NVIDIA H100 80GB HBM3"
    uuid: str = "GPU-00000000-0000-0000-0000-000000000000"
    total: int = 81559 * MIB
    used: int = 20207 * MIB  # excluding reserved (the v2 meaning)
    reserved: int = 540 * MIB
    procs: list[tuple[int, int | None]] = field(default_factory=list)
    energy_mj: int = 1_000_000
    power_mw: int = 118_170
    util: int = 0
    temp: int = 35
    sm_mhz: int = 1980
    mem_mhz: int = 2619
    power_limit_mw: int = 700_000
    lost: bool = False
    unsupported: set[str] = field(default_factory=set)  # query names answering NOT_SUPPORTED


class FakeNvml:
    """Duck-typed pynvml: what NvmlSource calls, with call counting and failure switches."""

    NVMLError = real.NVMLError
    NVMLLibraryMismatchError = real.NVMLLibraryMismatchError
    nvmlMemory_v2 = real.nvmlMemory_v2
    NVML_TEMPERATURE_GPU = real.NVML_TEMPERATURE_GPU
    NVML_CLOCK_SM = real.NVML_CLOCK_SM
    NVML_CLOCK_MEM = real.NVML_CLOCK_MEM

    def __init__(
        self,
        gpus: list[FakeGpu],
        *,
        init_error: int | None = None,
        memory_v2: bool = True,
        process_versions: tuple[str, ...] = ("v3", "v2"),
    ) -> None:
        self.gpus = gpus
        self.init_error = init_error
        self.memory_v2 = memory_v2
        self.process_versions = process_versions
        self.calls: Counter[str] = Counter()
        self.handle_calls: Counter[int] = Counter()
        self.shutdowns = 0

    def __getattr__(self, name: str) -> object:  # NVML_ERROR_* constants from the real binding
        if name.startswith("NVML_ERROR_"):
            return getattr(real, name)
        raise AttributeError(name)

    def _dev(self, handle: int, query: str) -> FakeGpu:
        self.calls[query] += 1
        self.handle_calls[handle] += 1
        g = self.gpus[handle]
        if g.lost:
            raise real.NVMLError(real.NVML_ERROR_GPU_IS_LOST)
        if query in g.unsupported:
            raise real.NVMLError(real.NVML_ERROR_NOT_SUPPORTED)
        return g

    def nvmlInit(self) -> None:
        if self.init_error is not None:
            raise real.NVMLError(self.init_error)

    def nvmlShutdown(self) -> None:
        self.shutdowns += 1

    def nvmlDeviceGetCount(self) -> int:
        return len(self.gpus)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> int:
        self._dev(index, "handle")
        return index

    def nvmlDeviceGetName(self, h: int) -> str:
        return self._dev(h, "name").name

    def nvmlDeviceGetUUID(self, h: int) -> str:
        return self._dev(h, "uuid").uuid

    def nvmlDeviceGetEnforcedPowerLimit(self, h: int) -> int:
        return self._dev(h, "power_limit").power_limit_mw

    def nvmlDeviceGetMemoryInfo(self, h: int, version: int | None = None) -> SimpleNamespace:
        if version:
            self.calls["memory_v2"] += 1
            if not self.memory_v2:
                raise real.NVMLError(real.NVML_ERROR_FUNCTION_NOT_FOUND)
            g = self._dev(h, "memory")
            free = g.total - g.used - g.reserved
            return SimpleNamespace(
                version=version, total=g.total, reserved=g.reserved, free=free, used=g.used
            )
        g = self._dev(h, "memory")
        # v1 reports reserved memory as used.
        return SimpleNamespace(
            total=g.total, free=g.total - g.used - g.reserved, used=g.used + g.reserved
        )

    def nvmlDeviceGetUtilizationRates(self, h: int) -> SimpleNamespace:
        return SimpleNamespace(gpu=self._dev(h, "util").util, memory=0)

    def nvmlDeviceGetPowerUsage(self, h: int) -> int:
        return self._dev(h, "power").power_mw

    def nvmlDeviceGetTotalEnergyConsumption(self, h: int) -> int:
        return self._dev(h, "energy").energy_mj

    def nvmlDeviceGetTemperature(self, h: int, sensor: int) -> int:
        return self._dev(h, "temperature").temp

    def nvmlDeviceGetClockInfo(self, h: int, kind: int) -> int:
        g = self._dev(h, "clock")
        return g.sm_mhz if kind == real.NVML_CLOCK_SM else g.mem_mhz

    def _procs(self, h: int, version: str) -> list[SimpleNamespace]:
        g = self._dev(h, f"procs_{version}")
        if version not in self.process_versions:
            raise real.NVMLError(real.NVML_ERROR_FUNCTION_NOT_FOUND)
        return [SimpleNamespace(pid=pid, usedGpuMemory=mem) for pid, mem in g.procs]

    def nvmlDeviceGetComputeRunningProcesses_v3(self, h: int) -> list[SimpleNamespace]:
        return self._procs(h, "v3")

    def nvmlDeviceGetComputeRunningProcesses_v2(self, h: int) -> list[SimpleNamespace]:
        return self._procs(h, "v2")

    def nvmlDeviceGetComputeRunningProcesses(self, h: int) -> list[SimpleNamespace]:
        if "v1" not in self.process_versions:
            raise real.NVMLLibraryMismatchError("unversioned call, mismatched library")
        return self._procs(h, "v1")
