"""A review's changes, written through to a draft as they are made, so a replay that is killed
(an SSH link that drops mid-review) loses nothing: the next ``qtui replay`` of the same session
finishes the draft into a review session.

One JSON object per line: a header, then ``{"event": {...}}`` or ``{"price_table": {...}}``. Lines
are written by a background thread (the app's event loop never waits on the disk) and flushed one
by one; a line cut by a kill is skipped when the draft is read.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qtui.errors import QtuiError
from qtui.session.review import FALLBACK_DIR, review_path, write_review

SUFFIX = ".draft.jsonl"


def draft_path(original: Path, now: float, fallback: Path = FALLBACK_DIR) -> Path:
    """Beside where the review session will go: ``<stem>-review-<time>.draft.jsonl``."""
    return review_path(original, now, fallback).with_suffix(SUFFIX)


class ReviewDraft:
    """Appends a review's events and saved price tables to a draft file, off the caller's thread."""

    def __init__(self, original: Path, fallback: Path = FALLBACK_DIR) -> None:
        self.original = original
        self.fallback = fallback
        self.path: Path | None = None  # created with the first change
        self.error: str | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    def add(self, key: str, value: Mapping[str, Any]) -> None:
        """Queue one change (``event`` or ``price_table``); never blocks on the disk."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._write, name="review-draft", daemon=True)
            self._thread.start()
        self._lines.put(json.dumps({key: dict(value)}, default=str))

    def _write(self) -> None:
        try:
            self.path = draft_path(self.original, time.time(), self.fallback)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as f:
                f.write(json.dumps({"review_of": self.original.name}) + "\n")
                f.flush()
                while (line := self._lines.get()) is not None:
                    f.write(line + "\n")
                    f.flush()
        except OSError as exc:
            self.error = f"{self.path}: cannot keep the review draft ({exc.strerror or exc})"

    def close(self, keep: bool) -> None:
        """Stop the writer (blocking: call it off the UI loop); remove the draft unless ``keep``."""
        if self._thread is None:
            return
        self._lines.put(None)
        self._thread.join()
        if not keep and self.path is not None:
            self.path.unlink(missing_ok=True)


@dataclass
class Draft:
    """A draft read back: the reviewer's events and saved price tables, in the order made."""

    path: Path
    events: list[dict[str, Any]] = field(default_factory=list)
    price_tables: list[dict[str, Any]] = field(default_factory=list)
    skipped: int = 0  # lines that did not parse (a line cut by the kill)


def read_draft(path: Path) -> Draft:
    draft = Draft(path)
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            draft.skipped += 1
            continue
        if isinstance(obj, dict) and isinstance(obj.get("event"), dict):
            draft.events.append(obj["event"])
        elif isinstance(obj, dict) and isinstance(obj.get("price_table"), dict):
            draft.price_tables.append(obj["price_table"])
    return draft


def recover_drafts(original: Path, fallback: Path = FALLBACK_DIR) -> list[str]:
    """Finish every draft a killed review of ``original`` left into a review session; one line
    per draft saying where it went (or why it could not be finished; the draft then stays)."""
    stem = original.name.split(".")[0]
    found = sorted(
        {
            *original.parent.glob(f"{stem}-review-*{SUFFIX}"),
            *fallback.glob(f"{stem}-review-*{SUFFIX}"),
        }
    )
    lines = []
    for path in found:
        draft = read_draft(path)
        if not draft.events and not draft.price_tables:
            path.unlink(missing_ok=True)
            continue
        try:
            saved = write_review(
                original, draft.events, draft.price_tables, now=path.stat().st_mtime,
                fallback=fallback,
            )  # fmt: skip
        except (QtuiError, OSError) as exc:  # one line; the draft is kept
            lines.append(f"review draft {path} not finished ({exc}); it is kept")
            continue
        path.unlink(missing_ok=True)
        lines.append(f"recovered an interrupted review ({len(draft.events)} changes): {saved}")
    return lines
