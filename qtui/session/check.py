"""`qtui check SESSION`: open a session the way replay would and sum it up in one line."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from qtui.session.reader import load_session


def check_session(path: Path) -> str:
    """One-line summary of ``path``; ConfigError when it is not a readable session."""
    s = load_session(path)
    counts = pl.collect_all([lf.select(pl.len()) for lf in s.tables.values()])
    n = dict(zip(s.tables, (int(c.item()) for c in counts), strict=True))
    span = s.time_range
    minutes = f", {(span[1] - span[0]) / 60:.1f} min" if span else ""
    parts = ", ".join(f"{n[k]} {k}" for k in ("request", "client_second", "gpu_sample") if k in n)
    state = (
        "ok" if not s.warnings else f"readable with {len(s.warnings)} warning(s): {s.warnings[0]}"
    )
    kind = "session" if s.finalised else "session journal"
    return (
        f"{path}: {state} ({kind} v{s.header.get('version')} from qtui "
        f"{s.header.get('qtui_version')}, {s.label!r}, {len(s.endpoints)} endpoints"
        f"{minutes}{', ' + parts if parts else ''})"
    )
