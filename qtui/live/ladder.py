"""Level ladders for the load controls: the steps level up / level down move between."""

from __future__ import annotations

from qtui.live.model import Mode

CONCURRENCY = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0)
RATE = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0)


def step(mode: Mode, current: float, direction: int) -> float:
    """The next rung up (+1) or down (-1) from ``current``; stays put at the ends."""
    rungs = RATE if mode == "rate" else CONCURRENCY
    if direction > 0:
        return next(
            (r for r in rungs if r > current), rungs[-1] if current < rungs[-1] else current
        )
    return next(
        (r for r in reversed(rungs) if r < current), current if current < rungs[0] else rungs[0]
    )
