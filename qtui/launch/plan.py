"""What `--launch` starts: one `vllm serve` command per endpoint, and whether they fit (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from qtui.config.profile import Endpoint, Profile
from qtui.errors import ConfigError

HOST = "127.0.0.1"
GIB = 1024**3
# Arguments qtui sets from the profile's own fields; repeating them in `args` would contradict.
OWNED_ARGS = ("--host", "--port", "--gpu-memory-utilization", "--served-model-name")


@dataclass(frozen=True)
class VllmServer:
    """One server to start: its command line, the GPU it may see, its URL."""

    name: str
    argv: tuple[str, ...]
    gpu_index: int
    fraction: float
    port: int
    served_model: str
    ready_timeout_s: float

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        return {"CUDA_VISIBLE_DEVICES": str(self.gpu_index)}


def _check_args(ep: Endpoint, args: list[str]) -> None:
    for a in args:
        flag = a.split("=", 1)[0]
        if flag in OWNED_ARGS:
            raise ConfigError(
                f"endpoint {ep.name}: [endpoints.launch] args must not set {flag}; "
                "qtui sets it from port / gpu_memory_utilization / the endpoint's model"
            )


def _check_url(ep: Endpoint, port: int) -> None:
    if not ep.url:
        return
    parts = urlsplit(ep.url)
    if parts.hostname not in (HOST, "localhost") or parts.port != port:
        raise ConfigError(
            f"endpoint {ep.name}: url {ep.url!r} does not match the launched server "
            f"(http://{HOST}:{port}); set url to that or leave it out"
        )


def server_for(ep: Endpoint) -> VllmServer:
    """The server one endpoint's [launch] table describes (the endpoint must have one)."""
    spec = ep.launch
    if spec is None:
        raise ConfigError(f"endpoint {ep.name}: no [endpoints.launch] table to start it from")
    _check_args(ep, spec.args)
    _check_url(ep, spec.port)
    served = ep.model or ep.name
    argv = (
        spec.executable, "serve", spec.model,
        "--host", HOST,
        "--port", str(spec.port),
        "--gpu-memory-utilization", f"{spec.gpu_memory_utilization:g}",
        "--served-model-name", served,
        *spec.args,
    )  # fmt: skip
    return VllmServer(
        ep.name, argv, spec.gpu_index, spec.gpu_memory_utilization, spec.port, served,
        spec.ready_timeout_s,
    )  # fmt: skip


def plan(profile: Profile) -> list[VllmServer]:
    """Servers for every endpoint with a [launch] table, in profile order; ports must differ."""
    servers = [server_for(ep) for ep in profile.endpoints if ep.launch is not None]
    if not servers:
        raise ConfigError(
            f"profile {profile.profile.name}: --launch needs at least one [endpoints.launch] table"
        )
    seen: dict[int, str] = {}
    for s in servers:
        if s.port in seen:
            raise ConfigError(f"endpoints {seen[s.port]} and {s.name} both launch on port {s.port}")
        seen[s.port] = s.name
    return servers


def fit_problem(
    servers: list[VllmServer],
    total: Mapping[int, int] | None = None,
    free: Mapping[int, int] | None = None,
) -> str | None:
    """Why the memory fractions cannot fit, or None.

    Per GPU, the fractions must add up to at most 1; where NVML gave ``total`` and ``free``
    bytes, what they ask for (fraction × total) must also be free now. GPUs NVML does not list
    are an error only when NVML listed some.
    """
    by_gpu: dict[int, list[VllmServer]] = {}
    for s in servers:
        by_gpu.setdefault(s.gpu_index, []).append(s)
    for gpu, group in sorted(by_gpu.items()):
        share = sum(s.fraction for s in group)
        parts = " + ".join(f"{s.name} {s.fraction:g}" for s in group)
        if share > 1.0 + 1e-9:
            return (
                f"GPU {gpu}: gpu_memory_utilization adds up to {share:.2f} ({parts}) > 1; "
                "lower it in [endpoints.launch] or spread the endpoints over GPUs"
            )
        if total is None or free is None:
            continue
        if gpu not in total:
            have = ", ".join(str(i) for i in sorted(total)) or "none"
            return f"GPU {gpu}: no such GPU on this host (NVML sees {have}); fix gpu_index"
        need = share * total[gpu]
        if need > free.get(gpu, 0):
            return (
                f"GPU {gpu}: the servers need {need / GIB:.1f} GiB ({parts} of "
                f"{total[gpu] / GIB:.1f} GiB) but only {free.get(gpu, 0) / GIB:.1f} GiB is free "
                "now; stop what holds it or lower gpu_memory_utilization"
            )
    return None


def with_urls(profile: Profile, urls: Mapping[str, str]) -> Profile:
    """The profile with each endpoint's url set from ``urls`` (launched servers' addresses)."""
    eps = [e.model_copy(update={"url": urls.get(e.name, e.url)}) for e in profile.endpoints]
    return profile.model_copy(update={"endpoints": eps})
