"""End to end: `qtui demo` in a real terminal (tmux), read the way a person reads it."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from terminal import Tmux

from qtui.session import load_session

pytestmark = pytest.mark.tmux
DEADLINE_S = 90.0  # a deadline for what the screen must show, not a measured duration
TOKENS = re.compile(r"\b[1-9][\d,]* tok/s")


def wait_for(term: Tmux, what: str, cond: Callable[[str], bool]) -> str:
    """Poll the screen until ``cond`` holds on it; fail with the last screen past the deadline."""
    end = time.monotonic() + DEADLINE_S
    screen = ""
    while time.monotonic() < end:
        screen = term.screen()
        if cond(screen):
            return screen
        time.sleep(0.2)  # polling interval of a condition, not synchronisation by sleeping
    pytest.fail(f"timed out waiting for {what}; screen was:\n{screen}")


def test_demo_in_tmux_shows_live_numbers_answers_keys_and_saves(tmp_path: Path) -> None:
    term = Tmux("demo", 100, 30)
    session = tmp_path / "demo.qtsession"
    term.start(f"{sys.executable} -m qtui demo --record {session}", str(tmp_path))
    try:
        main = wait_for(
            term, "tokens/s on all three endpoints", lambda s: len(TOKENS.findall(s)) >= 3
        )
        for name in ("bf16", "fp8", "int4-awq"):
            assert name in main
        assert "GiB" in main and "TTFT" in main and "load on" in main

        term.keys("f")
        fin = wait_for(term, "the finance view", lambda s: "Precision comparison" in s)
        assert "simulated" in fin

        term.keys("?")
        wait_for(term, "the help screen", lambda s: "qtui keys" in s)
        term.keys("Escape")
        wait_for(term, "help closed", lambda s: "qtui keys" not in s)

        term.keys("m", "space")
        wait_for(term, "load stopped", lambda s: "load off" in s)

        term.keys("q")
        wait_for(term, "the app to exit", lambda s: term.dead())
        said = term.screen(history=200).replace("\n", "")
        assert f"session saved: {session}" in said
    finally:
        term.kill()
    s = load_session(session)
    assert not s.warnings
    assert sorted(s.frame("request")["endpoint"].unique().to_list()) == ["bf16", "fp8", "int4-awq"]


EXTENDED_COLOUR = re.compile(r"\x1b\[[0-9;]*(38|48);[25];")


def test_demo_in_a_16_colour_terminal_uses_only_the_16_colours(tmp_path: Path) -> None:
    term = Tmux("demo16", 80, 24)
    term.start(
        f"env TERM=xterm-16color COLORTERM= {sys.executable} -m qtui demo --no-record",
        str(tmp_path),
    )
    try:
        wait_for(term, "tokens/s on the endpoints", lambda s: len(TOKENS.findall(s)) >= 2)
        coloured = term.screen(escapes=True)
        assert "\x1b[" in coloured  # it is in colour...
        assert not EXTENDED_COLOUR.search(coloured)  # ...but only the 16 basic ones
        term.keys("q")
        wait_for(term, "the app to exit", lambda s: term.dead())
    finally:
        term.kill()
