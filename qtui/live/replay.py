"""Replay: a Feed over a recorded session, with play/pause, speed 1×–60× and seek.

The recorded per-second records are fed into the same ViewState the live controller uses, up to
the replay clock; the cost panel stays live because what-ifs go to that ViewState's WhatIf. What the
reviewer changes (what-ifs, saved price tables) is kept and, on ``stop``, written as a review
session next to the original (qtui.session.review), in a thread.
"""

from __future__ import annotations

import asyncio
import bisect
import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from qtui.config.catalog import list_price_tables, load_price_table
from qtui.config.pricing import PriceTable
from qtui.errors import QtuiError
from qtui.evidence.judging import Judged, JudgeJob
from qtui.evidence.turns import turn_text
from qtui.live import intents as it
from qtui.live.model import ReplayView, RunView, Snapshot
from qtui.live.state import ViewState
from qtui.session.reader import Session
from qtui.session.review import FALLBACK_DIR, write_review
from qtui.session.review_draft import ReviewDraft
from qtui.session.timeline import KINDS, session_records
from qtui.session.turns import session_turns

MIN_SPEED, MAX_SPEED = 1.0, 60.0


class ReplayFeed:
    """Plays a session back through a ViewState on a clock you can pause, speed up and move."""

    def __init__(
        self,
        session: Session,
        speed: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        *,
        review_of: Path | None = None,
        review_dir: Path = FALLBACK_DIR,
    ) -> None:
        """``review_of``: the session file the reviewer's changes are saved next to on ``stop``
        (None: not saved, e.g. several sessions merged); ``review_dir`` when that is read-only."""
        if session.profile is None:
            raise QtuiError(f"{session.path}: no valid profile recorded; cannot replay")
        self.session = session
        self.profile = session.profile
        self.clock = clock
        self.notes: list[str] = list(session.warnings)
        # multi-turn conversations: each endpoint's TTFT by turn, in the record's words
        self.notes += [f"{n}: {turn_text(t)}" for n, t in session_turns(session).items()]
        self.tables: dict[str, PriceTable] = {}
        for name in sorted(
            {self.profile.cost.price_table}
            | {e.price_table for e in self.profile.endpoints if e.price_table}
            | set(session.price_tables)
        ):
            table, note = session.price_table(name)
            if table is not None:
                self.tables[name] = table
            if note:
                self.notes.append(note)
        for name in list_price_tables():  # the installed tables too: what-ifs may switch to any
            if name not in self.tables:
                try:
                    self.tables[name] = load_price_table(name)
                except QtuiError as exc:
                    self.notes.append(str(exc))
        self.records = session_records(session)
        self.times = [r[0] for r in self.records]
        series = [r[0] for r in self.records if r[1] in KINDS]
        self.t0 = series[0] if series else (self.times[0] if self.times else 0.0)
        self.duration = (series[-1] - self.t0) if series else 0.0
        self.speed = min(MAX_SPEED, max(MIN_SPEED, speed))
        self.playing = True
        self.position = 0.0
        self._last = clock()
        self.review_of, self.review_dir = review_of, review_dir
        self.review: list[dict[str, Any]] = []  # the reviewer's events, in the order applied
        self.review_tables: list[dict[str, Any]] = []  # price tables saved during the review
        self.saved_path: Path | None = None
        self.review_error: str | None = None
        self._reviewing = False  # a reviewer's intent is being applied (not a recorded event)
        # every change is also written through to a draft, so a killed replay loses nothing
        self._draft = ReviewDraft(review_of, review_dir) if review_of is not None else None
        self._high = 0.0  # the furthest position fed so far, over every seek
        self._judge_later = False  # the app judges the golden items in a thread
        self._reset()

    def _reset(self) -> None:
        self.state = ViewState(
            self.profile, self.tables, simulated=self._simulated(), on_event=self._on_event
        )
        self.state.measuring = True
        self.state.evidence.judge_later = self._judge_later
        self._next = 0
        self._applied = 0  # records before this index had their what-if events applied
        self._bumps = 0

    def _seek_back(self, target: float) -> None:
        """Rebuild the view state up to ``target``, keeping the what-if exactly as it is now.

        The what-if is restored whole (not key by key), and the recorded what-if events already
        applied are not applied again on top of it: what the reviewer sees after a seek is the
        same what-if, over the measurements up to ``target``.
        """
        whatif, applied = self.state.whatif.snapshot(), max(self._applied, self._next)
        self._reset()
        self.state.whatif.restore(whatif)
        self._applied = applied
        self._feed_to(target)

    def _simulated(self) -> bool:
        return any(e.simulate is not None for e in self.profile.endpoints)

    def _advance_clock(self) -> None:
        now = self.clock()
        if self.playing:
            self.position = min(self.duration, self.position + (now - self._last) * self.speed)
            if self.position >= self.duration:
                self.playing = False
        self._last = now

    def _feed_to(self, position: float) -> None:
        end = bisect.bisect_right(self.times, self.t0 + position)
        if position >= self.duration:  # the end: what came after the last second too (the
            end = len(self.records)  # quality run's summary, a closing event), as the record has
        for i, (_, kind, rec) in enumerate(self.records[self._next : end], self._next):
            if i < self._applied and kind == "event" and rec.get("kind") == "whatif":
                continue  # already in the restored what-if
            self.state.ingest(kind, rec)
        self._next = max(self._next, end)
        self._high = max(self._high, position)

    def _on_event(self, event: dict[str, Any]) -> None:
        """Keep an event the reviewer caused. Its ``t`` is the furthest point fed so far, so the
        review session replays recorded and reviewer events in the order this review applied them
        (after a seek back too); ``wall_t`` and ``position_s`` say when and where it was made."""
        if self._reviewing:
            self.review.append(
                {**event, "t": self.t0 + self._high, "wall_t": event.get("t"),
                 "position_s": self.position, "review": True}
            )  # fmt: skip
            if self._draft is not None:
                self._draft.add("event", self.review[-1])

    def _as_reviewer(self, apply: Callable[[], str | None]) -> str | None:
        self._advance_clock()
        self._feed_to(self.position)  # the state the reviewer sees, up to now
        self._reviewing = True
        try:
            return apply()
        finally:
            self._reviewing = False

    def snapshot(self) -> Snapshot:
        self._advance_clock()
        self._feed_to(self.position)
        meta = self.session.header
        run = RunView(
            source="replay",
            profile=self.profile.profile.name,
            mode=self.profile.load.mode,
            level=self.state.level,
            running=self.playing,
            elapsed_s=self.position,
            requests_sent=0,
            workload=self.profile.workload.kind,
            workloads=(self.profile.workload.kind,),
            message=f"{self.session.path.name}" + (f" · {self.notes[0]}" if self.notes else ""),
            replay=ReplayView(self.position, self.duration, self.speed, self.playing),
        )
        del meta
        snap = self.state.snapshot(run)
        return dataclasses.replace(
            snap, seq=snap.seq * 1000 + self._bumps + int(self.position), notes=tuple(self.notes)
        )

    def send(self, intent: it.Intent) -> str | None:
        self._bumps += 1
        match intent:
            case it.TogglePlay():
                self._advance_clock()
                if not self.playing and self.position >= self.duration:
                    self._seek_back(0.0)  # from the start again, with the same what-if
                    self.position = 0.0
                self.playing = not self.playing
                return None
            case it.SetSpeed(speed=s):
                self._advance_clock()
                self.speed = min(MAX_SPEED, max(MIN_SPEED, s))
                return None
            case it.Seek(delta_s=d):
                self._advance_clock()
                target = min(self.duration, max(0.0, self.position + d))
                if target < self.position:
                    self._seek_back(target)
                self.position = target
                return None
            case it.StartLoad() | it.StopLoad() | it.SetMode() | it.StepLevel() | it.RunQuality():
                return "replay: recorded data only (no load, no network)"
            case it.SetWorkload():
                return "replay: recorded data only (no load, no network)"
        return self._as_reviewer(lambda: self.state.apply(intent))

    # -- golden items judged in the app's thread (qtui.live.feed.JudgesInThread) -----------
    def judge_later(self) -> None:
        self._judge_later = self.state.evidence.judge_later = True

    def quality_job(self) -> JudgeJob | None:
        return self.state.quality_job()

    def take_quality(self, job: JudgeJob, judged: Judged) -> None:
        self.state.take_quality(job, judged)  # a job from before a seek back is not kept

    # -- price tables saved from the what-if (qtui.live.pricing) ---------------------------
    def price_table_to_save(
        self, endpoint: str, now: float
    ) -> tuple[str, PriceTable, tuple[str, ...]]:
        base, table = self.state.table_to_save(endpoint, now)
        return base, table, tuple(self.state.whatif.tables)

    def add_price_table(self, name: str, table: PriceTable, path: Path) -> None:
        self.tables[name] = table  # kept when a seek back rebuilds the view state
        self.review_tables.append(
            {"name": name, "table": table.model_dump(mode="json", exclude_none=True)}
        )
        if self._draft is not None:
            self._draft.add("price_table", self.review_tables[-1])
        self._as_reviewer(lambda: self.state.add_table(name, table, str(path)))

    async def start(self) -> None:
        self._last = self.clock()

    def save_review(self) -> Path | None:
        """Write the review session (blocking: run it in a thread); None when nothing changed or
        there is no single original to put it next to. QtuiError (one line) when refused."""
        if not self.review or self.review_of is None or self.saved_path is not None:
            return self.saved_path
        try:
            self.saved_path = write_review(
                self.review_of, list(self.review), list(self.review_tables),
                fallback=self.review_dir,
            )  # fmt: skip
        except QtuiError as exc:
            if self._draft is None:
                raise
            self._draft.close(keep=True)  # the next `qtui replay` of it finishes the review
            if self._draft.path is None or self._draft.error is not None:
                raise
            raise QtuiError(
                f"{exc}; your changes are kept in {self._draft.path}: the next "
                f"`qtui replay {self.review_of}` finishes them"
            ) from None
        if self._draft is not None:
            self._draft.close(keep=False)
        return self.saved_path

    async def stop(self) -> None:
        """Pause, and write the review session (in a thread) when the reviewer changed anything."""
        self.playing = False
        try:
            await asyncio.to_thread(self.save_review)
        except QtuiError as exc:
            self.review_error = str(exc)
