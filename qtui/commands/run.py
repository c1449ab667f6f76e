"""`qtui run PROFILE`: the app attached to the profile's endpoints."""

from __future__ import annotations

import time
from pathlib import Path

from qtui.errors import QtuiError


def default_session_path(name: str) -> Path:
    return Path("sessions") / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.qtui"


def run(profile: Path, launch: bool = False, record: Path | None = None) -> None:
    from qtui.config.load import load_model
    from qtui.config.profile import Profile
    from qtui.live.controller import LiveFeed
    from qtui.live.tables import tables_for
    from qtui.tui.app import QtuiApp

    if launch:
        raise QtuiError("--launch is not built yet; start the vLLM servers yourself")
    prof = load_model(profile, Profile)
    missing = [e.name for e in prof.endpoints if not e.url]
    if missing:
        raise QtuiError(
            f"{profile}: endpoints without a url: {', '.join(missing)}; "
            "use qtui demo for simulated ones"
        )
    feed = LiveFeed(
        prof,
        tables_for(prof),
        {e.name: e.url for e in prof.endpoints},
        record=record or default_session_path(prof.profile.name),
    )
    QtuiApp(feed, title=f"qtui · {prof.profile.name}").run()
