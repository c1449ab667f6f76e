"""Review sessions: what a reviewer changed while replaying a session, kept next to the original.

A review session is the original's records plus the reviewer's events (what-ifs, saved price
tables), each with the wall-clock time it was made (``wall_t``) and the replay position
(``position_s``). Its ``t`` puts it on the session's clock in the order the review applied it, so
``qtui replay`` and ``qtui report`` of the review reach the reviewer's final what-if.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from qtui.errors import QtuiError
from qtui.session.store import copy_with_documents

FALLBACK_DIR = Path("sessions")
"""Where a review goes when the original's directory is not writable (as ``qtui run`` records)."""


def review_path(original: Path, now: float, fallback: Path = FALLBACK_DIR) -> Path:
    """``<stem>-review-<YYYYmmdd-HHMMSS>.qtsession`` next to ``original``, else in ``fallback``;
    never an existing file."""
    stem = original.name.split(".")[0]
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    folder = original.parent if os.access(original.parent, os.W_OK) else fallback
    path = folder / f"{stem}-review-{stamp}.qtsession"
    n = 2
    while path.exists():
        path = folder / f"{stem}-review-{stamp}-{n}.qtsession"
        n += 1
    return path


def write_review(
    original: Path,
    events: Sequence[Mapping[str, Any]],
    price_tables: Sequence[Mapping[str, Any]] = (),
    *,
    now: float | None = None,
    fallback: Path = FALLBACK_DIR,
) -> Path:
    """Write the review session (blocking file I/O: call it off the UI loop); the original is
    only read. QtuiError (one line) when it cannot be written."""
    now = time.time() if now is None else now
    dest = review_path(original, now, fallback)
    header = {
        "review_of": original.name,
        "reviewed": now,
        "reviewed_iso": datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds"),
    }
    docs: dict[str, list[dict[str, Any]]] = {"event": [dict(e) for e in events]}
    if price_tables:
        docs["price_tables"] = [dict(t) for t in price_tables]
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        return copy_with_documents(original, dest, header, docs)
    except OSError as exc:
        raise QtuiError(
            f"{dest}: cannot write the review session ({exc.strerror or exc}); "
            f"{original.name} is unchanged"
        ) from None
