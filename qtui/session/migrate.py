"""Older session shapes converted to the current one, in one place, as a file is read (pure).

Version 1 → 2: `qtui bench` wrote a ``sweep_level`` record for the one level of a held load
(concurrency or rate). In version 2 a ``sweep_level`` record is a sweep step only; a held load is
evidence through its per-second ``client_second`` records (a capacity lower bound), as the live
app has always recorded it. So a version-1 session whose run was not a sweep loses those rows.
"""

from __future__ import annotations

from qtui.session.store import Raw


def run_mode(raw: Raw) -> str | None:
    """The load mode the recording command noted last (``meta`` documents), if any."""
    modes = [m.get("mode") for m in raw.documents.get("meta", []) if m.get("mode")]
    return str(modes[-1]) if modes else None


def migrate(raw: Raw) -> Raw:
    """``raw`` in the current shape (a no-op for current files)."""
    version = raw.header.get("version")
    if isinstance(version, int) and version < 2:
        mode = run_mode(raw)
        if mode is not None and mode != "sweep" and "sweep_level" in raw.tables:
            del raw.tables["sweep_level"]
    return raw
