"""Sessions: record everything (crash-safe journal), replay it anywhere, compare, report.

Recording: ``SessionWriter(path, profile=...)`` then ``append(kind, record)``, ``close()``.
Reading: ``load_session(path)`` → ``Session`` (lazy polars frames per kind, profile, warnings).
"""

from __future__ import annotations

from qtui.session.reader import Session, load_session
from qtui.session.schema import FORMAT, SUFFIX, VERSION
from qtui.session.writer import SessionWriter, finalise_journal

__all__ = [
    "FORMAT",
    "SUFFIX",
    "VERSION",
    "Session",
    "SessionWriter",
    "finalise_journal",
    "load_session",
]
