"""Which endpoints share a GPU, in what order a sweep loads them, and how a capacity measured
while sharing is labelled (pure).

Two endpoints share a GPU when they name the same GPU index on the same host (``gpu_indices``,
or ``[launch] gpu_index``; 127.0.0.1, localhost and ::1 are one host) or when NVML saw their
server processes on the same device. ``[load] isolate`` decides how a sweep loads them:

- ``auto`` (default): endpoints sharing a GPU are swept in turn (one loaded, the others idle),
  endpoints on separate GPUs at once;
- ``always``: every endpoint in turn;
- ``never``: every endpoint at once (each step then records whom it shared its GPU with).

A held load (the app's side-by-side view) always loads every endpoint at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from qtui.config.profile import Endpoint

Isolate = Literal["auto", "always", "never"]
GpuKey = tuple[str, int]  # (host, GPU index)
LOCAL = "local"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "0.0.0.0", ""})


def host_of(url: str) -> str:
    """The host a URL serves from; every loopback name is ``local``."""
    host = (urlsplit(url).hostname or "").lower()
    return LOCAL if host in LOCAL_HOSTS else host


def gpu_keys(ep: Endpoint, url: str = "") -> set[GpuKey]:
    """The (host, GPU index) pairs the profile says this endpoint's server runs on."""
    indices = list(ep.gpu_indices) or ([ep.launch.gpu_index] if ep.launch is not None else [])
    if not indices or ep.gpu == "cpu":
        return set()
    host = host_of(url or ep.url or "http://127.0.0.1")
    return {(host, i) for i in indices}


def nvml_keys(processes: Iterable[Any]) -> dict[str, set[GpuKey]]:
    """The GPUs NVML saw each endpoint's server processes on (``ProcessSample`` rows)."""
    out: dict[str, set[GpuKey]] = {}
    for p in processes:
        if p.endpoint:
            out.setdefault(p.endpoint, set()).add((host_of(f"http://{p.host or ''}"), p.gpu))
    return out


@dataclass(frozen=True, slots=True)
class GpuGroup:
    """Endpoints on one GPU (or on GPUs chained by sharing), as the record names it."""

    gpu: str  # 'GPU 0' or 'GPU 1 on host-b'
    names: tuple[str, ...]

    @property
    def shared(self) -> bool:
        return len(self.names) > 1


def gpu_label(key: GpuKey) -> str:
    host, index = key
    return f"GPU {index}" if host == LOCAL else f"GPU {index} on {host}"


def gpu_groups(names: Sequence[str], keys: Mapping[str, Iterable[GpuKey]]) -> list[GpuGroup]:
    """Endpoints grouped by the GPUs they share (an endpoint with no known GPU is alone), in the
    profile's order."""
    own = {n: set(keys.get(n, ())) for n in names}
    groups: list[tuple[set[GpuKey], list[str]]] = []
    for n in names:
        merged_keys, merged_names = set(own[n]), [n]
        rest = []
        for ks, ns in groups:
            if ks & merged_keys:
                merged_keys |= ks
                merged_names = [*ns, *merged_names]
            else:
                rest.append((ks, ns))
        groups = [*rest, (merged_keys, merged_names)]
    order = {n: i for i, n in enumerate(names)}
    out = [
        GpuGroup(gpu_label(min(ks)) if ks else "", tuple(sorted(ns, key=order.__getitem__)))
        for ks, ns in groups
    ]
    return sorted(out, key=lambda g: order[g.names[0]])


def lanes(groups: Sequence[GpuGroup], isolate: Isolate) -> list[list[str]]:
    """What a sweep runs at once: each lane's endpoints one after another, the lanes side by
    side."""
    if isolate == "always":
        return [[n for g in groups for n in g.names]]
    if isolate == "never":
        return [[n] for g in groups for n in g.names]
    return [list(g.names) for g in groups]


def sharing_label(gpu: str, others: Iterable[str]) -> str:
    """The one label of a capacity measured under a neighbour's load:
    'measured while sharing GPU 0 with fp8, fp8kv'."""
    return f"measured while sharing {gpu or 'a GPU'} with {', '.join(others)}"


@dataclass(frozen=True, slots=True)
class Isolation:
    """How a run loaded endpoints that share a GPU: the record's ``load``/``isolation`` event."""

    isolate: Isolate
    sweep: bool  # a sweep (isolation applies) or a held load (side by side)
    groups: tuple[GpuGroup, ...]
    lanes: tuple[tuple[str, ...], ...]

    def group_of(self, name: str) -> GpuGroup | None:
        return next((g for g in self.groups if name in g.names), None)

    @property
    def text(self) -> str:
        """What was done, in the record's words."""
        shared = [g for g in self.groups if g.shared]
        head = f"isolate = {self.isolate}"
        if not self.sweep:
            if not shared:
                return f"{head}: a held load; no endpoints share a GPU"
            parts = [f"{', '.join(g.names)} share {g.gpu}" for g in shared]
            return f"{head}: a held load, every endpoint at once ({'; '.join(parts)})"
        turns = [ln for ln in self.lanes if len(ln) > 1]
        done = [f"{', '.join(ln)} swept in turn (one loaded, the others idle)" for ln in turns]
        alone = [n for ln in self.lanes if len(ln) == 1 for n in ln]
        if alone:
            done.append(f"{', '.join(alone)} swept at once")
        sharing = [f"{', '.join(g.names)} share {g.gpu}" for g in shared]
        why = f" ({'; '.join(sharing)})" if sharing else " (no endpoints share a GPU)"
        return f"{head}: {'; '.join(done)}{why}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "isolate": self.isolate,
            "sweep": self.sweep,
            "groups": [{"gpu": g.gpu, "endpoints": list(g.names)} for g in self.groups],
            "lanes": [list(ln) for ln in self.lanes],
            "text": self.text,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Isolation:
        groups = tuple(
            GpuGroup(str(g.get("gpu") or ""), tuple(g.get("endpoints") or ()))
            for g in d.get("groups") or ()
        )
        iso = d.get("isolate")
        return cls(
            iso if iso in ("auto", "always", "never") else "auto",
            bool(d.get("sweep")),
            groups,
            tuple(tuple(ln) for ln in d.get("lanes") or ()),
        )


def plan(
    endpoints: Sequence[Endpoint],
    urls: Mapping[str, str],
    isolate: Isolate,
    sweep: bool,
    seen: Mapping[str, Iterable[GpuKey]] | None = None,
) -> Isolation:
    """The run's isolation: groups from the profile's GPUs and those NVML saw (``seen``)."""
    names = [e.name for e in endpoints]
    keys = {e.name: gpu_keys(e, urls.get(e.name, "")) for e in endpoints}
    for n, ks in (seen or {}).items():
        if n in keys:
            keys[n] |= set(ks)
    groups = gpu_groups(names, keys)
    planned = lanes(groups, isolate) if sweep else [[n] for n in names]
    return Isolation(isolate, sweep, tuple(groups), tuple(tuple(ln) for ln in planned))
