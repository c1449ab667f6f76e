"""`qtui demo`: the simulator, the app attached to it, and a moderate load; all stopped on exit."""

from __future__ import annotations

import sys
from pathlib import Path

from qtui.commands.run import default_session_path, saved_message


def run(profile: Path | None = None, record: Path | None = None, no_record: bool = False) -> None:
    from qtui.config.load import load_model
    from qtui.config.paths import demo_profile
    from qtui.config.profile import Profile
    from qtui.live.controller import LiveFeed
    from qtui.live.tables import tables_for
    from qtui.sim.launcher import start_sim
    from qtui.tui.app import QtuiApp

    path = profile or demo_profile()
    prof = load_model(path, Profile)
    tables = tables_for(prof)
    with start_sim(path, 0) as sim:
        feed = LiveFeed(
            prof,
            tables,
            sim.endpoints,
            profile_path=path,
            simulated=True,
            autostart_load=True,
            telemetry_urls=sim.dcgm_urls,
            record=None if no_record else record or default_session_path(prof.profile.name),
        )
        QtuiApp(feed, title=f"qtui demo · {prof.profile.name} (simulated)").run()
    print(saved_message(feed), file=sys.stderr)
