"""The one module that talks to NVML (nvidia-ml-py's ``pynvml``); everything else sees snapshots.

Every failing query becomes an explicit N/A (None plus a reason), never an exception in callers.
Version fallbacks as the driver and binding allow: memory v2 → v1, compute processes v3 → v2 → v1.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from qtui.evidence.records import (
    GpuSample,
    GpuSnapshot,
    GpuState,
    MemoryQuery,
    ProcessSample,
    TelemetryStatus,
)
from qtui.gpu.binding import (
    EndpointBinding,
    ParentOf,
    attribute_gpu,
    attribute_process,
    proc_parent,
)

# NVML return codes (nvml.h); read from the binding when it has them.
_CODES = {
    "NO_PERMISSION": 4,
    "NOT_SUPPORTED": 3,
    "INVALID_ARGUMENT": 2,
    "DRIVER_NOT_LOADED": 9,
    "LIBRARY_NOT_FOUND": 12,
    "FUNCTION_NOT_FOUND": 13,
    "GPU_IS_LOST": 15,
    "RESET_REQUIRED": 16,
    "LIB_RM_VERSION_MISMATCH": 18,
    "ARGUMENT_VERSION_MISMATCH": 25,
}
_PROCESS_QUERIES = (
    "nvmlDeviceGetComputeRunningProcesses_v3",
    "nvmlDeviceGetComputeRunningProcesses_v2",
    "nvmlDeviceGetComputeRunningProcesses",  # v1 in old bindings, v3 in new ones
)


class _Lost(Exception):
    """A query said the GPU fell off the bus; the device is marked lost for the rest of the run."""


@dataclass(slots=True)
class _Device:
    """Per-GPU cache of slow-changing fields and the query versions that worked."""

    index: int
    handle: Any = None
    name: str | None = None
    uuid: str | None = None
    memory_total: int | None = None
    power_limit_w: float | None = None
    static_na: dict[str, str] = field(default_factory=dict)
    memory_v2: bool | None = None  # None: not tried yet
    lost: str | None = None  # detail once lost
    error: str | None = None  # handle could not be obtained (not lost)


class NvmlSource:
    """Local GPUs through NVML; processes mapped to endpoints by process tree or GPU index."""

    kind = "nvml"

    def __init__(
        self,
        bindings: Iterable[EndpointBinding] = (),
        *,
        nvml: ModuleType | None = None,
        parent_of: ParentOf = proc_parent,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._bindings = list(bindings)
        self._nv = nvml
        self._parent_of = parent_of
        self._clock = clock
        self._lock = threading.Lock()
        self._started = False
        self._init_failure: tuple[TelemetryStatus, str] | None = None
        self._devices: list[_Device] = []
        self._proc_query: str | None = None

    @property
    def bindings(self) -> list[EndpointBinding]:
        """The endpoint claims this source attributes GPUs and processes by."""
        with self._lock:
            return list(self._bindings)

    def set_bindings(self, bindings: Iterable[EndpointBinding]) -> None:
        """Replace the endpoint claims (e.g. once a launched server's pid is known)."""
        with self._lock:
            self._bindings = list(bindings)

    # -- lifecycle --------------------------------------------------------------------------
    def _code(self, name: str) -> int:
        return int(getattr(self._nv, f"NVML_ERROR_{name}", _CODES[name]))

    def _err_code(self, exc: BaseException) -> int | None:
        value = getattr(exc, "value", None)
        return value if isinstance(value, int) else None

    def _start(self) -> None:
        self._started = True
        if self._nv is None:
            try:
                import pynvml
            except ImportError:
                self._init_failure = (
                    "no_driver",
                    "nvidia-ml-py is not installed (pip install nvidia-ml-py)",
                )
                return
            self._nv = pynvml
        nv = self._nv
        try:
            nv.nvmlInit()
        except nv.NVMLError as exc:
            self._init_failure = self._classify_init(exc)
            return
        except OSError as exc:  # a broken libnvidia-ml can fail to load outside NVML's own check
            self._init_failure = ("no_driver", f"cannot load the NVIDIA driver library: {exc}")
            return
        try:
            count = int(nv.nvmlDeviceGetCount())
        except nv.NVMLError as exc:
            self._init_failure = ("error", f"NVML could not count GPUs: {exc}")
            return
        if count == 0:
            self._init_failure = ("no_gpu", "NVIDIA driver present but NVML sees no GPU")
            return
        self._devices = [self._open(i) for i in range(count)]

    def _classify_init(self, exc: BaseException) -> tuple[TelemetryStatus, str]:
        code = self._err_code(exc)
        if code == self._code("LIBRARY_NOT_FOUND"):
            return "no_driver", "no NVIDIA driver on this machine (libnvidia-ml.so.1 not found)"
        if code == self._code("DRIVER_NOT_LOADED"):
            return "no_driver", "NVIDIA driver library present but the kernel driver is not loaded"
        if code == self._code("NO_PERMISSION"):
            return "error", "no permission to use NVML (check access to /dev/nvidia*)"
        if code == self._code("LIB_RM_VERSION_MISMATCH"):
            return "error", "NVML library and kernel driver versions differ (reload driver/reboot)"
        return "error", f"NVML init failed: {exc}"

    def _open(self, index: int) -> _Device:
        nv = self._nv
        assert nv is not None
        dev = _Device(index)
        try:
            dev.handle = nv.nvmlDeviceGetHandleByIndex(index)
        except nv.NVMLError as exc:
            if self._err_code(exc) in self._lost_codes():
                dev.lost = self._lost_detail(index, exc)
            else:
                dev.error = f"GPU {index} not usable: {exc}"
            return dev
        for attr, fn in (("name", "nvmlDeviceGetName"), ("uuid", "nvmlDeviceGetUUID")):
            try:
                value = getattr(nv, fn)(dev.handle)
                setattr(dev, attr, value.decode() if isinstance(value, bytes) else str(value))
            except nv.NVMLError as exc:
                dev.static_na[attr] = str(exc)
        try:
            dev.power_limit_w = nv.nvmlDeviceGetEnforcedPowerLimit(dev.handle) / 1000.0
        except nv.NVMLError as exc:
            dev.static_na["power_limit_w"] = str(exc)
        return dev

    def _lost_codes(self) -> set[int]:
        return {self._code("GPU_IS_LOST"), self._code("RESET_REQUIRED")}

    def _lost_detail(self, index: int, exc: BaseException) -> str:
        return f"GPU {index} lost at {time.strftime('%H:%M:%S')} ({exc}); other GPUs still sampled"

    def close(self) -> None:
        """Release NVML (safe to call twice, or without a successful start)."""
        with self._lock:
            if self._started and self._init_failure is None and self._nv is not None:
                with contextlib.suppress(self._nv.NVMLError):
                    self._nv.nvmlShutdown()
            self._started = False
            self._init_failure = None
            self._devices = []

    # -- sampling ---------------------------------------------------------------------------
    def sample(self) -> GpuSnapshot:
        """One snapshot of every GPU NVML sees; a failure is a status, never an exception."""
        with self._lock:
            if not self._started:
                self._start()
            t = self._clock()
            if self._init_failure is not None:
                status, detail = self._init_failure
                return GpuSnapshot("nvml", t, status, detail)
            raw: list[tuple[GpuSample, list[tuple[int, int | None]]]] = []
            for dev in self._devices:
                raw.append(self._sample_device(dev))
            return self._attribute(t, raw)

    def _attribute(
        self, t: float, raw: list[tuple[GpuSample, list[tuple[int, int | None]]]]
    ) -> GpuSnapshot:
        gpus: list[GpuSample] = []
        procs: list[ProcessSample] = []
        for gpu, plist in raw:
            mine = [
                ProcessSample(
                    pid=pid,
                    gpu=gpu.gpu,
                    used_memory=used,
                    uuid=gpu.uuid,
                    endpoint=attribute_process(pid, gpu.gpu, self._bindings, self._parent_of),
                )
                for pid, used in plist
            ]
            procs.extend(mine)
            endpoint = attribute_gpu(gpu.gpu, [p.endpoint for p in mine], self._bindings)
            gpus.append(_replace_endpoint(gpu, endpoint))
        lost = [g for g in gpus if g.state == "lost"]
        if lost:
            names = ", ".join(str(g.gpu) for g in lost)
            status: TelemetryStatus = "gpu_lost"
            detail = f"GPU {names} lost; {len(gpus) - len(lost)} other GPU(s) still sampled"
        else:
            status, detail = "ok", ""
        return GpuSnapshot("nvml", t, status, detail, tuple(gpus), tuple(procs))

    def _sample_device(self, dev: _Device) -> tuple[GpuSample, list[tuple[int, int | None]]]:
        if dev.lost is not None or dev.error is not None:
            state: GpuState = "lost" if dev.lost is not None else "error"
            return GpuSample(
                dev.index, dev.uuid, dev.name, state=state, detail=dev.lost or dev.error or ""
            ), []
        na = dict(dev.static_na)
        try:
            total, used, reserved, query = self._memory(dev, na)
            util = self._q(
                na, "util", lambda h: float(self._nv_().nvmlDeviceGetUtilizationRates(h).gpu), dev
            )
            power = self._q(
                na, "power_w", lambda h: self._nv_().nvmlDeviceGetPowerUsage(h) / 1000.0, dev
            )
            energy = self._q(
                na,
                "energy_j",
                lambda h: self._nv_().nvmlDeviceGetTotalEnergyConsumption(h) / 1000.0,
                dev,
            )
            nv = self._nv_()
            sensor = getattr(nv, "NVML_TEMPERATURE_GPU", 0)
            temp = self._q(
                na, "temperature_c", lambda h: float(nv.nvmlDeviceGetTemperature(h, sensor)), dev
            )
            sm = self._q(
                na,
                "sm_clock_mhz",
                lambda h: float(nv.nvmlDeviceGetClockInfo(h, getattr(nv, "NVML_CLOCK_SM", 1))),
                dev,
            )
            mem = self._q(
                na,
                "mem_clock_mhz",
                lambda h: float(nv.nvmlDeviceGetClockInfo(h, getattr(nv, "NVML_CLOCK_MEM", 2))),
                dev,
            )
            procs = self._processes(dev, na)
        except _Lost as exc:
            dev.lost = str(exc)
            return GpuSample(dev.index, dev.uuid, dev.name, state="lost", detail=dev.lost), []
        sample = GpuSample(
            gpu=dev.index,
            uuid=dev.uuid,
            name=dev.name,
            memory_total=total,
            memory_used=used,
            memory_reserved=reserved,
            memory_query=query,
            util=util,
            power_w=power,
            power_limit_w=dev.power_limit_w,
            energy_j=energy,
            temperature_c=temp,
            sm_clock_mhz=sm,
            mem_clock_mhz=mem,
            na=na,
        )
        return sample, procs

    def _nv_(self) -> Any:
        assert self._nv is not None
        return self._nv

    def _q(self, na: dict[str, str], key: str, fn: Callable[[Any], Any], dev: _Device) -> Any:
        """Run one query; N/A with the driver's reason on failure, _Lost when the GPU is gone."""
        nv = self._nv_()
        try:
            return fn(dev.handle)
        except nv.NVMLError as exc:
            if self._err_code(exc) in self._lost_codes():
                raise _Lost(self._lost_detail(dev.index, exc)) from exc
            na[key] = _reason(exc)
            return None

    def _memory(
        self, dev: _Device, na: dict[str, str]
    ) -> tuple[int | None, int | None, int | None, MemoryQuery | None]:
        nv = self._nv_()
        v2 = getattr(nv, "nvmlMemory_v2", None)
        fallback = {
            self._code("FUNCTION_NOT_FOUND"),
            self._code("NOT_SUPPORTED"),
            self._code("ARGUMENT_VERSION_MISMATCH"),
            self._code("INVALID_ARGUMENT"),
        }
        if dev.memory_v2 is not False and v2 is not None:
            try:
                m = nv.nvmlDeviceGetMemoryInfo(dev.handle, version=v2)
            except TypeError:  # binding predates the version argument
                dev.memory_v2 = False
            except nv.NVMLError as exc:
                code = self._err_code(exc)
                if code in self._lost_codes():
                    raise _Lost(self._lost_detail(dev.index, exc)) from exc
                if code not in fallback:
                    for k in ("memory_total", "memory_used", "memory_reserved"):
                        na[k] = _reason(exc)
                    return None, None, None, None
                dev.memory_v2 = False
            else:
                dev.memory_v2 = True
                dev.memory_total = dev.memory_total or int(m.total)
                return dev.memory_total, int(m.used), int(m.reserved), "v2"
        else:
            dev.memory_v2 = False
        try:
            m = nv.nvmlDeviceGetMemoryInfo(dev.handle)
        except nv.NVMLError as exc:
            if self._err_code(exc) in self._lost_codes():
                raise _Lost(self._lost_detail(dev.index, exc)) from exc
            for k in ("memory_total", "memory_used", "memory_reserved"):
                na[k] = _reason(exc)
            return None, None, None, None
        na["memory_reserved"] = "driver has no v2 memory query; v1 counts reserved memory as used"
        dev.memory_total = dev.memory_total or int(m.total)
        return dev.memory_total, int(m.used), None, "v1"

    def _processes(self, dev: _Device, na: dict[str, str]) -> list[tuple[int, int | None]]:
        nv = self._nv_()
        mismatch = getattr(nv, "NVMLLibraryMismatchError", None)
        names = [self._proc_query] if self._proc_query else list(_PROCESS_QUERIES)
        last = "binding has no compute-process query"
        for name in names:
            fn = getattr(nv, name, None)
            if fn is None:
                continue
            try:
                infos = fn(dev.handle)
            except nv.NVMLError as exc:
                code = self._err_code(exc)
                if code in self._lost_codes():
                    raise _Lost(self._lost_detail(dev.index, exc)) from exc
                if code == self._code("FUNCTION_NOT_FOUND"):
                    last = f"{name}: {exc}"
                    continue
                na["processes"] = _reason(exc)
                return []
            except Exception as exc:
                if mismatch is not None and isinstance(exc, mismatch):
                    last = f"{name}: binding/driver version mismatch"
                    continue
                raise
            self._proc_query = name
            summed: dict[int, int | None] = {}
            for info in infos:
                pid = int(info.pid)
                raw = getattr(info, "usedGpuMemory", None)
                used = None if raw is None else int(raw)
                if pid not in summed:
                    summed[pid] = used
                elif summed[pid] is not None and used is not None:
                    summed[pid] = int(summed[pid] or 0) + used  # MIG: one row per instance
            return list(summed.items())
        na["processes"] = last
        return []


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _replace_endpoint(g: GpuSample, endpoint: str | None) -> GpuSample:
    from dataclasses import replace

    return replace(g, endpoint=endpoint)
