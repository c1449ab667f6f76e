"""Remote GPUs: scrape a DCGM exporter or an nvitop-exporter (Prometheus text) over HTTP.

Parsing is pure (``parse_exporter``); ``PrometheusSource`` adds the blocking HTTP fetch, so it runs
in the sampler thread like NVML does.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Literal

import httpx
from prometheus_client.parser import text_string_to_metric_families

from qtui.evidence.records import MIB, GpuSample, GpuSnapshot, ProcessSample, SourceKind
from qtui.gpu.binding import EndpointBinding, attribute_gpu, attribute_process

Flavor = Literal["dcgm", "nvitop", "auto"]

# DCGM marks "no value" with int64 sentinels at the top of the range (DCGM_INT64_BLANK and up).
_DCGM_BLANK = 0x7FFFFFFFFFFFFFF0

# dcgm-exporter field → (GpuSample attribute, scale to our unit)
_DCGM_FIELDS: dict[str, tuple[str, float]] = {
    "DCGM_FI_DEV_FB_USED": ("memory_used", MIB),
    "DCGM_FI_DEV_FB_FREE": ("_free", MIB),
    "DCGM_FI_DEV_FB_RESERVED": ("memory_reserved", MIB),
    "DCGM_FI_DEV_GPU_UTIL": ("util", 1.0),
    "DCGM_FI_DEV_POWER_USAGE": ("power_w", 1.0),
    "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION": ("energy_j", 1e-3),  # mJ → J
    "DCGM_FI_DEV_GPU_TEMP": ("temperature_c", 1.0),
    "DCGM_FI_DEV_SM_CLOCK": ("sm_clock_mhz", 1.0),
    "DCGM_FI_DEV_MEM_CLOCK": ("mem_clock_mhz", 1.0),
}
# nvitop-exporter gauges (prometheus_client appends the unit to the name).
_NVITOP_FIELDS: dict[str, tuple[str, float]] = {
    "gpu_memory_total_MiB": ("memory_total", MIB),
    "gpu_memory_used_MiB": ("memory_used", MIB),
    "gpu_memory_free_MiB": ("_free", MIB),
    "gpu_utilization_Percentage": ("util", 1.0),
    "gpu_power_usage_W": ("power_w", 1.0),
    "gpu_power_limit_W": ("power_limit_w", 1.0),
    "gpu_temperature_C": ("temperature_c", 1.0),
    "gpu_clock_sm_MHz": ("sm_clock_mhz", 1.0),
    "gpu_clock_memory_MHz": ("mem_clock_mhz", 1.0),
}
_NVITOP_PROCESS = "process_gpu_memory_MiB"
_NOT_EXPORTED = {
    "dcgm": {
        "memory_total": "derived: used + free + reserved",
        "power_limit_w": "not exported by dcgm-exporter's default counters",
    },
    "nvitop": {
        "memory_reserved": "not exported by nvitop-exporter",
        "energy_j": "not exported by nvitop-exporter",
    },
}


class ExporterFormatError(ValueError):
    """The text is not Prometheus exposition, or carries no DCGM/nvitop GPU metrics."""


@dataclass(slots=True)
class _Acc:
    gpu: int
    uuid: str | None = None
    name: str | None = None
    host: str | None = None
    values: dict[str, float] = field(default_factory=dict)
    na: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Parsed:
    """GPUs and processes found in one scrape."""

    flavor: Literal["dcgm", "nvitop"]
    gpus: tuple[GpuSample, ...]
    processes: tuple[ProcessSample, ...]


def parse_exporter(text: str, flavor: Flavor = "auto") -> Parsed:
    """Prometheus text from dcgm-exporter or nvitop-exporter → typed samples (raises on garbage)."""
    try:
        samples = [
            s._replace(name=_base_name(s.name))
            for fam in text_string_to_metric_families(text)
            for s in fam.samples
        ]
    except (ValueError, IndexError, TypeError) as exc:
        raise ExporterFormatError(f"not Prometheus text: {exc}") from exc
    names = {s.name for s in samples}
    if flavor == "auto":
        if names & _DCGM_FIELDS.keys():
            flavor = "dcgm"
        elif names & _NVITOP_FIELDS.keys():
            flavor = "nvitop"
        else:
            raise ExporterFormatError("no DCGM_FI_DEV_* or nvitop gpu_* metrics in the response")
    fields = _DCGM_FIELDS if flavor == "dcgm" else _NVITOP_FIELDS
    if not names & fields.keys():
        raise ExporterFormatError(f"no {flavor} GPU metrics in the response")
    accs: dict[tuple[str | None, int], _Acc] = {}
    procs: list[ProcessSample] = []
    for s in samples:
        labels = s.labels
        if flavor == "dcgm":
            if labels.get("GPU_I_ID"):  # MIG-instance rows; device-level rows carry the totals
                continue
            idx, uuid, name, host = (
                labels.get("gpu"),
                labels.get("UUID"),
                labels.get("modelName"),
                labels.get("Hostname"),
            )
        else:
            idx, uuid, name, host = (
                labels.get("index"),
                labels.get("uuid"),
                labels.get("devicename"),
                labels.get("hostname"),
            )
        if idx is None or not idx.isdigit():
            continue
        gpu = int(idx)
        if flavor == "nvitop" and s.name == _NVITOP_PROCESS and labels.get("pid", "").isdigit():
            ok = _finite(s.value)
            procs.append(
                ProcessSample(
                    pid=int(labels["pid"]),
                    gpu=gpu,
                    used_memory=int(s.value * MIB) if ok else None,
                    uuid=uuid,
                    host=host,
                )
            )
            continue
        if s.name not in fields:
            continue
        acc = accs.setdefault((host, gpu), _Acc(gpu))
        acc.uuid = acc.uuid or uuid
        acc.name = acc.name or name
        acc.host = acc.host or host
        attr, scale = fields[s.name]
        if not _finite(s.value) or s.value >= _DCGM_BLANK:
            acc.na[attr] = f"{s.name} has no value (exporter sent {s.value!r})"
        else:
            acc.values[attr] = s.value * scale
    if not accs:
        raise ExporterFormatError(f"{flavor} metrics carry no GPU index label")
    gpus = tuple(_finish(acc, flavor) for _, acc in sorted(accs.items(), key=_order))
    return Parsed(flavor, gpus, tuple(procs))


def _base_name(name: str) -> str:
    """The parser appends _total to counter samples (TOTAL_ENERGY_CONSUMPTION is a counter)."""
    if name.endswith("_total") and name[: -len("_total")] in _DCGM_FIELDS:
        return name[: -len("_total")]
    return name


def _order(item: tuple[tuple[str | None, int], _Acc]) -> tuple[str, int]:
    (host, gpu), _ = item
    return (host or "", gpu)


def _finite(v: float) -> bool:
    return not (math.isnan(v) or math.isinf(v))


def _finish(acc: _Acc, flavor: Literal["dcgm", "nvitop"]) -> GpuSample:
    v = acc.values
    na = dict(acc.na)
    for key, why in _NOT_EXPORTED[flavor].items():
        if key not in v and key not in na and key != "memory_total":
            na[key] = why
    total: float | None = v.get("memory_total")
    if total is None and "memory_used" in v and "_free" in v:
        total = v["memory_used"] + v["_free"] + v.get("memory_reserved", 0.0)
    expected = ["memory_used", "util", "power_w", "temperature_c"]
    if flavor == "dcgm":
        expected += ["memory_reserved", "energy_j"]
    for key in expected:
        if key not in v and key not in na:
            na[key] = f"not in this {flavor} exporter's output (check its counters file)"
    if total is None:
        na.setdefault("memory_total", "exporter gave neither total nor used+free")

    def get(key: str) -> float | None:
        return v.get(key)

    def as_int(x: float | None) -> int | None:
        return None if x is None else round(x)

    return GpuSample(
        gpu=acc.gpu,
        uuid=acc.uuid,
        name=acc.name,
        host=acc.host,
        memory_total=as_int(total),
        memory_used=as_int(get("memory_used")),
        memory_reserved=as_int(get("memory_reserved")),
        memory_query="exporter",
        util=get("util"),
        power_w=get("power_w"),
        power_limit_w=get("power_limit_w"),
        energy_j=get("energy_j"),
        temperature_c=get("temperature_c"),
        sm_clock_mhz=get("sm_clock_mhz"),
        mem_clock_mhz=get("mem_clock_mhz"),
        na=na,
    )


class PrometheusSource:
    """GPU telemetry from a remote exporter URL (blocking HTTP: run it in the sampler thread)."""

    def __init__(
        self,
        url: str,
        bindings: Iterable[EndpointBinding] = (),
        *,
        flavor: Flavor = "auto",
        timeout_s: float = 2.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.url = url
        self._bindings = list(bindings)
        self._flavor: Flavor = flavor
        self._clock = clock
        self._lock = threading.Lock()
        self._client = httpx.Client(timeout=timeout_s, follow_redirects=True)
        self.kind: SourceKind = "nvitop" if flavor == "nvitop" else "dcgm"

    def set_bindings(self, bindings: Iterable[EndpointBinding]) -> None:
        """Replace the endpoint claims."""
        with self._lock:
            self._bindings = list(bindings)

    def sample(self) -> GpuSnapshot:
        """Scrape once; unreachable / not-Prometheus are statuses, never exceptions."""
        with self._lock:
            t = self._clock()
            try:
                resp = self._client.get(self.url)
            except httpx.TimeoutException:
                return GpuSnapshot(
                    self.kind, t, "unreachable", f"GPU exporter {self.url} timed out"
                )
            except httpx.HTTPError as exc:
                why = str(exc) or type(exc).__name__
                return GpuSnapshot(
                    self.kind, t, "unreachable", f"cannot reach GPU exporter {self.url}: {why}"
                )
            if resp.status_code != 200:
                return GpuSnapshot(
                    self.kind,
                    t,
                    "unreachable",
                    f"GPU exporter {self.url} answered HTTP {resp.status_code}"
                    " (is this the exporter's /metrics URL?)",
                )
            try:
                parsed = parse_exporter(resp.text, self._flavor)
            except ExporterFormatError as exc:
                return GpuSnapshot(
                    self.kind,
                    t,
                    "not_prometheus",
                    f"{self.url} is not a DCGM/nvitop exporter ({exc})",
                )
            self.kind = parsed.flavor
            procs = tuple(
                replace(p, endpoint=attribute_process(p.pid, p.gpu, self._bindings, _no_tree))
                for p in parsed.processes
            )
            gpus = tuple(
                replace(
                    g,
                    endpoint=attribute_gpu(
                        g.gpu, [p.endpoint for p in procs if p.gpu == g.gpu], self._bindings
                    ),
                )
                for g in parsed.gpus
            )
            return GpuSnapshot(parsed.flavor, t, "ok", "", gpus, procs)

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()


def _no_tree(pid: int) -> int | None:
    """Remote pids live on another host: there is no local process tree to walk."""
    return None
