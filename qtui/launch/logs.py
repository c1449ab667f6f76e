"""What each server qtui launched states in its own log: the weights it loaded ("Model loading
took 0.26 GiB"), recorded as a ``launch``/``weights`` event (value: endpoint, bytes, basis)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from qtui.engines.server import ServerProcess
from qtui.evidence.memory import stated_weights


def launch_weights(servers: Mapping[str, ServerProcess]) -> list[dict[str, Any]]:
    """One event value per launched server whose log states its weights (reads the logs)."""
    out = []
    for name, server in servers.items():
        path = server.log_path
        w = stated_weights(path.read_text(errors="replace")) if path.exists() else None
        if w is not None and w.bytes is not None:
            out.append({"endpoint": name, "bytes": w.bytes, "basis": w.basis})
    return out
