"""The live controller: scraping, load and session recording on a background asyncio thread.

The UI thread only calls ``snapshot`` (a lock and a dataclass build) and ``send``; every socket
and file operation runs on the controller's own event loop thread, never on Textual's.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from qtui.config.pricing import PriceTable
from qtui.config.profile import Profile
from qtui.live import intents as it
from qtui.live import ladder
from qtui.live.model import RunView, Snapshot
from qtui.live.state import ViewState

COST_INTENTS = (
    it.SetReplicas, it.StepReplicas, it.SetGpu, it.SetCategory, it.SetPriceTable, it.SetTraffic,
    it.SetHours,
)  # fmt: skip


class LiveFeed:
    """A Feed over real endpoints: ``urls`` maps endpoint name → base URL."""

    def __init__(
        self,
        profile: Profile,
        tables: Mapping[str, PriceTable],
        urls: Mapping[str, str],
        *,
        simulated: bool = False,
        record: Path | None = None,
        autostart_load: bool = False,
    ) -> None:
        self.profile = profile
        self.urls = dict(urls)
        self.record_path = record
        self.writer: Any = None
        self._lock = threading.Lock()
        self.state = ViewState(profile, tables, simulated=simulated, on_event=self._on_event)
        self.mode = profile.load.mode
        self.level = self.state.level
        self.running = False
        self.autostart = autostart_load
        self.t_start = time.time()
        self.requests_sent = 0
        self.message = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._scraper: Any = None
        self._ready = threading.Event()

    # -- Feed ------------------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        with self._lock:
            run = RunView(
                source="live",
                profile=self.profile.profile.name,
                mode=self.mode,
                level=self.level,
                running=self.running,
                elapsed_s=time.time() - self.t_start,
                requests_sent=self.requests_sent,
                workload=self.profile.workload.kind,
                workloads=(self.profile.workload.kind,),
                message=self.message,
            )
            return self.state.snapshot(run)

    def send(self, intent: it.Intent) -> str | None:
        with self._lock:
            if isinstance(intent, COST_INTENTS):
                return self.state.apply(intent)
            match intent:
                case it.SetMode(mode=m):
                    self.mode = m
                    self.level = float(
                        self.profile.load.rate if m == "rate" else self.profile.load.concurrency
                    )
                    self._event("load", "mode", m)
                case it.StepLevel(direction=d):
                    self.level = ladder.step(self.mode, self.level, d)
                    self.state.level = self.level
                    self._event("load", "level", self.level)
                case it.StartLoad() | it.StopLoad() | it.RunQuality() | it.SetWorkload():
                    return "the load engine is not available in this build (qtui.load pending)"
                case _:
                    return "not available while live (replay controls)"
            self.state.seq += 1
            return None

    async def start(self) -> None:
        """Start the background loop thread; returns at once (the UI never waits on sockets)."""
        if self.record_path is not None:
            from qtui.session.writer import SessionWriter

            self.writer = SessionWriter(
                self.record_path, profile=self.profile, price_tables=self.state.whatif.tables
            )
        self._thread = threading.Thread(target=self._run, name="qtui-live", daemon=True)
        self._thread.start()

    async def stop(self) -> None:
        """Stop scraping and load, then close (finalise) the session file."""
        await asyncio.to_thread(self._shutdown)

    # -- background ------------------------------------------------------------------------
    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main())
        finally:
            loop.close()

    async def _main(self) -> None:
        from qtui.load.scraper import ServerScraper

        metrics = {
            e.name: e.metrics_url or f"{self.urls[e.name]}/metrics"
            for e in self.profile.endpoints
            if e.name in self.urls
        }
        for e in self.profile.endpoints:
            if e.name not in self.urls:
                self.state.mark_dead(e.name, "no URL for this endpoint")
        self._stop = asyncio.Event()
        self._scraper = ServerScraper(metrics, on_sample=self._on_server)
        self._scraper.start()
        self._ready.set()
        await self._stop.wait()
        await self._scraper.stop()

    def _on_server(self, sec: Any) -> None:
        rec = sec.to_dict()
        with self._lock:
            self.state.ingest("server_second", rec)
        if self.writer is not None:
            self.writer.append("server_second", rec)

    def _on_event(self, event: dict[str, Any]) -> None:
        if self.writer is not None:
            self.writer.append("event", event)

    def _event(self, kind: str, key: str, value: Any) -> None:
        if self.writer is not None:
            self.writer.event(kind, key, value)

    def _shutdown(self) -> None:
        loop = self._loop
        if loop is not None and self._ready.wait(5):
            loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(10)
        if self.writer is not None:
            self.writer.append("meta", {"what_if_final": self.state.whatif.snapshot()})
            self.writer.close()
            self.writer = None
