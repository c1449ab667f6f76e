"""`qtui run PROFILE`: the app attached to the profile's endpoints."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from qtui.config.profile import Profile
from qtui.errors import QtuiError


def default_session_path(name: str) -> Path:
    """Where a session is recorded unless told otherwise: ./sessions/<profile>-<time>.qtsession."""
    return Path("sessions") / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.qtsession"


def saved_message(feed: Any) -> str:
    """What the user is told on exit about the session file."""
    if feed.saved_path is not None:
        return f"session saved: {feed.saved_path} (qtui replay {feed.saved_path})"
    if feed.record_path is not None and Path(feed.record_path).exists():
        return (
            f"session recorded but not finalised: {feed.record_path} "
            f"(readable as is; qtui check {feed.record_path})"
        )
    return "no session recorded"


def run(
    profile: Path, launch: bool = False, record: Path | None = None, no_record: bool = False
) -> None:
    from qtui.config.load import load_model

    prof = load_model(profile, Profile)
    if launch:  # start the profile's vLLM servers, attach to them, stop them when the app exits
        from qtui.launch.plan import with_urls
        from qtui.launch.vllm import LOG_DIR, launched

        with launched(prof, LOG_DIR) as up:
            return _attach(
                with_urls(prof, up.urls), profile, record, no_record, up.pids, up.servers
            )
    _attach(prof, profile, record, no_record)


def _attach(
    prof: Profile,
    profile: Path,
    record: Path | None,
    no_record: bool,
    pids: dict[str, int] | None = None,
    servers: dict[str, Any] | None = None,
) -> None:
    from qtui.live.controller import LiveFeed
    from qtui.live.tables import tables_for
    from qtui.tui.app import QtuiApp

    missing = [e.name for e in prof.endpoints if not e.url]
    if missing:
        raise QtuiError(
            f"{profile}: endpoints without a url: {', '.join(missing)}; "
            "use qtui demo for simulated ones"
        )
    feed = LiveFeed(
        prof,
        tables_for(prof),
        {e.name: e.url for e in prof.endpoints if e.url},
        profile_path=profile,
        record=None if no_record else record or default_session_path(prof.profile.name),
        pids=pids,
        servers=servers,
    )
    QtuiApp(feed, title=f"qtui · {prof.profile.name}").run()
    print(saved_message(feed), file=sys.stderr)
