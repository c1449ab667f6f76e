"""The client watching itself: event-loop lag and loop-thread CPU, so its limit is not reported
as the server's."""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass
from typing import Any

PROBE_S = 0.02  # how often the lag probe wakes up
LAG_LIMIT_S = 0.05  # a loop that wakes this late has more work than it can do promptly
CPU_LIMIT = 0.90  # fraction of one core used by the event-loop thread
MIN_JUDGED_S = 0.5  # a shorter sample (the run's last, partial second) is not judged


@dataclass(frozen=True, slots=True)
class ClientHealth:
    """One second of the client's own load."""

    t: float
    loop_lag_mean_s: float
    loop_lag_max_s: float
    cpu: float  # fraction of one core, event-loop thread
    client_bound: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def is_client_bound(lag_mean: float, cpu: float) -> bool:
    """Flagged when the loop is late on average past LAG_LIMIT_S or its thread is near a core."""
    return lag_mean > LAG_LIMIT_S or cpu > CPU_LIMIT


class LoopMonitor:
    """A probe task measuring how late the event loop wakes it; read once a second."""

    def __init__(self) -> None:
        self._lags: list[float] = []
        self._task: asyncio.Task[None] | None = None
        self._cpu0 = time.thread_time()
        self._wall0 = time.perf_counter()

    def start(self) -> None:
        self._cpu0, self._wall0 = time.thread_time(), time.perf_counter()
        self._task = asyncio.get_running_loop().create_task(self._probe())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _probe(self) -> None:
        while True:
            t0 = time.perf_counter()
            await asyncio.sleep(PROBE_S)
            self._lags.append(max(0.0, time.perf_counter() - t0 - PROBE_S))

    def sample(self) -> ClientHealth:
        """Lag and CPU since the previous sample (call from the loop thread)."""
        cpu1, wall1 = time.thread_time(), time.perf_counter()
        dt = wall1 - self._wall0
        cpu = (cpu1 - self._cpu0) / dt if dt > 0 else 0.0
        self._cpu0, self._wall0 = cpu1, wall1
        lags, self._lags = self._lags, []
        mean = sum(lags) / len(lags) if lags else 0.0
        mx = max(lags) if lags else 0.0
        if not lags and dt > 4 * PROBE_S:  # the probe never ran: the loop was blocked
            mean = mx = dt
        # a few busy or late ms in a sliver of a second say nothing about keeping up
        bound = dt >= MIN_JUDGED_S and is_client_bound(mean, cpu)
        return ClientHealth(time.time(), mean, mx, cpu, bound)
