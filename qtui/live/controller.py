"""The live feed: the app's side of the measurement process (qtui/live/worker.py).

The UI thread only calls ``snapshot`` (a lock and a dataclass build) and ``send`` (a pipe write);
a reader thread folds what the worker sends into the view state. All sockets, NVML and session
file I/O happen in the worker process.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
import threading
import time
from collections.abc import Mapping
from multiprocessing import resource_tracker
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from qtui.config.describe import workload_text
from qtui.config.pricing import PriceTable
from qtui.config.profile import Profile
from qtui.engines.server import ServerProcess
from qtui.evidence.judging import Judged, JudgeJob
from qtui.launch.logs import launch_weights
from qtui.launch.watch import ServerWatch
from qtui.live import intents as it
from qtui.live import ladder
from qtui.live.filewatch import FileWatch, watched_files
from qtui.live.model import RunView, Snapshot
from qtui.live.state import ViewState
from qtui.live.worker import WorkerConfig, worker_main

COST_INTENTS = it.COST
STOP_TIMEOUT_S = 120.0  # the worker's own shutdown: load cancelled, session finalised


def workloads_of(profile: Profile) -> tuple[str, ...]:
    """The workloads a profile can drive: its own kind, synthetic, and each file it names
    (prompts, golden set, trace: a trace is replayed at its times, the level a time multiplier;
    ShareGPT conversations, on a chat profile)."""
    out: list[str] = [profile.workload.kind]
    for kind, ok in (
        ("synthetic", True),
        ("jsonl", bool(profile.workload.prompts_file)),
        ("golden", bool(profile.workload.golden_set)),
        ("trace", bool(profile.workload.trace_file)),
        # ShareGPT conversations resend their history as chat messages: chat profiles only
        ("sharegpt", bool(profile.workload.conversations_file) and profile.workload.api == "chat"),
    ):
        if ok and kind not in out:
            out.append(kind)
    return tuple(out)


class LiveFeed:
    """A Feed over running endpoints: ``urls`` maps endpoint name → base URL.

    ``telemetry_urls`` maps endpoint name → a DCGM-format exporter URL known at run time (the
    simulator's); ``pids`` the server processes qtui started (their GPU memory maps to them).
    """

    def __init__(
        self,
        profile: Profile,
        tables: Mapping[str, PriceTable],
        urls: Mapping[str, str],
        *,
        profile_path: Path | None = None,
        simulated: bool = False,
        record: Path | None = None,
        autostart_load: bool = False,
        telemetry_urls: Mapping[str, str] | None = None,
        pids: Mapping[str, int] | None = None,
        servers: Mapping[str, ServerProcess] | None = None,
        gpu_hz: float = 2.0,
    ) -> None:
        self.profile = profile
        self.record_path = record
        self.saved_path: Path | None = None
        self._lock = threading.Lock()
        self.state = ViewState(profile, tables, simulated=simulated, on_event=self._on_event)
        self.workloads = workloads_of(profile)
        self.status: dict[str, Any] = {
            "running": autostart_load,
            "quality_running": False,
            "requests_sent": 0,
            "message": "connecting to the endpoints…",
            "client_bound": "",
            "mode": profile.load.mode,
            "level": self.state.level,
            "workload": profile.workload.kind,
        }
        self.ready = threading.Event()
        self.t_start = time.time()
        self._cfg = WorkerConfig(
            profile=profile,
            tables=dict(tables),
            urls=dict(urls),
            profile_path=profile_path or Path("profile.toml"),
            record=record,
            autostart=autostart_load,
            telemetry_urls=dict(telemetry_urls or {}),
            pids=dict(pids or {}),
            gpu_hz=gpu_hz,
            mode=profile.load.mode,
            level=self.state.level,
            workload=profile.workload.kind,
        )
        self._watch = ServerWatch(servers or {}, self._server_exited)
        self._profile_path = profile_path
        self._files: FileWatch | None = None  # the profile and its price tables, edited?
        self._file_line = ""  # what the last edit of one of them means
        self._worker_line = ""  # the measurement process's last message
        self._servers = dict(servers or {})
        self._proc: Any = None
        self._cmd: Connection | None = None
        self._reader: threading.Thread | None = None
        self._bye = threading.Event()
        # the tracker hands this process's stderr to a helper process: start it while stderr is
        # still the terminal's, not Textual's capture (which has no file descriptor)
        resource_tracker.ensure_running()

    # -- Feed ------------------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        with self._lock:
            st = self.status
            run = RunView(
                source="live",
                profile=self.profile.profile.name,
                mode=st["mode"],
                # a sweep steps through its levels itself: show the one its load is driven at
                level=self.state.level if st["mode"] == "sweep" and st["running"] else st["level"],
                running=st["running"],
                elapsed_s=time.time() - self.t_start,
                requests_sent=st["requests_sent"],
                workload=st["workload"],
                workloads=self.workloads,
                client_bound=st["client_bound"],
                message=st["message"],
                quality_running=st["quality_running"],
                search=st.get("search", ""),
            )
            return self.state.snapshot(run)

    def send(self, intent: it.Intent) -> str | None:
        with self._lock:
            if isinstance(intent, COST_INTENTS):
                return self.state.apply(intent)
            reason = self._control(intent)
            self.state.seq += 1
            return reason

    # -- golden items judged in the app's thread (qtui.live.feed.JudgesInThread) -----------
    def judge_later(self) -> None:
        with self._lock:
            self.state.evidence.judge_later = True

    def quality_job(self) -> JudgeJob | None:
        with self._lock:
            return self.state.quality_job()

    def take_quality(self, job: JudgeJob, judged: Judged) -> None:
        with self._lock:
            self.state.take_quality(job, judged)

    # -- price tables saved from the what-if (qtui.live.pricing) ---------------------------
    def price_table_to_save(
        self, endpoint: str, now: float
    ) -> tuple[str, PriceTable, tuple[str, ...]]:
        with self._lock:
            base, table = self.state.table_to_save(endpoint, now)
            return base, table, tuple(self.state.whatif.tables)

    def add_price_table(self, name: str, table: PriceTable, path: Path) -> None:
        """Offer the saved table; the session records it, so a replay can price from it too."""
        with self._lock:
            self.state.add_table(name, table, str(path))
            self._tell("price_table", name, table.model_dump(mode="json", exclude_none=True))

    def _control(self, intent: it.Intent) -> str | None:
        """Load and quality intents (lock held): update what the view shows, tell the worker."""
        st = self.status
        match intent:
            case it.StartLoad():
                if st["running"]:
                    return None
                st["running"] = True  # at once, so a second key press cannot start it twice
                return self._tell("start")
            case it.StopLoad():
                return self._tell("stop") if st["running"] else None
            case it.SetMode(mode=m):
                if m == st["mode"]:
                    return None
                st["mode"] = m
                self.state.evidence.mode = m  # held levels are keyed by what they count
                if m != "sweep":
                    st["level"] = float(
                        self.profile.load.rate if m == "rate" else self.profile.load.concurrency
                    )
                    self.state.level = st["level"]
                return self._tell("mode", m, st["level"])
            case it.StepLevel(direction=d):
                if st["mode"] == "sweep":
                    return "the sweep sets its own levels; press o for concurrency or rate"
                st["level"] = ladder.step(st["mode"], st["level"], d)
                self.state.level = st["level"]
                return self._tell("level", st["level"])
            case it.SetWorkload(name=w):
                if w not in self.workloads:
                    return f"workload {w!r} is not available for this profile"
                if w == st["workload"]:
                    return None
                st["workload"] = w
                return self._tell("workload", w) or workload_text(self.profile.workload, w)
            case it.RunQuality():
                if st["quality_running"]:
                    return "a quality run is already going"
                if not self.profile.workload.golden_set:
                    return "this profile names no golden set (workload.golden_set)"
                st["quality_running"] = True
                return self._tell("quality")
            case _:
                return "not available while live (replay controls)"

    def _tell(self, *msg: Any) -> str | None:
        if self._cmd is None or self._bye.is_set():
            return "the measurement process is not running"
        try:
            self._cmd.send(msg)
        except (OSError, ValueError):
            return "the measurement process is not running"
        return None

    async def start(self) -> None:
        """Start the measurement process and the reader thread; returns at once."""
        ctx = mp.get_context("spawn")
        cmd_read, cmd_write = ctx.Pipe(duplex=False)
        out_read, out_write = ctx.Pipe(duplex=False)
        self._proc = ctx.Process(
            target=worker_main, args=(self._cfg, cmd_read, out_write), name="qtui-measure"
        )
        await asyncio.to_thread(self._proc.start)
        cmd_read.close()
        out_write.close()  # the worker holds the only write end: its exit means EOF here
        self._cmd = cmd_write
        self._reader = threading.Thread(
            target=self._read, args=(out_read,), name="qtui-live", daemon=True
        )
        self._reader.start()
        self._watch.start()
        files = await asyncio.to_thread(watched_files, self.profile, self._profile_path)
        self._files = await asyncio.to_thread(FileWatch(files, self._file_changed).start)
        for value in await asyncio.to_thread(launch_weights, self._servers):
            ev = {"t": time.time(), "kind": "launch", "key": "weights", "value": value}
            with self._lock:
                self.state.ingest("event", ev)
            self._tell("event", ev)

    async def stop(self) -> None:
        """Stop load, quality, scraping and sampling; then finalise the session file."""
        await asyncio.to_thread(self._shutdown)

    # -- reader thread ---------------------------------------------------------------------
    def _read(self, conn: Connection) -> None:
        while True:
            try:
                msg = conn.recv()
            except (EOFError, OSError):
                break
            self._apply(msg)
            if msg[0] == "bye":
                break
        if not self._bye.is_set():  # the worker died without saying goodbye
            code = self._proc.exitcode if self._proc is not None else None
            with self._lock:
                self.status["running"] = False
                self.status["message"] = f"the measurement process exited (code {code})"
                self.state.seq += 1
        self._bye.set()

    def _apply(self, msg: tuple[Any, ...]) -> None:
        with self._lock:
            match msg:
                case ("ingest", kind, rec):
                    self.state.ingest(kind, rec)
                case ("status", st):
                    if st["message"] != self._worker_line:  # a new message from the worker wins
                        self._worker_line, self._file_line = st["message"], ""
                    self.status.update({**st, "message": self._file_line or st["message"]})
                    self.state.level = st["level"]
                    self.state.seq += 1
                case ("ready",):
                    self.ready.set()
                    if self.status["message"].startswith("connecting"):
                        self.status["message"] = ""
                    self.state.seq += 1
                case ("outage", name, text):
                    self.state.set_outage(name, text)
                case ("saved", path):
                    self.saved_path = Path(path)
                case ("bye",):
                    self._bye.set()

    def _server_exited(self, _endpoint: str, line: str) -> None:
        """Watch thread: a server qtui started died; the status line and the session say so."""
        with self._lock:
            self.status["message"] = line
            self.state.seq += 1
            self._tell("server_exit", line)

    def _file_changed(self, line: str) -> None:
        """File-watch thread: the profile or a price table was edited (qtui.live.filewatch)."""
        with self._lock:
            self._file_line = self.status["message"] = line
            self.state.seq += 1

    def _on_event(self, event: dict[str, Any]) -> None:
        """A what-if changed: the worker records it in the session file."""
        self._tell("event", event)

    def _shutdown(self) -> None:
        self._watch.stop()  # the servers are stopped after the app: that exit is ours
        if self._files is not None:
            self._files.stop()
        with self._lock:
            final = self.state.whatif.snapshot()
        self._tell("shutdown", final)
        if self._reader is not None:
            self._reader.join(STOP_TIMEOUT_S)
        proc = self._proc
        if proc is not None:
            proc.join(5)
            if proc.is_alive():  # hung: the journal on disk still holds everything recorded
                proc.terminate()
                proc.join(5)
        if self._cmd is not None:
            with contextlib.suppress(OSError):
                self._cmd.close()
