"""The measurement process behind the live app: discovery, scraping, GPU sampling, load, quality
runs and the session file, on an asyncio loop of its own.

It runs in a child process so that rendering never steals the GIL from the client that times
tokens (a UI frame would otherwise show up as inter-token latency). It takes commands over one
pipe and sends back what the view needs over another: ``("ingest", kind, record)`` for each
per-second or summary record, ``("status", {...})`` when the run state changes, ``("saved",
path)`` and ``("bye",)`` at the end. Per-request records go only to the session file.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import threading
import time
from collections import deque
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from qtui.client.loop import loop_factory
from qtui.config.pricing import PriceTable
from qtui.config.profile import Profile
from qtui.errors import QtuiError
from qtui.evidence.outages import OutageLog, live_text
from qtui.session.recorder import Recorder

TURN_SAMPLES = 20_000  # the latest conversation turns per endpoint the app's TTFT-by-turn uses
QUALITY_CONCURRENCY = 4  # golden items in flight per endpoint (bounded, beside the load)


@dataclass
class WorkerConfig:
    """Everything the measurement process needs (picklable: it crosses a process boundary)."""

    profile: Profile
    tables: dict[str, PriceTable]
    urls: dict[str, str]
    profile_path: Path
    record: Path | None = None
    autostart: bool = False
    telemetry_urls: dict[str, str] = field(default_factory=dict)
    pids: dict[str, int] = field(default_factory=dict)
    gpu_hz: float = 2.0
    mode: str = "concurrency"
    level: float = 1.0
    workload: str = "synthetic"


def worker_main(cfg: WorkerConfig, commands: Connection, out: Connection) -> None:
    """The child process's entry point: its stdout and stderr must not draw over the app."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    LiveWorker(cfg, out).run(commands)


