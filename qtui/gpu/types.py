"""Typed GPU telemetry snapshots every source returns; explicit N/A, never a silent zero."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

# Whole-source states a user must be able to tell apart (one line of detail each).
TelemetryStatus = Literal[
    "ok",  # every GPU sampled
    "gpu_lost",  # at least one GPU fell off the bus / errors; the others are still sampled
    "no_driver",  # no NVIDIA driver (libnvidia-ml missing or kernel module not loaded)
    "no_gpu",  # NVML works but sees no GPU
    "unreachable",  # remote exporter did not answer (connect error, timeout, HTTP error)
    "not_prometheus",  # remote URL answered, but not with DCGM / nvitop Prometheus metrics
    "no_telemetry",  # endpoint has telemetry="none" (e.g. a CPU engine): nothing to sample
    "error",  # anything else (permissions, driver/library mismatch...), detail says what
]
GpuState = Literal["ok", "lost", "error"]
SourceKind = Literal["nvml", "dcgm", "nvitop", "none"]
MemoryQuery = Literal["v2", "v1", "exporter"]

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class GpuSample:
    """One GPU at one instant; a None field has its reason in ``na``."""

    gpu: int
    uuid: str | None = None
    name: str | None = None
    host: str | None = None
    endpoint: str | None = None
    state: GpuState = "ok"
    detail: str = ""
    memory_total: int | None = None  # bytes
    memory_used: int | None = None  # bytes, excluding driver-reserved memory where known
    memory_reserved: int | None = None  # bytes reserved by the driver/firmware
    memory_query: MemoryQuery | None = None  # which query produced the memory figures
    util: float | None = None  # %
    power_w: float | None = None
    power_limit_w: float | None = None
    energy_j: float | None = None  # total energy counter (since driver load), joules
    temperature_c: float | None = None
    sm_clock_mhz: float | None = None
    mem_clock_mhz: float | None = None
    na: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ProcessSample:
    """GPU memory held by one compute process on one GPU."""

    pid: int
    gpu: int
    used_memory: int | None  # bytes; None when the driver cannot say (e.g. WDDM, no permission)
    endpoint: str | None = None
    uuid: str | None = None
    host: str | None = None


@dataclass(frozen=True, slots=True)
class GpuSnapshot:
    """What one source saw at time ``t`` (wall clock, s)."""

    source: SourceKind
    t: float
    status: TelemetryStatus
    detail: str = ""
    gpus: tuple[GpuSample, ...] = ()
    processes: tuple[ProcessSample, ...] = ()

    def for_endpoint(self, endpoint: str) -> tuple[list[GpuSample], list[ProcessSample]]:
        """The GPUs and processes attributed to one endpoint."""
        gpus = [g for g in self.gpus if g.endpoint == endpoint]
        procs = [p for p in self.processes if p.endpoint == endpoint]
        return gpus, procs


def gpu_records(snap: GpuSnapshot) -> list[dict[str, Any]]:
    """``gpu_sample`` journal records (docs/architecture.md); a GPU-less state is one record."""
    if not snap.gpus:
        return [
            {
                "source": snap.source,
                "endpoint": None,
                "gpu": None,
                "uuid": None,
                "name": None,
                "t": snap.t,
                "memory_total": None,
                "memory_used": None,
                "memory_reserved": None,
                "util": None,
                "power_w": None,
                "energy_j": None,
                "temperature_c": None,
                "state": snap.status,
                "detail": snap.detail,
            }
        ]
    return [
        {
            "source": snap.source,
            "endpoint": g.endpoint,
            "gpu": g.gpu,
            "uuid": g.uuid,
            "name": g.name,
            "t": snap.t,
            "memory_total": g.memory_total,
            "memory_used": g.memory_used,
            "memory_reserved": g.memory_reserved,
            "util": g.util,
            "power_w": g.power_w,
            "energy_j": g.energy_j,
            "temperature_c": g.temperature_c,
            "state": g.state,
            "detail": g.detail or _na_detail(g),
        }
        for g in snap.gpus
    ]


def _na_detail(g: GpuSample) -> str:
    return "; ".join(f"{k}: {v}" for k, v in sorted(g.na.items()))
