"""The one small interface every telemetry source implements, and the source for "no GPU"."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from qtui.evidence.records import GpuSnapshot


@runtime_checkable
class TelemetrySource(Protocol):
    """Blocking sample of GPU state; implementations turn every failure into a status."""

    def sample(self) -> GpuSnapshot: ...

    def close(self) -> None: ...


class NoTelemetry:
    """For endpoints with telemetry="none" (CPU engines): says so instead of showing zeros."""

    kind = "none"

    def __init__(
        self,
        reason: str = "telemetry disabled for this endpoint (no GPU)",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._reason = reason
        self._clock = clock

    def sample(self) -> GpuSnapshot:
        return GpuSnapshot("none", self._clock(), "no_telemetry", self._reason)

    def close(self) -> None:
        return None
