"""Latency percentiles over the last few seconds, from one mergeable sketch per second.

A 1 s window holds no finished request when requests last longer than a second, so a live
display fed only by it would blink between a figure and a dash. The live columns show the
percentiles of every request that finished in the last ``window_s`` seconds instead.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from qtui.evidence.records import RequestRecord
from qtui.metrics.stats import LogHistogram

WINDOW_S = 10
METRICS = ("ttft", "itl", "e2e")


class RollingLatency:
    """TTFT / ITL / e2e percentiles of one endpoint's requests over a sliding window."""

    def __init__(self, window_s: int = WINDOW_S, alpha: float = 0.01) -> None:
        self.window_s = window_s
        self.alpha = alpha
        self._pending: dict[str, list[float]] = {m: [] for m in METRICS}
        self._itl: list[np.ndarray] = []
        self._seconds: deque[dict[str, LogHistogram]] = deque(maxlen=window_s)
        self._counts: deque[int] = deque(maxlen=window_s)

    def add(self, rec: RequestRecord) -> None:
        """A finished request of the measure phase counts; failures and warm-up do not."""
        if not rec.ok or rec.phase != "measure" or not rec.chunk_times:
            return
        self._pending["ttft"].append(rec.chunk_times[0])
        self._pending["e2e"].append(rec.chunk_times[-1])
        if len(rec.chunk_times) > 1:
            self._itl.append(np.diff(np.asarray(rec.chunk_times)))

    def roll(self) -> dict[str, float | None]:
        """Close the current second: ``win_<metric>_p50/p95`` (s) and ``win_rps`` (finished
        requests per second) over the window, and ``win_s``, the seconds it spans."""
        second = {m: LogHistogram(self.alpha) for m in METRICS}
        second["ttft"].add(self._pending["ttft"])
        second["e2e"].add(self._pending["e2e"])
        if self._itl:
            second["itl"].add(np.concatenate(self._itl))
        self._counts.append(len(self._pending["ttft"]))
        self._pending = {m: [] for m in METRICS}
        self._itl = []
        self._seconds.append(second)
        n = len(self._seconds)
        out: dict[str, float | None] = {"win_s": float(n), "win_rps": sum(self._counts) / n}
        for m in METRICS:
            merged = LogHistogram(self.alpha)
            for s in self._seconds:
                merged.merge(s[m])
            out[f"win_{m}_p50"] = merged.quantile(0.50)
            out[f"win_{m}_p95"] = merged.quantile(0.95)
        return out
