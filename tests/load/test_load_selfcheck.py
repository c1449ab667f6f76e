"""The client's self-check: a blocked event loop is flagged; a busy sliver of a second is not."""

from __future__ import annotations

import asyncio
import time

from qtui.load.selfcheck import LAG_LIMIT_S, MIN_JUDGED_S, PROBE_S, LoopMonitor, is_client_bound


def busy(seconds: float) -> None:
    """Hold the event loop's thread (and a CPU) without yielding."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def test_thresholds() -> None:
    assert not is_client_bound(0.001, 0.5)
    assert is_client_bound(LAG_LIMIT_S * 2, 0.1)
    assert is_client_bound(0.0, 0.95)


async def test_a_loop_held_past_the_lag_limit_is_flagged() -> None:
    m = LoopMonitor()
    m.start()
    await asyncio.sleep(0)  # the probe is armed
    held = max(6 * LAG_LIMIT_S, MIN_JUDGED_S)
    busy(held)  # its wake-up comes late by about that much
    while not m._lags:  # let it run once (yielding, not waiting on a clock)
        await asyncio.sleep(0)
    h = m.sample()
    await m.stop()
    assert h.loop_lag_max_s >= held - PROBE_S and h.client_bound


async def test_a_short_last_sample_is_not_judged() -> None:
    """The run's final, partial second: a few busy ms are a full core over that sliver, not a
    client that cannot keep up."""
    m = LoopMonitor()
    m.start()
    busy(PROBE_S / 2)  # shorter than the probe period: no lag can show
    h = m.sample()
    await m.stop()
    assert MIN_JUDGED_S > PROBE_S / 2 and h.loop_lag_mean_s == 0.0
    assert not h.client_bound  # its CPU was up to a full core, over ~10 ms
