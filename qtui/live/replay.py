"""Replay: a Feed over a recorded session, with play/pause, speed 1×–60× and seek.

The recorded per-second records are fed into the same ViewState the live controller uses, up to
the replay clock; the cost panel stays live because what-ifs go to that ViewState's WhatIf.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from qtui.config.catalog import list_price_tables, load_price_table
from qtui.config.pricing import PriceTable
from qtui.errors import QtuiError
from qtui.live import intents as it
from qtui.live.model import ReplayView, RunView, Snapshot
from qtui.live.state import ViewState
from qtui.session.reader import Session

KINDS = ("client_second", "server_second", "gpu_sample")
MIN_SPEED, MAX_SPEED = 1.0, 60.0


def session_records(session: Session) -> list[tuple[float, str, dict[str, Any]]]:
    """Every timed record in time order: per-second series, events, quality summaries."""
    out: list[tuple[float, str, dict[str, Any]]] = []
    for kind in KINDS:
        for rec in session.frame(kind).to_dicts():
            if rec.get("t") is not None:
                out.append((float(rec["t"]), kind, rec))
    for rec in session.frame("sweep_level").to_dicts():
        if rec.get("t_end") is not None:
            out.append((float(rec["t_end"]), "sweep_level", rec))
    for ev in session.docs("event"):
        if ev.get("t") is not None:
            out.append((float(ev["t"]), "event", ev))
    for doc in session.docs("discovery"):
        out.append((float(doc.get("t") or 0.0), "discovery", doc))
    qs = session.docs("quality_summary")
    if qs:
        end = max((r[0] for r in out), default=0.0)
        for q in qs:
            out.append((float(q.get("t") or end), "quality_summary", q))
    out.sort(key=lambda r: r[0])
    return out


class ReplayFeed:
    """Plays a session back through a ViewState on a clock you can pause, speed up and move."""

    def __init__(
        self, session: Session, speed: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if session.profile is None:
            raise QtuiError(f"{session.path}: no valid profile recorded; cannot replay")
        self.session = session
        self.profile = session.profile
        self.clock = clock
        self.notes: list[str] = list(session.warnings)
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
        self._reset()

    def _reset(self) -> None:
        self.state = ViewState(self.profile, self.tables, simulated=self._simulated())
        self.state.measuring = True
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
        for i, (_, kind, rec) in enumerate(self.records[self._next : end], self._next):
            if i < self._applied and kind == "event" and rec.get("kind") == "whatif":
                continue  # already in the restored what-if
            self.state.ingest(kind, rec)
        self._next = max(self._next, end)

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
        return Snapshot(
            seq=snap.seq * 1000 + self._bumps + int(self.position),
            run=snap.run,
            endpoints=snap.endpoints,
            cost=snap.cost,
            slo_error_rate=snap.slo_error_rate,
            notes=tuple(self.notes),
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
        return self.state.apply(intent)

    # -- price tables saved from the what-if (qtui.live.pricing) ---------------------------
    def price_table_to_save(
        self, endpoint: str, now: float
    ) -> tuple[str, PriceTable, tuple[str, ...]]:
        base, table = self.state.table_to_save(endpoint, now)
        return base, table, tuple(self.state.whatif.tables)

    def add_price_table(self, name: str, table: PriceTable, path: Path) -> None:
        self.tables[name] = table  # kept when a seek back rebuilds the view state
        self.state.add_table(name, table, str(path))

    async def start(self) -> None:
        self._last = self.clock()

    async def stop(self) -> None:
        self.playing = False
