"""Profile endpoints → telemetry sources (one shared NVML source for everything local)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from qtui.config.profile import Endpoint
from qtui.errors import ConfigError
from qtui.gpu.binding import EndpointBinding
from qtui.gpu.dcgm import PrometheusSource
from qtui.gpu.listeners import server_pids
from qtui.gpu.nvml import NvmlSource
from qtui.gpu.source import NoTelemetry, TelemetrySource

LOCAL_KEY = "nvml"  # all endpoints served from this host share one NVML source


def build_sources(
    endpoints: Iterable[Endpoint],
    *,
    pids: Mapping[str, int | Iterable[int]] | None = None,
    exporter_urls: Mapping[str, str] | None = None,
    urls: Mapping[str, str] | None = None,
    find_pids: Callable[[Mapping[str, str]], dict[str, int]] = server_pids,
) -> dict[str, TelemetrySource]:
    """One source per remote exporter / telemetry-less endpoint, one shared NVML source for local.

    ``pids``: server pids qtui knows (e.g. from ``--launch``); their child engines map to them.
    ``exporter_urls``: DCGM URLs known at run time (the simulator's ``/dcgm/metrics``).
    ``urls``: the endpoints' base URLs; a local NVML endpoint whose pid is not known gets the
    pid listening on its port (servers started by hand, several of them on one GPU).
    """
    endpoints = list(endpoints)
    exporter_urls = exporter_urls or {}
    unknown = {
        ep.name: (urls or {}).get(ep.name) or ep.url
        for ep in endpoints
        if ep.name not in (pids or {}) and _mode(ep, exporter_urls) == "nvml"
    }
    unknown = {n: u for n, u in unknown.items() if u}
    pids = {**(find_pids(unknown) if unknown else {}), **(pids or {})}
    sources: dict[str, TelemetrySource] = {}
    local: list[EndpointBinding] = []
    for ep in endpoints:
        raw = pids.get(ep.name, ())
        ep_pids = frozenset([raw] if isinstance(raw, int) else raw)
        binding = EndpointBinding(ep.name, ep_pids, tuple(ep.gpu_indices))
        url = ep.telemetry_url or exporter_urls.get(ep.name)
        mode = _mode(ep, exporter_urls)
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


def _mode(ep: Endpoint, exporter_urls: Mapping[str, str]) -> str:
    """The endpoint's telemetry, ``auto`` resolved: exporter if any, none for CPU, else nvml."""
    if ep.telemetry != "auto":
        return ep.telemetry
    if ep.telemetry_url or exporter_urls.get(ep.name):
        return "dcgm"
    return "none" if ep.gpu == "cpu" else "nvml"
