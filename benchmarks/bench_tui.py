"""By hand: UI refresh CPU at 4 Hz with 4 endpoints under load, and key-press latency.

    python benchmarks/bench_tui.py [seconds] [--fake]

Default: 4 simulated endpoints (the demo's 3 plus an int8 one) served by qtui's simulator, the
real live feed driving load at them from its measurement process; the app's own process is
measured (the worker's and the simulator's CPU are printed beside it). ``--fake``: the
deterministic fake feed (every refresh gets a changed snapshot: the worst case for rendering).
Floors (issue 8): < 25% of one core at 4 Hz; key presses answered within 100 ms.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from textual import events

from qtui.config.load import load_model
from qtui.config.paths import demo_profile
from qtui.config.profile import Profile
from qtui.live.controller import LiveFeed
from qtui.live.fake import FakeFeed
from qtui.live.feed import Feed
from qtui.live.tables import tables_for
from qtui.sim.launcher import start_sim
from qtui.tui.app import QtuiApp
from qtui.tui.widgets.status.line import StatusLine

INT8 = """
[[endpoints]]
name = "int8"
precision = "int8"
gpu = "H100"
telemetry = "dcgm"
[endpoints.simulate]
model = "llama-3.1-8b"
weights = "int8"
kv_cache_dtype = "bf16"
quality_error_rate = 0.05
"""


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def four_endpoint_profile(tmp: Path) -> Path:
    text = demo_profile().read_text()
    head, tail = text.split("[workload]", 1)
    path = tmp / "bench4.toml"
    path.write_text(head + INT8 + "\n[workload]" + tail)
    (tmp / "golden").mkdir()
    (tmp / "golden" / "demo.jsonl").write_text(
        (demo_profile().parent / "golden" / "demo.jsonl").read_text()
    )
    return path


async def measure(app: QtuiApp, feed: Feed, seconds: float, others: dict[str, int]) -> None:
    async with app.run_test(size=(160, 48)) as pilot:
        if isinstance(feed, LiveFeed):
            while not all((e.out_tps or 0) > 0 for e in feed.snapshot().endpoints):
                await pilot.pause(0.2)
        await pilot.pause()
        for view in ("m", "f", "c", "g", "m"):
            await pilot.press(view)
            c0, w0, r0 = time.process_time(), time.perf_counter(), app.refreshes
            o0 = {k: cpu_s(p) for k, p in others.items()}
            await asyncio.sleep(seconds)
            cpu, wall = time.process_time() - c0, time.perf_counter() - w0
            beside = ", ".join(
                f"{k} {(cpu_s(p) - o0[k]) / wall * 100:.0f}%" for k, p in others.items()
            )
            print(
                f"view {view}: {app.refreshes - r0} refreshes in {wall:.1f} s, "
                f"app CPU {cpu / wall * 100:.1f}% of one core"
                + (f" (beside it: {beside})" if beside else "")
            )
        print(await key_latency(app, n=40))
        await app.action_quit()


async def key_latency(app: QtuiApp, n: int) -> str:
    """Input to the frame on the terminal: a key event goes in the way the driver delivers it,
    and the clock stops when the app writes the first frame that shows its effect (the status
    line's level changed). Pilot's own wait-for-idle is not part of the figure."""
    status = app.query_one(StatusLine)
    displayed = asyncio.Event()
    original = app._display

    def display(screen, renderable):  # type: ignore[no-untyped-def]
        original(screen, renderable)
        if renderable is not None and status.text != before:
            displayed.set()

    app._display = display  # type: ignore[method-assign]
    handled, lat = [], []
    for i in range(n):
        key = "right_square_bracket" if i % 2 == 0 else "left_square_bracket"
        before, rendered0 = status.text, app.last_render_mono
        displayed.clear()
        t0 = time.monotonic()
        app.post_message(events.Key(key, "]" if i % 2 == 0 else "["))
        await asyncio.wait_for(displayed.wait(), 5)
        lat.append((time.monotonic() - t0) * 1e3)
        assert app.last_render_mono > rendered0
        handled.append((app.last_render_mono - t0) * 1e3)
        await asyncio.sleep(0.05 + (i % 7) * 0.021)  # keys land at every phase of the 4 Hz tick
    app._display = original  # type: ignore[method-assign]
    handled.sort()
    lat.sort()
    return (
        f"key → widgets updated: p50 {statistics.median(handled):.1f} ms, max {handled[-1]:.1f}\n"
        f"key → frame written: p50 {statistics.median(lat):.1f} ms, "
        f"p95 {lat[int(len(lat) * 0.95) - 1]:.1f} ms, max {lat[-1]:.1f} ms (n={len(lat)})"
    )


def main(seconds: float, fake: bool) -> None:
    if fake:
        feed: Feed = FakeFeed(n=4, auto=True)
        asyncio.run(measure(QtuiApp(feed, hz=4), feed, seconds, {}))
        return
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        path = four_endpoint_profile(tmp)
        sim = stack.enter_context(start_sim(path, 0))
        prof = load_model(path, Profile)
        live = LiveFeed(
            prof, tables_for(prof), sim.endpoints, profile_path=path, simulated=True,
            autostart_load=True, telemetry_urls=sim.dcgm_urls,
        )  # fmt: skip
        app = QtuiApp(live, hz=4)

        async def go() -> None:
            await live.start()
            app.feed = _Started(live)
            await measure(app, live, seconds, {"simulator": sim.pid, "worker": live._proc.pid})

        asyncio.run(go())


class _Started:
    """The feed, already started (the benchmark needs the worker's pid before the app runs)."""

    def __init__(self, feed: LiveFeed) -> None:
        self.feed = feed

    def snapshot(self):  # type: ignore[no-untyped-def]
        return self.feed.snapshot()

    def send(self, intent):  # type: ignore[no-untyped-def]
        return self.feed.send(intent)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        await self.feed.stop()


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    main(float(args[0]) if args else 10.0, "--fake" in sys.argv)
