"""Which local process serves an endpoint: the one listening on its URL's port on this host.

Servers started by hand (`vllm serve ...`, then `qtui run`) are not qtui's children, so their
pids are unknown; several of them on one GPU (the usual way to compare precisions) cannot be
told apart by GPU index. The listening socket names the server's root process, and NVML's
per-process memory then maps to it through the process tree (qtui.gpu.binding).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Mapping
from typing import NamedTuple
from urllib.parse import urlsplit

LOCAL_NAMES = {"localhost", "0.0.0.0", "::"}


class Listener(NamedTuple):
    """A listening TCP socket: its address, port and owning pid (None when not readable)."""

    ip: str
    port: int
    pid: int | None


def listeners() -> list[Listener]:
    """Listening TCP sockets on this host (psutil; pids of other users' processes may be None)."""
    import psutil

    try:
        conns = psutil.net_connections(kind="tcp")
    except (psutil.AccessDenied, OSError):
        return []
    return [
        Listener(c.laddr.ip, c.laddr.port, c.pid)
        for c in conns
        if c.status == psutil.CONN_LISTEN and c.laddr
    ]


def own_addresses() -> set[str]:
    """This host's interface addresses (psutil)."""
    import psutil

    return {a.address for addrs in psutil.net_if_addrs().values() for a in addrs}


def is_local_host(host: str) -> bool:
    """True for loopback, the wildcard names and this host's name (addresses: own_addresses)."""
    if host in LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == socket.gethostname()


def server_pids(
    urls: Mapping[str, str],
    found: Callable[[], list[Listener]] = listeners,
    own: Callable[[], Iterable[str]] = own_addresses,
) -> dict[str, int]:
    """Endpoint name → pid of the process listening on its URL's port, for URLs on this host."""
    wanted: dict[int, list[str]] = {}
    mine: set[str] | None = None
    for name, url in urls.items():
        parts = urlsplit(url)
        host = parts.hostname
        if host is None:
            continue
        if not is_local_host(host):
            mine = set(own()) if mine is None else mine
            if host not in mine:
                continue
        port = parts.port or (443 if parts.scheme == "https" else 80)
        wanted.setdefault(port, []).append(name)
    if not wanted:
        return {}
    out: dict[str, int] = {}
    for ln in found():
        if ln.pid is not None and ln.port in wanted:
            out.update(dict.fromkeys(wanted[ln.port], ln.pid))
    return out
