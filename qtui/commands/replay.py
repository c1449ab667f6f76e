"""`qtui replay SESSION`: the app on recorded data (no network, no GPU)."""

from __future__ import annotations

from pathlib import Path

from qtui.errors import QtuiError


def run(session: tuple[Path, ...], speed: float = 1.0) -> None:
    from qtui.live.replay import MAX_SPEED, MIN_SPEED, ReplayFeed
    from qtui.session.reader import load_session
    from qtui.tui.app import QtuiApp

    if not MIN_SPEED <= speed <= MAX_SPEED:
        raise QtuiError(f"--speed {speed:g}: must be between 1 and 60")
    if len(session) > 1:
        raise QtuiError("replaying several sessions side by side is not built yet; pass one file")
    feed = ReplayFeed(load_session(session[0]), speed=speed)
    QtuiApp(feed, title=f"qtui replay {session[0].name}").run()
