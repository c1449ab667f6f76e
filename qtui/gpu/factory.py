"""Profile endpoints → telemetry sources (one shared NVML source for everything local)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from qtui.config.profile import Endpoint
from qtui.errors import ConfigError
from qtui.gpu.binding import EndpointBinding
from qtui.gpu.dcgm import PrometheusSource
from qtui.gpu.nvml import NvmlSource
from qtui.gpu.source import NoTelemetry, TelemetrySource

LOCAL_KEY = "nvml"  # all endpoints served from this host share one NVML source


def build_sources(
    endpoints: Iterable[Endpoint],
    *,
    pids: Mapping[str, int | Iterable[int]] | None = None,
    exporter_urls: Mapping[str, str] | None = None,
) -> dict[str, TelemetrySource]:
    """One source per remote exporter / telemetry-less endpoint, one shared NVML source for local.

    ``pids``: server pids qtui knows (e.g. from ``--launch``); their child engines map to them.
    ``exporter_urls``: DCGM URLs known at run time (the simulator's ``/dcgm/metrics``).
    """
    pids = pids or {}
    exporter_urls = exporter_urls or {}
    sources: dict[str, TelemetrySource] = {}
    local: list[EndpointBinding] = []
    for ep in endpoints:
        raw = pids.get(ep.name, ())
        ep_pids = frozenset([raw] if isinstance(raw, int) else raw)
        binding = EndpointBinding(ep.name, ep_pids, tuple(ep.gpu_indices))
        url = ep.telemetry_url or exporter_urls.get(ep.name)
        mode = ep.telemetry
        if mode == "auto":
            mode = "dcgm" if url else ("none" if ep.gpu == "cpu" else "nvml")
        if mode == "none":
            sources[ep.name] = NoTelemetry(f"no GPU: endpoint {ep.name} has telemetry = 'none'")
        elif mode == "dcgm":
            if not url:
                raise ConfigError(
                    f"endpoint {ep.name}: telemetry = 'dcgm' needs telemetry_url "
                    "(the exporter's /metrics URL, e.g. http://host:9400/metrics)"
                )
            sources[ep.name] = PrometheusSource(url, [binding])
        else:
            local.append(binding)
    if local:
        sources[LOCAL_KEY] = NvmlSource(local)
    return sources
