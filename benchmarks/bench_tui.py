"""By hand: UI refresh CPU at 4 Hz with 4 endpoints under (fake) load, and key-press latency.

    python benchmarks/bench_tui.py [seconds]

Every refresh gets a changed snapshot (worst case). Floors: < 25% of one core; < 100 ms per key.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time

from qtui.live.fake import FakeFeed
from qtui.tui.app import QtuiApp
from qtui.tui.widgets.status.line import StatusLine


async def main(seconds: float) -> None:
    app = QtuiApp(FakeFeed(n=4, auto=True), hz=4)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        for view in ("m", "f", "c", "g", "m"):
            await pilot.press(view)
            c0, w0, r0 = time.process_time(), time.perf_counter(), app.refreshes
            await asyncio.sleep(seconds)
            cpu, wall = time.process_time() - c0, time.perf_counter() - w0
            print(
                f"view {view}: {app.refreshes - r0} refreshes in {wall:.1f} s, "
                f"CPU {cpu / wall * 100:.1f}% of one core"
            )
        lat, handled = [], []
        status = app.query_one(StatusLine)
        for i in range(40):
            before = status.text
            t0 = time.monotonic()
            await pilot.press("right_square_bracket" if i % 2 == 0 else "left_square_bracket")
            handled.append((app.last_render_mono - t0) * 1e3)
            await pilot.pause()
            assert status.text != before
            lat.append((time.monotonic() - t0) * 1e3)
        handled.sort()
        print(
            f"key → widgets updated: p50 {statistics.median(handled):.1f} ms, max {handled[-1]:.1f}"
        )
        lat.sort()
        print(
            f"key → render: p50 {statistics.median(lat):.1f} ms, "
            f"p95 {lat[int(len(lat) * 0.95) - 1]:.1f} ms, max {lat[-1]:.1f} ms (n={len(lat)})"
        )


if __name__ == "__main__":
    asyncio.run(main(float(sys.argv[1]) if len(sys.argv) > 1 else 10.0))
