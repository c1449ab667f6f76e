"""The profile and its price table edited into invalid TOML while the app runs: measuring goes
on, the status line names each file in one line and says what to do, and the session holds
every request (its decision prices from the tables recorded at the start, and says why)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from badhttp import Bad, servers
from textual.pilot import Pilot

from qtui.config.load import load_model
from qtui.config.paths import shipped_pricing_dir
from qtui.config.profile import Profile
from qtui.live.controller import LiveFeed
from qtui.live.tables import tables_for
from qtui.session import load_session
from qtui.session.decision import decide
from qtui.tui.app import QtuiApp
from qtui.tui.widgets.status.line import StatusLine

DEADLINE_S = 60.0  # a deadline for a condition, never a measured duration
BROKEN = '[table]\nprovider = "half-saved\n'
WHAT_TO_DO = "qtui goes on with what it read at the start: fix the file before the next start"


async def until(pilot: Pilot[None], what: str, cond: Callable[[], bool]) -> None:
    for _ in range(int(DEADLINE_S / 0.1)):
        if cond():
            return
        await pilot.pause(0.1)
    pytest.fail(f"timed out waiting for: {what}")


async def test_files_broken_while_the_app_runs_are_said_and_lose_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prices = tmp_path / "pricing"
    prices.mkdir()
    monkeypatch.setenv("QTUI_PRICING_DIR", str(prices))
    table = prices / "mine.toml"
    shutil.copy(shipped_pricing_dir() / "aws.toml", table)
    prof = tmp_path / "p.toml"
    answered = [0]

    def count(n: int) -> None:
        answered[0] = n

    with servers() as s:
        url = s.start(Bad(on_request=count))
        prof.write_text(
            f'[profile]\nname = "toml"\n[[endpoints]]\nname = "a"\nurl = "{url}"\n'
            'precision = "bf16"\n[workload]\ninput_tokens = { mean = 8 }\n'
            "output_tokens = { mean = 4 }\n[load]\nconcurrency = 2\nwarmup_s = 0\n"
            '[cost]\nprice_table = "mine"\n'
        )
        profile = load_model(prof, Profile)
        feed = LiveFeed(
            profile, tables_for(profile), {"a": url}, profile_path=prof,
            autostart_load=True, record=tmp_path / "live.qtsession",
        )  # fmt: skip
        app = QtuiApp(feed)
        async with app.run_test(size=(80, 24)) as pilot:

            def status() -> str:
                return app.query_one(StatusLine).text

            for path, broken in (
                (prof, prof.read_text().replace("[load]", "[load\n")),
                (table, BROKEN),
            ):
                n = answered[0] + 10
                await until(pilot, "requests answered", lambda n=n: answered[0] >= n)
                tmp = path.with_suffix(".saving")  # as an editor saves: whole, then renamed
                tmp.write_text(broken)
                tmp.replace(path)
                await until(pilot, f"a line naming {path}", lambda p=path: f"{p}:" in status())
                line = next(x for x in status().split(" · ") if f"{path}:" in x)
                assert "malformed TOML" in line and line.endswith(WHAT_TO_DO)
                n = answered[0] + 10
                await until(pilot, "still measuring", lambda n=n: answered[0] >= n)
            await pilot.press("q")
    assert feed.saved_path is not None
    session = load_session(feed.saved_path)
    req = session.frame("request")
    assert req.height >= answered[0]  # every request the server answered is recorded
    assert set(req["error_class"].unique()) <= {"none", "cancelled"}
    assert "mine" in session.price_tables  # the prices as read at the start
    note = [n for n in decide(session).notes if "'mine'" in n]
    assert note and "is unreadable here" in note[0] and "using the prices recorded in" in note[0]
