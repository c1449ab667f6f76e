"""`qtui demo`: the simulator, the app attached to it, and a moderate load; all stopped on exit."""

from __future__ import annotations

from pathlib import Path

from qtui.errors import NotBuiltYet


def run(profile: Path | None = None) -> None:
    from qtui.config.load import load_model
    from qtui.config.paths import demo_profile
    from qtui.config.profile import Profile
    from qtui.live.controller import LiveFeed
    from qtui.live.tables import tables_for
    from qtui.tui.app import QtuiApp

    path = profile or demo_profile()
    prof = load_model(path, Profile)
    try:
        from qtui.sim.launcher import start_sim  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        raise NotBuiltYet("the simulator launcher (qtui.sim.launcher) is not built yet") from None
    sim = start_sim(path, 0)
    try:
        feed = LiveFeed(
            prof, tables_for(prof), dict(sim.endpoints), simulated=True, autostart_load=True
        )
        QtuiApp(feed, title=f"qtui demo · {prof.profile.name} (simulated)").run()
    finally:
        sim.stop()