class LiveWorker:
    """Measures; every change of what the app shows is sent through ``out``."""

    def __init__(self, cfg: WorkerConfig, out: Connection) -> None:
        self.cfg = cfg
        self.profile = cfg.profile
        self.urls = dict(cfg.urls)
        self.base_dir = cfg.profile_path.parent
        self.mode, self.level, self.workload = cfg.mode, cfg.level, cfg.workload
        self.running = False
        self.quality_running = False
        self.requests_sent = 0
        self.message = ""
        self.search = ""  # the knee searches running: the status line's progress
        self._sampler: Any = None  # the GPU sampler: where NVML sees the servers (isolation)
        self.client_bound = ""
        self.models: dict[str, str] = {}
        self.writer: Any = None
        self._out = out
        self._send_lock = threading.Lock()
        self._run: Any = None  # qtui.load.engine.LoadRun while load runs
        self._load_done: asyncio.Task[None] | None = None
        self._quality: asyncio.Task[Any] | None = None
        self._levels_seen: dict[str, int] = {}
        self._turns: dict[str, deque[tuple[int, float]]] = {}  # (turn, TTFT s), multi-turn
        self._last_status: dict[str, Any] = {}
        self._what_if_final: Any = None
        names = [e.name for e in cfg.profile.endpoints]
        self._outages = {n: OutageLog() for n in names}  # the app's "down 12 s" / "outage …"
        self._outage_said: dict[str, str] = {}
        self.rec = Recorder(None, names, sink=self._sink)

    # -- plumbing --------------------------------------------------------------------------
    def _send(self, *msg: Any) -> None:
        with self._send_lock, contextlib.suppress(OSError, ValueError):
            self._out.send(msg)

    def _sink(self, kind: str, row: Mapping[str, Any]) -> None:
        self._send("ingest", kind, row)
        if kind == "client_second" and row.get("endpoint") in self._outages:
            self._say_outage(str(row["endpoint"]), time.time())

    def _say_outage(self, name: str, now: float) -> None:
        """Send the endpoint's outage words when they changed (qtui.evidence.outages)."""
        text = live_text(self._outages[name].spans(now), now)
        if text != self._outage_said.get(name, ""):
            self._outage_said[name] = text
            self._send("outage", name, text)

    def _status(self, **changes: Any) -> None:
        for k, v in changes.items():
            setattr(self, k, v)
        st = {
            "running": self.running,
            "quality_running": self.quality_running,
            "requests_sent": self.requests_sent,
            "message": self.message,
            "client_bound": self.client_bound,
            "mode": self.mode,
            "level": self.level,
            "workload": self.workload,
            "search": self.search,
        }
        if st != self._last_status:
            self._last_status = st
            self._send("status", st)

    def _event(self, kind: str, key: str, value: Any, *, view: bool = False) -> None:
        self.rec.event(kind, key, value, view=view)

    def _say(self, msg: str) -> None:
        self._status(message=msg)
        self._event("warning", "message", msg)

    def run(self, commands: Connection) -> None:
        factory = loop_factory()  # uvloop where installed: the client's CPU per chunk
        loop = factory() if factory is not None else asyncio.new_event_loop()
        self._loop = loop
        self._stop = asyncio.Event()
        threading.Thread(target=self._read, args=(commands,), name="qtui-cmd", daemon=True).start()
        try:
            loop.run_until_complete(self._main())
        finally:
            loop.close()
            self._send("bye")

    def _read(self, commands: Connection) -> None:
        """Commands from the app, handed to the loop; a closed pipe means the app is gone."""
        while True:
            try:
                msg = commands.recv()
            except (EOFError, OSError):
                msg = ("shutdown", None)
            self._loop.call_soon_threadsafe(self._command, msg)
            if msg[0] == "shutdown":
                return

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = self._loop.create_task(coro)
        task.add_done_callback(self._report)

    def _report(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and (exc := task.exception()) is not None:
            self._say(str(exc) if isinstance(exc, QtuiError) else f"error: {exc!r}")

    def _command(self, msg: tuple[Any, ...]) -> None:
        match msg:
            case ("start",):
                if self._run is None:
                    self._spawn(self._start_load())
            case ("stop",):
                self._spawn(self._stop_load())
            case ("mode", mode, level):
                self.mode, self.level = mode, level
                self._event("load", "mode", mode)
                self._spawn(self._restart_load())
            case ("level", level):
                self.level = level
                self._event("load", "level", level)
                if self._run is not None:
                    self._run.set_level(level)
                self._status()
            case ("workload", w):
                self.workload = w
                self._event("load", "workload", w)
                self._spawn(self._restart_load())
            case ("quality",):
                if self._quality is None:
                    self._quality = self._loop.create_task(self._run_quality())
            case ("event", ev):
                if self.writer is not None:
                    self.writer.append("event", ev)
            case ("server_exit", line):  # a server qtui started died (qtui.launch.watch)
                self._status(message=line)
                self._event("error", "server_exit", line)
            case ("price_table", name, table):  # saved from the what-if during the run
                if self.writer is not None:
                    self.writer.append("price_tables", {"name": name, "table": table})
            case ("shutdown", what_if_final):
                self._what_if_final = what_if_final
                self._stop.set()

    # -- main ------------------------------------------------------------------------------
    async def _main(self) -> None:
        from qtui.gpu.factory import build_sources
        from qtui.gpu.sampler import TelemetrySampler
        from qtui.load.scraper import ServerScraper

        if self.cfg.record is not None:
            self._open_writer(self.cfg.record)
        urls = {e.name: self.urls[e.name] for e in self.profile.endpoints if e.name in self.urls}
        for e in self.profile.endpoints:
            if e.name not in urls:
                self.rec.discovery(e.name, None, "no URL for this endpoint")
        scraper = ServerScraper(
            {
                e.name: e.metrics_url or f"{urls[e.name]}/metrics"
                for e in self.profile.endpoints
                if e.name in urls
            },
            on_sample=self.rec.server,
        )
        scraper.start()
        sampler = None
        try:
            sources = await asyncio.to_thread(  # reads /proc for servers' pids: off the loop
                build_sources,
                self.profile.endpoints,
                pids=self.cfg.pids,
                exporter_urls=self.cfg.telemetry_urls,
                urls=urls,
            )
            self.rec.local = [e.name for e in self.profile.endpoints if e.name not in sources]
            sampler = TelemetrySampler(sources, rate_hz=self.cfg.gpu_hz, on_snapshot=self.rec.gpu)
            sampler.start()
            self._sampler = sampler
        except QtuiError as exc:
            self._say(str(exc))
        await self._discover(urls)
        self._send("ready")
        if self.cfg.autostart and not self._stop.is_set():
            await self._start_load()
        await self._stop.wait()
        await self._stop_load()
        if self._quality is not None:
            self._quality.cancel()
            await asyncio.gather(self._quality, return_exceptions=True)
        await scraper.stop()
        if sampler is not None:
            await asyncio.to_thread(sampler.stop)
        self._close_writer()

    def _open_writer(self, path: Path) -> None:
        from qtui.session.writer import SessionWriter

        try:
            self.writer = SessionWriter(path, profile=self.profile, price_tables=self.cfg.tables)
            self.rec.writer = self.writer
        except QtuiError as exc:
            self._say(f"{exc} — not recording this session")

    def _close_writer(self) -> None:
        if self.writer is None:
            return
        if self._what_if_final is not None:
            self.writer.append("meta", {"what_if_final": self._what_if_final})
        self.rec.writer = None
        try:
            self._send("saved", str(self.writer.close()))
        except QtuiError as exc:
            self._say(str(exc))
        self.writer = None

    async def _discover(self, urls: Mapping[str, str]) -> None:
        from qtui.client.discovery import api_key, discover, precision_warning

        async def one(name: str, url: str) -> None:
            ep = self.profile.endpoint(name)
            try:
                info = await discover(url, api_key(ep), timeout=5.0)
            except QtuiError as exc:
                self.rec.discovery(name, None, str(exc))
                return
            if info.model_id:
                self.models[name] = info.model_id
            warn = precision_warning(name, ep.precision, info)
            if warn:
                self._say(warn)
            self.rec.discovery(name, info, warning=warn or "")

        await asyncio.gather(*(one(n, u) for n, u in urls.items()))

    # -- load ------------------------------------------------------------------------------
    def _load_profile(self) -> Profile:
        w = self.profile.workload.model_copy(update={"kind": self.workload})
        return self.profile.model_copy(update={"workload": w})

    async def _start_load(self) -> None:
        from qtui.load.engine import LoadRun

        if self._run is not None:
            return
        mode, level = self.mode, self.level
        self._status(running=True, message="starting load…")
        try:
            run = LoadRun(
                self._load_profile(),
                dict(self.urls),
                on_record=self._on_record,
                on_second=self._on_second,
                on_health=self._on_health,
                on_event=self._on_load_event,
                base_dir=self.base_dir,
                mode=mode,  # type: ignore[arg-type]
                level=None if mode == "sweep" else level,
                scrape=False,
                gpu_seen=self._gpu_seen(),
            )
            self._run = run
            self._levels_seen, self._turns = {}, {}
            await run.start()
        except QtuiError as exc:
            self._run = None
            self._status(running=False)
            self._say(str(exc))
            return
        self._event("load", "start", {"mode": mode, "level": level, "workload": self.workload})
        self._event("load", "isolation", run.isolation.to_dict(), view=True)
        self._event("load", "measuring", mode != "sweep", view=True)
        self._status(message=f"load running: {mode} ({self.workload})")
        self._load_done = self._loop.create_task(self._finish_load(run))

    def _on_load_event(self, kind: str, msg: str) -> None:
        if kind == "warning":
            self._say(msg)
        elif kind == "tokens":  # input lengths exact or estimated: the record says which
            self._event("load", "input_lengths", msg)
        elif kind == "file":  # the workload's file by its content
            self._event("load", "workload_file", msg)

    async def _finish_load(self, run: Any) -> None:
        results = await run.wait()
        self._collect_levels(run)
        for name, r in results.items():
            if r.failed:
                self.rec.search_failed(name, r.failed, r.failed_text, r.failed_what)
        self._run = None
        self.search = ""
        # the capacity itself is the decision's (qtui.evidence over the recorded sweep levels):
        # the engine's own per-run figure, which only stops its sweep, is neither recorded nor shown
        self._event("load", "stop", {n: len(r.levels) for n, r in results.items()})
        self._event("load", "measuring", False, view=True)
        swept = self.mode == "sweep" and any(r.levels for r in results.values())
        done = "sweep done; capacity per endpoint in the cost view (c)"
        self._status(running=False, message=done if swept else "load stopped")

    async def _stop_load(self) -> None:
        run, done = self._run, self._load_done
        if run is None or done is None:
            return
        run.halt()
        await done

    async def _restart_load(self) -> None:
        was_running = self._run is not None
        await self._stop_load()
        if was_running:
            await self._start_load()
        else:
            self._status()

    def _gpu_seen(self) -> dict[str, set[tuple[str, int]]]:
        """The GPUs the sampler last saw each endpoint's server processes on (NVML)."""
        from qtui.evidence.sharing import nvml_keys

        snaps = self._sampler.latest() if self._sampler is not None else {}
        return nvml_keys(p for snap in snaps.values() for p in snap.processes)

    def _collect_levels(self, run: Any) -> None:
        """Sweep levels finished since the last call become ``sweep_level`` records."""
        for name, ep in run.eps.items():
            seen = self._levels_seen.get(name, 0)
            self.rec.levels(name, ep.result.levels[seen:], self.mode)
            self._levels_seen[name] = len(ep.result.levels)

    # -- quality ---------------------------------------------------------------------------
    async def _run_quality(self) -> None:
        self._status(quality_running=True, message="quality: starting…")
        try:
            await self._quality_items()
        except QtuiError as exc:
            self._say(str(exc))
        finally:
            self._quality = None
            self._status(quality_running=False)

    async def _quality_items(self) -> None:
        from qtui.evidence.records import QualityRecord
        from qtui.quality.golden import load_golden, resolve_golden_path
        from qtui.quality.noise import again_name
        from qtui.quality.runner import QualityTarget, run_quality
        from qtui.quality.summary import summarize

        w = self.profile.workload
        if not w.golden_set:
            raise QtuiError("this profile names no golden set (workload.golden_set)")
        path = resolve_golden_path(self.cfg.profile_path, w.golden_set)
        items = await asyncio.to_thread(load_golden, path)
        names = [e.name for e in self.profile.endpoints if e.name in self.urls]
        targets = [
            QualityTarget.from_endpoint(
                self.profile.endpoint(n),
                w.api,
                base_url=self.urls[n],
                model=self.models.get(n) or self.profile.endpoint(n).model or n,
            )
            for n in names
        ]
        base = self.profile.baseline.name
        if base in names:  # the baseline twice, under the same load: its own flips (noise floor)
            first = targets[names.index(base)]
            targets.append(dataclasses.replace(first, name=again_name(base)))

        def progress(rec: QualityRecord, done: int, total: int) -> None:
            self.rec.quality_item(rec)
            self._status(message=f"quality: {done}/{total} golden answers")

        recs = await run_quality(
            items, targets, concurrency=QUALITY_CONCURRENCY, seed=w.seed, on_record=progress
        )
        summary = summarize(recs, names, self.profile.baseline.name, self.profile.slo.quality)
        doc = self.rec.quality_summary(summary.to_dict())
        self._status(
            message="quality: "
            + ", ".join(
                f"{row['endpoint']} {row['success']:.0%} {row['verdict_words']}"
                for row in doc["endpoints"]
                if row.get("success") is not None
            )
            + " (v: quality view, noise floor, per tag)"
        )

    # -- callbacks (loop or sampler thread) ------------------------------------------------
    def _on_record(self, rec: Any) -> None:
        self.requests_sent += 1
        self.rec.request(rec)
        log = self._outages.get(rec.endpoint)
        if log is not None:
            log.add(rec.t_send, rec.t_end, rec.error_class)
            if rec.ok and "down" in self._outage_said.get(rec.endpoint, ""):
                self._say_outage(rec.endpoint, rec.t_end)  # answered again: say it at once
        if rec.turn and rec.phase == "measure" and rec.ok and rec.ttft is not None:
            self._turns.setdefault(rec.endpoint, deque(maxlen=TURN_SAMPLES)).append(
                (rec.turn, rec.ttft)
            )

    def turns_message(self) -> str:
        """Multi-turn load: each endpoint's TTFT p95 at turn 1 and at the later turns."""
        from qtui.evidence.turns import first_vs_later, ttft_by_turn

        parts = [f"{n} {first_vs_later(ttft_by_turn(v))}" for n, v in self._turns.items()]
        return "TTFT by turn: " + "; ".join(parts) if parts else ""

    def _on_second(self, st: Any) -> None:
        run = self._run
        level = run.eps[st.endpoint].level if run is not None and st.endpoint in run.eps else None
        self.rec.second(st, level, bool(self.client_bound))
        if run is not None:
            self._collect_levels(run)
            unit = "req/s" if self.profile.load.sweep_by == "rate" else "users"
            searches = [
                ep.search.status(n, ep.level, unit)
                for n, ep in run.eps.items()
                if ep.search is not None and not ep.search.stop
            ]
            self.search = "; ".join(searches)  # level, bracket, step k of at most n
        if self._turns:  # conversations: turn 1 against the later turns
            self._status(message=self.turns_message())
            return
        self._status()

    def _on_health(self, h: Any) -> None:
        self.client_bound = (
            f"loop lag {h.loop_lag_mean_s * 1000:.0f} ms, CPU {h.cpu:.0%}" if h.client_bound else ""
        )
