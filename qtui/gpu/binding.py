"""Which GPU and process serve which endpoint: process tree first, profile GPU indices next."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

ParentOf = Callable[[int], int | None]


@dataclass(frozen=True, slots=True)
class EndpointBinding:
    """An endpoint's claim on GPUs: server root pids (its engine is a child) and/or GPU indices."""

    name: str
    pids: frozenset[int] = field(default_factory=frozenset)
    gpu_indices: tuple[int, ...] = ()


def proc_parent(pid: int, proc: Path = Path("/proc")) -> int | None:
    """Parent pid from /proc/<pid>/stat; None when the process is gone or unreadable."""
    try:
        stat = (proc / str(pid) / "stat").read_text()
    except OSError:
        return None
    # "pid (comm) state ppid ..."; comm may contain spaces and parentheses, so cut at the last ')'.
    rest = stat.rsplit(")", 1)[-1].split()
    try:
        ppid = int(rest[1])
    except (IndexError, ValueError):
        return None
    return ppid if ppid > 0 else None


def endpoint_of_pid(
    pid: int, bindings: Iterable[EndpointBinding], parent_of: ParentOf = proc_parent
) -> str | None:
    """The endpoint whose root pid is this pid or an ancestor (vLLM engines are children)."""
    roots = {p: b.name for b in bindings for p in b.pids}
    if not roots:
        return None
    seen: set[int] = set()
    cur: int | None = pid
    while cur is not None and cur not in seen and len(seen) < 64:
        if cur in roots:
            return roots[cur]
        seen.add(cur)
        cur = parent_of(cur)
    return None


def endpoint_of_gpu(gpu: int, bindings: Iterable[EndpointBinding]) -> str | None:
    """The one endpoint whose profile names this GPU index (None when none or ambiguous)."""
    names = {b.name for b in bindings if gpu in b.gpu_indices}
    return names.pop() if len(names) == 1 else None


def sole_endpoint(bindings: Iterable[EndpointBinding]) -> str | None:
    """A source bound to exactly one endpoint without GPU indices owns every GPU it sees."""
    bs = list(bindings)
    return bs[0].name if len(bs) == 1 and not bs[0].gpu_indices and not bs[0].pids else None


def attribute_gpu(
    gpu: int,
    process_endpoints: Iterable[str | None],
    bindings: Iterable[EndpointBinding],
) -> str | None:
    """A GPU's endpoint: profile indices first, else the one endpoint all its processes serve."""
    bs = list(bindings)
    by_index = endpoint_of_gpu(gpu, bs)
    if by_index is not None:
        return by_index
    named = {e for e in process_endpoints if e is not None}
    if len(named) == 1:
        return named.pop()
    return sole_endpoint(bs)


def attribute_process(
    pid: int, gpu: int, bindings: Iterable[EndpointBinding], parent_of: ParentOf = proc_parent
) -> str | None:
    """A process's endpoint: process tree first, else the GPU the profile names."""
    bs = list(bindings)
    return endpoint_of_pid(pid, bs, parent_of) or endpoint_of_gpu(gpu, bs) or sole_endpoint(bs)


def bindings_from(mapping: Mapping[str, Iterable[int]]) -> list[EndpointBinding]:
    """Convenience: {endpoint: gpu indices} → bindings."""
    return [EndpointBinding(name, gpu_indices=tuple(ix)) for name, ix in mapping.items()]
