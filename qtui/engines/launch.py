"""Serve a profile's endpoints with llama.cpp: which file on which fixed port (plan + shell)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from qtui.config.profile import Profile
from qtui.engines.cache import cache_dir
from qtui.engines.provision import ensure_engine, ensure_smollm2
from qtui.engines.quantize import build_variants
from qtui.engines.server import ServerProcess, ServerSpec, running_servers
from qtui.engines.variants import REFERENCE, Variant, variant
from qtui.errors import ConfigError

LOOPBACK = ("127.0.0.1", "localhost")


def endpoint_port(name: str, url: str) -> int:
    """The port of a loopback endpoint URL; anything else is a one-line error."""
    parts = urlsplit(url)
    if parts.hostname not in LOOPBACK or parts.port is None:
        raise ConfigError(
            f"endpoint {name}: url {url!r} must be http://127.0.0.1:PORT for a local llama.cpp "
            "server (qtui starts it there)"
        )
    return parts.port


def variants_for(profile: Profile) -> tuple[Variant, ...]:
    """The quantizations a profile names: the shipped Q4_1 as is, the others re-quantized."""
    out: list[Variant] = []
    for ep in profile.endpoints:
        try:
            v = REFERENCE if ep.precision == REFERENCE.precision else variant(ep.precision)
        except ValueError as exc:
            raise ConfigError(f"endpoint {ep.name}: {exc}") from None
        if v not in out:
            out.append(v)
    return tuple(out)


def plan(profile: Profile, files: dict[str, Path]) -> list[ServerSpec]:
    """One server per endpoint: its variant's file, its model id, its URL's port."""
    return [
        ServerSpec(
            name=ep.name,
            model=files[ep.precision],
            alias=ep.model or ep.name,
            port=endpoint_port(ep.name, ep.url),
        )
        for ep in profile.endpoints
    ]


@contextmanager
def serve_profile(
    profile: Profile, log_dir: Path | None = None, log: Callable[[str], None] = print
) -> Iterator[list[ServerProcess]]:
    """Provision the engine and the variants, then run the profile's servers until exit."""
    variants = variants_for(profile)
    for ep in profile.endpoints:  # a bad URL fails before minutes of building
        endpoint_port(ep.name, ep.url)
    engine = ensure_engine(log=log)
    source = ensure_smollm2(log=log)
    files = build_variants(engine, source, variants, cache_dir() / "models" / "variants")
    logs = log_dir or cache_dir() / "logs" / "servers"
    with running_servers(engine.python, plan(profile, files), logs) as servers:
        yield servers


def wait_for_signal() -> None:
    """Block until SIGINT or SIGTERM (the servers stop when the caller's `with` exits)."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
