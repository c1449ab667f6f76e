"""The app while a server dies (kill -9 of its process) and comes back on the same port: the
endpoint's errors line says "down N s" while it fails and "outage N s at hh:mm:ss" after it
answered again, the same span the decision record's note names (qtui.evidence.outages)."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from badhttp import free_port
from textual.pilot import Pilot

from qtui.config.load import load_model
from qtui.config.profile import Profile
from qtui.live.controller import LiveFeed
from qtui.live.tables import tables_for
from qtui.session import load_session
from qtui.session.decision import outage_notes
from qtui.tui.app import QtuiApp

HERE = Path(__file__).resolve().parent
DEADLINE_S = 60.0  # a deadline for a condition, never a measured duration


class Server:
    """`badhttp.py PORT` as a process; counts the completion requests it answered."""

    def __init__(self, port: int) -> None:
        self.p = subprocess.Popen(
            [sys.executable, str(HERE / "badhttp.py"), str(port)], stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        assert self.p.stdout is not None
        assert self.p.stdout.readline().strip() == "ready"
        self.requests = 0
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        assert self.p.stdout is not None
        for line in self.p.stdout:
            if line.startswith("request "):
                self.requests += 1

    def kill(self) -> None:
        self.p.kill()
        self.p.wait(10)


@contextmanager
def server(port: int) -> Iterator[Server]:
    s = Server(port)
    try:
        yield s
    finally:
        s.kill()


async def until(pilot: Pilot[None], what: str, cond: Callable[[], bool]) -> None:
    for _ in range(int(DEADLINE_S / 0.1)):
        if cond():
            return
        await pilot.pause(0.1)
    pytest.fail(f"timed out waiting for: {what}")


def screen(app: QtuiApp) -> str:
    return "\n".join(s.text for s in app.screen._compositor.render_strips())


async def test_the_app_says_down_while_a_server_is_dead_and_the_outage_after(
    tmp_path: Path,
) -> None:
    port = free_port()
    path = tmp_path / "p.toml"
    path.write_text(
        f'[profile]\nname = "outage"\n[[endpoints]]\nname = "b"\nurl = "http://127.0.0.1:{port}"\n'
        'precision = "bf16"\n[workload]\ninput_tokens = { mean = 8 }\n'
        "output_tokens = { mean = 4 }\n[load]\nconcurrency = 2\nwarmup_s = 0\n"
    )
    prof = load_model(path, Profile)
    feed = LiveFeed(
        prof, tables_for(prof), {"b": f"http://127.0.0.1:{port}"}, profile_path=path,
        autostart_load=True, record=tmp_path / "live.qtsession",
    )  # fmt: skip
    app = QtuiApp(feed)
    with server(port) as first:
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, "10 requests answered", lambda: first.requests >= 10)
            first.kill()
            await until(pilot, "'down N s' on screen", lambda: " · down " in screen(app))
            with server(port) as second:
                shown = re.compile(r"· outage (\d+\.\d) s at (\d\d:\d\d:\d\d)")
                await until(pilot, "'outage …' on screen", lambda: bool(shown.search(screen(app))))
                said = shown.search(screen(app))
                assert said is not None and "down" not in screen(app)
                await until(pilot, "measured again", lambda: second.requests >= 10)
                await pilot.press("q")
    assert feed.saved_path is not None
    notes = outage_notes(load_session(feed.saved_path))
    assert len(notes) == 1  # the record names the same span the app showed
    assert notes[0].startswith(f"b: no request completed for {said[1]} s ({said[2]}–")
    assert notes[0].endswith("; measured again after")
