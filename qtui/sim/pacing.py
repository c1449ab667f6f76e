"""How often a stream's tokens are written out, so one process keeps up with many streams.

vLLM's engine core runs apart from its API server; when the server cannot write every step's
token to every stream, tokens wait in the per-request output collector and go out merged into
one chunk. The simulator does the same on purpose rather than by accident: with ``live`` streams,
each socket write costing ``write_cost_s`` of CPU and an engine step of ``step_s``, writing every
stream every step would need ``live × write_cost_s / step_s`` cores. The pacer spreads streams over
``stride`` groups, one group written per step (first tokens and finishes always go out at once),
so writes take at most ``budget`` of one core and the event loop stays on time.
"""

from __future__ import annotations

import math
import time

WRITE_BUDGET = 0.5  # fraction of one core that stream writes may take
MAX_HOLD_S = 0.25  # never hold a stream's tokens back longer than this


def stride(
    live: int,
    step_s: float,
    write_cost_s: float,
    budget: float = WRITE_BUDGET,
    max_hold_s: float = MAX_HOLD_S,
) -> int:
    """Write each stream every ``stride`` engine steps (1: every step, one token per chunk)."""
    if live <= 0 or step_s <= 0 or write_cost_s <= 0:
        return 1
    need = math.ceil(live * write_cost_s / (budget * step_s))
    cap = max(1, int(max_hold_s / step_s))
    return max(1, min(need, cap))


class Pacer:
    """Live streams and the measured CPU cost of one write, shared by a process's endpoints."""

    def __init__(
        self, write_cost_s: float = 50e-6, min_writes: int = 200, fixed: bool = False
    ) -> None:
        self.write_cost_s = write_cost_s
        # never learn (benchmarks comparing two clients): the same live streams get the same
        # chunks in every run, however busy the simulator's machine happens to be
        self.fixed = fixed
        self.live = 0
        self.writes = 0
        self._min = min_writes
        self._cpu0 = time.process_time()
        self._w0 = 0

    def stride(self, step_s: float) -> int:
        return stride(self.live, step_s, self.write_cost_s)

    def update(self) -> None:
        """Fold the CPU spent per write since the last update into the estimate (call ~1/s)."""
        if self.fixed:
            return
        cpu, dw = time.process_time(), self.writes - self._w0
        if dw >= self._min:
            sample = (cpu - self._cpu0) / dw
            self.write_cost_s = 0.7 * self.write_cost_s + 0.3 * sample
        self._cpu0, self._w0 = cpu, self.writes
