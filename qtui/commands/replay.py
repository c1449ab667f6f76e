"""`qtui replay SESSION...`: the app on recorded data (no network, no GPU); several side by side.

What the reviewer changed is written on exit as a review session next to the original.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from qtui.errors import QtuiError

if TYPE_CHECKING:
    from qtui.session.reader import Session


def open_sessions(paths: tuple[Path, ...] | list[Path]) -> Session:
    """One session, or several merged: endpoints labelled by session, clocks aligned at start."""
    from qtui.session.compare import merge_sessions
    from qtui.session.reader import load_session

    loaded = [load_session(p) for p in paths]
    for s in loaded:
        for w in s.warnings:
            click.echo(f"qtui: warning: {w}", err=True)
    if len(loaded) == 1:
        return loaded[0]
    return merge_sessions(loaded, align=True, always_label=True)


def review_message(feed: Any) -> str | None:
    """What the reviewer is told on exit about the review session (None: nothing changed)."""
    if feed.saved_path is not None:
        p = feed.saved_path
        return f"review saved: {p} (qtui replay {p}; qtui report {p})"
    if feed.review_error is not None:
        return f"review not saved: {feed.review_error}"
    if feed.review and feed.review_of is None:
        return "review not saved: several sessions were replayed together; replay one to keep one"
    return None


def run(session: tuple[Path, ...], speed: float = 1.0) -> None:
    from qtui.live.replay import MAX_SPEED, MIN_SPEED, ReplayFeed
    from qtui.tui.app import QtuiApp

    if not MIN_SPEED <= speed <= MAX_SPEED:
        raise QtuiError(f"--speed {speed:g}: must be between 1 and 60")
    review_of = session[0] if len(session) == 1 else None
    if review_of is not None:  # a review a killed replay left as a draft is finished first
        from qtui.session.review_draft import recover_drafts

        for line in recover_drafts(review_of):
            print(line, file=sys.stderr)
    feed = ReplayFeed(open_sessions(session), speed=speed, review_of=review_of)
    names = " + ".join(p.name for p in session)
    QtuiApp(feed, title=f"qtui replay {names}").run()
    message = review_message(feed)
    if message:
        print(message, file=sys.stderr)
