"""The load engine: several endpoints measured side by side, each with its own load.

`LoadRun(profile, urls, on_record=...)`: `await run.start()`, then `await run.wait()` (or
`await run.stop()` at any time: in-flight requests are cancelled and still recorded). Every
second each endpoint's window `Stats` goes to `on_second`, the client's own `ClientHealth` to
`on_health`, and (with `scrape=True`) each `/metrics` scrape's `ServerSecond` to `on_server`.
`set_level()` changes concurrency (closed loop) or rate (open loop) while running. Results are
plain dataclasses (`EndpointResult`), no Textual import.

With more streams than one event loop serves well (or `processes=K` / `[load] processes`), the
requests are sent from K worker processes (`qtui/load/procs.py`) and their records merged here:
windows, statistics and callbacks are the same.

Statistics exclude warm-up and cool-down requests (phase by send time within each step); the live
1 s windows show every request that ended in them, whatever its phase.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
import os
import pickle
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from qtui.client.discovery import ServerInfo, api_key, discover, precision_warning
from qtui.client.stream import StreamClient
from qtui.config.profile import Endpoint, Load, Profile
from qtui.errors import QtuiError
from qtui.evidence.capacity import (
    CLIENT_STOPPED,
    ENDPOINT_FAILED,
    Capacity,
    capacity_text,
    failed_capacity,
)
from qtui.evidence.closecall import close_call, extend_to
from qtui.evidence.levels import is_client_bound
from qtui.evidence.records import Phase, RequestRecord, ServerSecond, Stats
from qtui.evidence.sharing import GpuKey, Isolation
from qtui.evidence.sharing import plan as isolation_plan
from qtui.load import ray_pool
from qtui.load.knee import KneeSearch, KneeStep, slo_ratio
from qtui.load.procs import ProcessSender, ShardConfig, ShardPool
from qtui.load.ray_pool import Host
from qtui.load.scraper import ServerScraper
from qtui.load.selfcheck import ClientHealth, LoopMonitor
from qtui.load.sender import Bounds, LocalCounter, LocalSender, SharedCounter
from qtui.load.slo import LevelResult, breaches, capacity, point, step_rise
from qtui.load.split import By, choose_processes, expected_streams, merge_health, more_processes
from qtui.load.tokens import (
    TokenPool,
    WordPool,
    chat_lengths,
    fetch_pool,
    fetch_words,
    input_lengths,
)
from qtui.load.trace import Trace, TracePrompts, TraceSender, load_trace
from qtui.load.trace_turns import latest_end_s
from qtui.load.workload import GoldenFactory, make_source, think
from qtui.metrics.stats import (
    Cumulative,
    delivered_bytes,
    delivered_chunks,
    failed_bytes,
    partial_tokens,
    streamed_tokens,
    summarize,
    tokens_per_byte,
    tokens_per_chunk,
)

Mode = Literal["concurrency", "rate", "sweep"]
DEAD = ("connect", "disconnect", "malformed")  # a step of only these: the endpoint failed
TOO_FEW = "too few requests to judge"  # a knee step short of min_requests at max_extend


@dataclass(slots=True)
class EndpointResult:
    """Everything measured for one endpoint: whole-run stats, sweep levels, capacity."""

    name: str
    url: str
    precision: str
    info: ServerInfo | None = None
    warnings: list[str] = field(default_factory=list)
    summary: Stats | None = None
    levels: list[LevelResult] = field(default_factory=list)
    capacity: Capacity | None = None
    sent: int = 0
    seconds: int = 0
    client_bound_seconds: int = 0
    failed: str = ""  # the endpoint failed mid-search: what it did (its kept steps are labelled)
    failed_text: str = ""  # the warning that said so
    failed_what: str = ENDPOINT_FAILED  # or CLIENT_STOPPED: a step the client limited

    @property
    def client_bound(self) -> bool:
        """The client, not the server, was the limit (``qtui.evidence.levels.is_client_bound``)."""
        return is_client_bound(self.client_bound_seconds, self.seconds)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "url": self.url,
            "precision": self.precision,
            "info": self.info.to_dict() if self.info else None,
            "warnings": self.warnings,
            "summary": self.summary.to_dict() if self.summary else None,
            "levels": [lv.to_dict() for lv in self.levels],
            "capacity": None
            if self.capacity is None
            else {
                "level": self.capacity.level,
                "rps": self.capacity.rps,
                "out_tps": self.capacity.output_tps,
                "lower_bound": self.capacity.lower_bound,
                "text": capacity_text(self.capacity),
            },
            "sent": self.sent,
            "client_bound": self.client_bound,
            "client_bound_seconds": self.client_bound_seconds,
        }


class Sender(Protocol):
    """What drives one endpoint's requests: `LocalSender` (this loop) or `ProcessSender`."""

    exhausted: asyncio.Event

    @property
    def sent(self) -> int: ...
    @property
    def chunks(self) -> int: ...
    @property
    def text_bytes(self) -> int: ...
    @property
    def in_flight(self) -> int: ...
    def start(self, level: float, by: By, bounds: Bounds, offset_s: float = 0.0) -> None: ...
    def set_level(self, level: float) -> None: ...
    async def stop(self, cancel: bool, grace_s: float) -> None: ...
    async def aclose(self) -> None: ...


class _Endpoint:
    """One endpoint's measurement: its sender, its window buffer, its cumulative stats."""

    def __init__(self, run: LoadRun, ep: Endpoint, url: str) -> None:
        self.run, self.ep, self.url = run, ep, url
        self.sender: Sender
        self.level = 0.0
        self.by: By = "concurrency"
        self.window: list[RequestRecord] = []
        self.step_records: list[RequestRecord] = []  # sent in the measured part of the step
        self.step_all: list[RequestRecord] = []  # every request that ended during the step
        self.cum = Cumulative(ep.name)
        self.chunks_seen = self.bytes_seen = 0
        # tokens per chunk, and per byte of text, of the last second in which a request finished
        # (qtui.metrics.stats; per byte: None until one finished with its bytes measured)
        self.per_chunk = 1.0
        self.per_byte: float | None = None
        self.extended_s = 0.0
        self.result = EndpointResult(ep.name, url, ep.precision)
        self.search: KneeSearch | None = None  # a knee search's state (its progress, its stop)
        self.step_ok = 0  # successful measured requests of the step so far
        self.step_target = 0  # a knee step is judged once this many have completed
        self.enough = asyncio.Event()
        self.close_why = ""  # the step just measured was judged as a close call: why
        self.held_said = 0  # arrivals held while backing off, already reported

    @property
    def sent(self) -> int:
        return self.sender.sent

    def phase_of(self, start: float, end: float) -> Phase:
        """The phase of the step a live second [start, end] (perf_counter) falls in, by its
        middle: "warmup" before the step's warm-up ends, "cooldown" in its cool-down, else
        "measure" (also outside any step: a load the app holds without steps)."""
        step = getattr(self, "step_start", None)
        if step is None:
            return "measure"
        mid = (start + end) / 2
        if mid < step + self.warmup:
            return "warmup"
        if self.cooldown and self.step_end - self.cooldown <= mid < self.step_end:
            return "cooldown"
        return "measure"

    def _done(self, rec: RequestRecord) -> None:
        self.window.append(rec)
        self.step_all.append(rec)
        if rec.phase == "measure":
            self.step_records.append(rec)
            if rec.ok:
                self.step_ok += 1
                if self.step_target and self.step_ok >= self.step_target:
                    self.enough.set()
        self.run._emit_record(rec)

    def set_level(self, level: float) -> None:
        self.level = level
        self.sender.set_level(level)

    async def step(
        self,
        level: float,
        duration: float,
        drain: bool,
        min_requests: int = 0,
        max_s: float | None = None,
    ) -> LevelResult:
        """Run one load level for `duration` s (or until max_requests / stop) and measure it.

        With ``min_requests`` (a knee-search step) the step is judged only once that many
        measured requests have succeeded: a step too short to judge runs on, up to ``max_s``,
        and one still short then fails as "too few requests to judge". Such a step has no
        cool-down (its end is not known in advance: its requests drain instead).
        """
        load = self.run.load
        self.level = level
        self.step_records = []
        self.step_ok, self.step_target = 0, min_requests
        self.enough.clear()
        warmup = min(load.warmup_s, duration)
        self.cooldown = 0.0 if min_requests else min(load.cooldown_s, max(0.0, duration - warmup))
        self.warmup = warmup
        self.step_start = time.perf_counter()
        wall_start = time.time()
        self.step_all = []
        self.step_end = self.step_start + duration
        end = float("inf") if min_requests else self.step_end
        bounds = Bounds(self.step_start, end, self.warmup, self.cooldown)
        sharing = set(self.run.loaded_with(self.ep.name))
        self.sender.start(level, self.by, bounds)
        halt = asyncio.ensure_future(self.run._halt.wait())
        limit = asyncio.ensure_future(self.sender.exhausted.wait())
        await asyncio.wait([halt, limit], timeout=duration, return_when=asyncio.FIRST_COMPLETED)
        longest = max(duration, max_s or duration)
        if min_requests and not (halt.done() or limit.done()) and self.step_ok < min_requests:
            enough = asyncio.ensure_future(self.enough.wait())
            rest = self.step_start + longest - time.perf_counter()
            await asyncio.wait(
                [halt, limit, enough], timeout=max(0.0, rest), return_when=asyncio.FIRST_COMPLETED
            )
            enough.cancel()
        self.close_why = ""
        if min_requests and self.step_ok >= min_requests:
            await self._run_on_close_call(halt, limit, self.step_start + longest)
        halt.cancel()
        limit.cancel()
        t_sent = time.perf_counter()
        stopped = self.run._halt.is_set()
        # a request-count limit or a sweep step lets requests finish; duration or stop cancels
        finish = not stopped and (drain or self.sender.exhausted.is_set())
        await self.sender.stop(cancel=not finish, grace_s=load.timeout_s)
        now = time.perf_counter()
        window_end = t_sent if min_requests else min(now, self.step_end - self.cooldown)
        measured = max(1e-9, window_end - (self.step_start + self.warmup))
        stats = summarize(self.ep.name, self.step_records, time.time(), measured)
        window = wall_start + self.warmup
        streamed = streamed_tokens(
            self.step_all, window, window + measured, self.per_chunk, self.per_byte
        )
        stats = replace(stats, out_tps=streamed / measured)
        self.step_all = []
        self.step_target = 0
        self.result.sent = self.sent
        held = int(getattr(self.sender, "held", 0))
        if held > self.held_said:  # open loop: arrivals not sent while the endpoint failed
            msg = (
                f"{self.ep.name}: {held - self.held_said} arrivals not sent while backing off "
                f"(open loop; the endpoint was failing)"
            )
            self.held_said = held
            self.result.warnings.append(msg)
            self.run._event("warning", msg)
        rise = step_rise(self.step_records) if self.by == "rate" else None
        unit = "req/s" if self.by == "rate" else "users"
        broken = breaches(stats, self.run.profile.slo, unit, rise)
        if min_requests and self.step_ok < min_requests:
            broken.append(
                f"{TOO_FEW}: {self.step_ok} < {min_requests} in {t_sent - self.step_start:.0f} s"
            )
        self.extended_s = max(0.0, t_sent - self.step_start - duration)
        sharing |= set(self.run.loaded_with(self.ep.name))
        group = self.run.isolation.group_of(self.ep.name)
        gpu = group.gpu if group is not None and sharing else ""
        names = tuple(n for n in self.run.urls if n in sharing)
        return LevelResult(level, stats, broken, shared_gpu=gpu, sharing=names, ttft_rise=rise)

    async def _run_on_close_call(
        self, halt: asyncio.Future[Any], limit: asyncio.Future[Any], deadline: float
    ) -> None:
        """A knee step whose p95 is within its own noise of a limit (``qtui.evidence.closecall``)
        runs on to twice its successes, up to ``CLOSE_CALL_GROWTH`` times, before it is judged;
        ``close_why`` keeps the reason if it is still a close call then."""
        first = 0
        slo = self.run.profile.slo
        while not (halt.done() or limit.done()):
            # the successes and the records judged, taken at one instant: requests still end
            # while the interval is computed off the loop (a long step's ITL gaps take a
            # fraction of a second to sort), and the target grows from what was judged
            judged, records = self.step_ok, list(self.step_records)
            first = first or judged
            why = await asyncio.to_thread(close_call, records, slo)
            more = extend_to(judged, first, why)
            rest = deadline - time.perf_counter()
            self.close_why = why
            if more is None or rest <= 0:
                return
            self.run._event(
                "note", f"{self.ep.name}: {self.level:g}: a close call ({why}): run on to {more}"
            )
            self.step_target = more
            self.enough.clear()
            enough = asyncio.ensure_future(self.enough.wait())
            await asyncio.wait(
                [halt, limit, enough], timeout=rest, return_when=asyncio.FIRST_COMPLETED
            )
            enough.cancel()
        self.close_why = ""  # halted or out of requests: not judged as a close call

    async def _knee(self) -> None:
        """The knee search (``qtui.load.knee``): each step measured and judged, then the next."""
        sweep, slo = self.run.load.sweep, self.run.profile.slo
        search = self.search = KneeSearch.from_sweep(sweep, self.by)
        unit = "req/s" if self.by == "rate" else "users"
        max_s = self.run.step_s * sweep.max_extend
        while (level := search.next_level()) is not None:
            if self.run._halt.is_set() or self.sender.exhausted.is_set():
                search.halt()
                break
            b0 = self.run.bound_seconds(self.ep.name)
            lv = await self.step(level, self.run.step_s, True, sweep.min_requests, max_s)
            dead = [r for r in self.step_records if r.error_class in DEAD]
            if self.step_ok == 0 and dead:  # the endpoint failed, not the SLO: no verdict
                why = f"{len(dead)} requests {dead[-1].error_class}, none completed"
                msg = f"{self.ep.name}: knee search {search.fail(why)}"
                self.result.failed, self.result.failed_text = why, msg
                self.result.warnings.append(msg)
                self.run._event("warning", msg)
                break
            bound = self.run.bound_seconds(self.ep.name) - b0
            seconds = max(1, round(lv.stats.duration_s))
            client_bound = is_client_bound(bound, seconds)
            if client_bound:  # the client's limit is not the server's capacity: no verdict
                self._client_stop(search, level, unit, bound, seconds)
                break
            if lv.breaches and all(b.startswith(TOO_FEW) for b in lv.breaches):
                self._short_stop(search, lv.breaches[0], level, unit)  # no breach seen: no verdict
                break
            self.result.levels.append(
                KneeStep(
                    lv.level,
                    lv.stats,
                    lv.breaches,
                    client_bound,
                    lv.shared_gpu,
                    lv.sharing,
                    step=search.steps + 1,
                    max_steps=search.max_steps,
                    precision=search.precision,
                    extended_s=self.extended_s,
                    ttft_rise=lv.ttft_rise,
                    close_call=self.close_why,
                )
            )
            pt = point(lv.stats, level, client_bound=client_bound, unit=unit, rise=lv.ttft_rise)
            pt = replace(pt, close_call=bool(self.close_why))
            search.record(level, lv.ok, slo_ratio(pt, slo))
            self.run._event("note", f"{self.ep.name}: knee search {search.progress()}")

    def _short_stop(self, search: KneeSearch, short: str, level: float, unit: str) -> None:
        """A knee step that never reached ``min_requests`` and broke no SLO with what it had is
        not judged (a breach it saw would fail it): the search stops there, keeps its bracket,
        and says what to raise."""
        why = f"at {level:g} {unit}, {short.removeprefix(TOO_FEW + ': ')}, no SLO broken so far"
        hint = "; raise [load] sweep max_extend or step_duration_s"
        msg = f"{self.ep.name}: knee search {search.fail(why, TOO_FEW)}{hint}"
        r = self.result
        r.failed, r.failed_text, r.failed_what = why, msg, TOO_FEW
        r.warnings.append(msg)
        self.run._event("warning", msg)

    def _client_stop(
        self, search: KneeSearch, level: float, unit: str, bound: int, seconds: int
    ) -> None:
        """A knee step the client limited is not judged: the search stops there, keeps its
        bracket and says how many processes to run instead."""
        run = self.run
        why = f"at {level:g} {unit}, {bound} of {seconds} s client-bound at {run.processes} load"
        why += f" process{'es' if run.processes > 1 else ''}; not judged"
        more = more_processes(run.processes, run.cpus)
        hint = (
            f"; rerun with [load] processes = {more} (or --processes {more})"
            if more
            else "; every CPU already runs a load process: run qtui on a larger host"
        )
        msg = f"{self.ep.name}: knee search {search.fail(why, CLIENT_STOPPED)}{hint}"
        r = self.result
        r.failed, r.failed_text, r.failed_what = why, msg, CLIENT_STOPPED
        r.warnings.append(msg)
        run._event("warning", msg)

    async def drive(self) -> None:
        """The whole load plan of this endpoint: one fixed level, or a sweep until an SLO breaks."""
        load, mode = self.run.load, self.run.mode
        t0 = time.perf_counter()
        if mode == "sweep" and load.sweep.search == "knee":
            self.by = load.sweep_by
            await self._knee()
        elif mode == "sweep":
            self.by = load.sweep_by
            for level in self.run.levels:
                if self.run._halt.is_set() or self.sender.exhausted.is_set():
                    break
                b0 = self.run.bound_seconds(self.ep.name)
                lv = await self.step(level, self.run.step_s, drain=True)
                bound = self.run.bound_seconds(self.ep.name) - b0
                lv.client_bound = is_client_bound(bound, max(1, round(lv.stats.duration_s)))
                self.result.levels.append(lv)
                if not lv.ok:
                    break
        else:
            self.by = "rate" if mode == "rate" else "concurrency"
            level = (
                self.run.level
                if self.run.level is not None
                else 1.0  # a trace's level is its time multiplier
                if self.run.trace is not None
                else (load.rate if mode == "rate" else float(load.concurrency))
            )
            lv = await self.step(level, self.run.duration, drain=False)
            self.result.levels.append(lv)
        unit = "req/s" if self.by == "rate" else "users"
        cap = capacity(self.result.levels, self.run.profile.slo, held=mode != "sweep", unit=unit)
        r = self.result
        self.result.capacity = cap and failed_capacity(cap, r.failed, r.failed_what)
        self.run_time = time.perf_counter() - t0


class LoadRun:
    """Drive a profile's load at its endpoints and measure them, live."""

    def __init__(
        self,
        profile: Profile,
        endpoint_urls: dict[str, str] | None = None,
        *,
        on_record: Callable[[RequestRecord], None] | None = None,
        on_second: Callable[[Stats], None] | None = None,
        on_server: Callable[[ServerSecond], None] | None = None,
        on_health: Callable[[ClientHealth], None] | None = None,
        on_event: Callable[[str, str], None] | None = None,
        base_dir: Path = Path("."),
        mode: Mode | None = None,
        level: float | None = None,
        duration: float | None = None,
        max_requests: int | None = None,
        scrape: bool = True,
        golden: GoldenFactory | None = None,
        processes: int | None = None,
        gpu_seen: Mapping[str, Iterable[GpuKey]] | None = None,
    ) -> None:
        self.profile = profile
        self.load: Load = profile.load
        self.mode: Mode = mode or profile.load.mode
        self.level = level
        self.levels = profile.load.sweep.levels
        self.step_s = duration or profile.load.sweep.step_duration_s
        self.duration = duration or profile.load.duration_s
        self.trace: Trace | None = None  # a trace workload, read in start()
        # exact-length prompts (server /tokenize): token ids, or one-token words (chat API)
        self.token_pool: TokenPool | WordPool | None = None
        # this run's nonce: synthetic text no earlier run sent, so a server's prefix cache kept
        # from one flatters nothing (lengths stay the seed's: SyntheticWorkload)
        self.run_nonce = secrets.randbits(32)
        self.input_lengths = ""  # what the record says of input lengths (qtui.load.tokens)
        self._timed = duration is not None or "duration_s" in profile.load.model_fields_set
        self.max_requests = max_requests or profile.load.max_requests
        self.arrival = profile.load.arrival
        self.base_dir = base_dir
        self.golden = golden
        self.processes_override = processes or profile.load.processes
        self.processes = 1  # decided in start(): 1 = this event loop, K > 1 = K worker processes
        self.remote = False  # decided in start(): the workers are Ray actors ([load] hosts)
        self.pool: ShardPool | None = None
        self.worker_cpu_s = 0.0  # CPU seconds of the worker processes after start-up (wait())
        self.on_record, self.on_second = on_record, on_second
        self.on_server, self.on_health, self.on_event = on_server, on_health, on_event
        urls = endpoint_urls or {}
        self.urls = {e.name: urls.get(e.name) or e.url for e in profile.endpoints}
        # which endpoints share a GPU (the profile's, and what NVML saw: ``gpu_seen``) and so
        # which a sweep loads in turn (``qtui.evidence.sharing``); the record's isolation event
        self.isolation: Isolation = isolation_plan(
            profile.endpoints, self.urls, self.load.isolate, self.mode == "sweep", gpu_seen
        )
        self.active: set[str] = set()  # endpoints whose load plan is running
        self.waiting: set[str] = set()  # endpoints waiting for their turn on a shared GPU
        missing = [n for n, u in self.urls.items() if not u]
        if missing:
            raise QtuiError(
                f"endpoint {missing[0]}: no url (start it with qtui sim / --launch, or set url)"
            )
        self.scraper = (
            ServerScraper(
                {
                    e.name: e.metrics_url or f"{self.urls[e.name]}/metrics"
                    for e in profile.endpoints
                },
                self._emit_server,
            )
            if scrape
            else None
        )
        self.eps: dict[str, _Endpoint] = {}
        self.latest: dict[str, Stats] = {}
        self.health: list[ClientHealth] = []
        self._bound: dict[str, int] = {}
        self._halt = asyncio.Event()
        self._monitor = LoopMonitor()
        self._tasks: list[asyncio.Task[None]] = []
        self._ticker: asyncio.Task[None] | None = None
        self._last_tick = 0.0
        self.t_start = self.t_end = 0.0

    # ---- callbacks (a failing callback is reported once, never stops the measurement)
    def _emit_record(self, rec: RequestRecord) -> None:
        if self.on_record:
            self.on_record(rec)

    def _emit_server(self, s: ServerSecond) -> None:
        if self.on_server:
            self.on_server(s)

    def _event(self, kind: str, msg: str) -> None:
        if self.on_event:
            self.on_event(kind, msg)

    def bound_seconds(self, name: str) -> int:
        return self._bound.get(name, 0)

    def loaded_with(self, name: str) -> list[str]:
        """The other endpoints on this endpoint's GPU whose load is running now."""
        group = self.isolation.group_of(name)
        return [n for n in group.names if n != name and n in self.active] if group else []

    async def _lane(self, names: list[str]) -> None:
        """One lane of the isolation plan: its endpoints' load plans one after another."""
        for name in names:
            ep = self.eps[name]
            self.waiting.discard(name)
            self.active.add(name)
            try:
                await ep.drive()
            finally:
                self.active.discard(name)

    # ---- control
    async def start(self) -> None:
        """Discover endpoints, then start load, the 1 s ticker, the self-check and the scraper."""
        self.t_start = time.time()
        infos = await asyncio.gather(*(self._discover(e) for e in self.profile.endpoints))
        self._read_trace(infos)
        await self._tokenize(infos)
        await self._name_file()
        conc = int(self.peak_streams())
        self.processes = self._choose_processes()
        hosts: tuple[list[Host], bool] | None = None
        if self.remote:
            hosts = await asyncio.to_thread(ray_pool.connect, self.load.ray_address)
            self.processes = self.processes_override or len(hosts[0])
        counters: dict[str, Any] = {}
        if self.processes > 1 and not self.remote:
            ctx = mp.get_context("spawn")
            counters = {e.name: ctx.Value("q", 0) for e in self.profile.endpoints}
        models: dict[str, str] = {}
        for e, info in zip(self.profile.endpoints, infos, strict=True):
            model = e.model or info.model_id or e.name
            models[e.name] = model
            ep = _Endpoint(self, e, self.urls[e.name])
            ep.result.info = info
            if info.detail:
                ep.result.warnings.append(f"endpoint {e.name}: {info.detail}")
            warn = precision_warning(e.name, e.precision, info)
            if warn:
                ep.result.warnings.append(warn)
            for w in ep.result.warnings:
                self._event("warning", w)
            salt = len(self.eps)
            # made here also with worker processes: a bad workload stops the run before any spawn
            if self.trace is not None:
                ep.sender = self._trace_sender(e, model, ep, info)
                self.eps[e.name] = ep
                continue
            source = make_source(
                self.profile.workload, self.base_dir, info.max_model_len, salt, self.golden,
                pool=self.token_pool, run=self.run_nonce,
            )  # fmt: skip
            if self.processes == 1 and not self.remote:
                client = StreamClient(
                    e.name, self.urls[e.name], model, self.profile.workload.api, api_key(e),
                    self.load.timeout_s, max_connections=max(64, conc * 2),
                    stall_timeout_s=self.load.stall_timeout_s,
                    ttft_timeout_s=self.load.ttft_timeout_s,
                    min_tokens=not info.honours_ignore_eos,
                )  # fmt: skip
                ep.sender = LocalSender(
                    e.name, client, source, LocalCounter(self.max_requests), ep._done,
                    np.random.default_rng([self.profile.workload.seed, 99]),
                    self.arrival == "poisson", None, *think(self.profile.workload),
                )  # fmt: skip
            self.eps[e.name] = ep
        if hosts is not None:
            await self._start_pool(infos, models, counters, conc, hosts)
        elif self.processes > 1:
            await self._start_pool(infos, models, counters, conc)
        self._monitor.start()
        loop = asyncio.get_running_loop()
        self._last_tick = time.perf_counter()
        self._ticker = loop.create_task(self._tick_loop())
        if self.scraper:
            self.scraper.start()
        lanes = [[n for n in ln if n in self.eps] for ln in self.isolation.lanes]
        self.waiting = {n for ln in lanes for n in ln[1:]}
        if any(g.shared for g in self.isolation.groups) or any(len(ln) > 1 for ln in lanes):
            self._event("note", self.isolation.text)
        self._tasks = [loop.create_task(self._lane(ln)) for ln in lanes if ln]

    async def _name_file(self) -> None:
        """The workload's file by its content (event ``file``): a replay can check it has the
        same trace, conversations or prompts."""
        w = self.profile.workload
        name = {"trace": w.trace_file, "sharegpt": w.conversations_file, "jsonl": w.prompts_file}
        rel = name.get(w.kind)
        if rel:
            digest = await asyncio.to_thread(file_sha256, self.base_dir / rel)
            if digest:
                self._event("file", f"{w.kind} file {rel}: sha256 {digest}")

    async def _tokenize(self, infos: list[ServerInfo]) -> None:
        """Exact input lengths where every endpoint's ``/tokenize`` agrees
        (``qtui.load.tokens``): token-id prompts, or over the chat API messages of one-token
        words; the sentence saying which goes to the record (event ``tokens``)."""
        w = self.profile.workload
        ask = [
            (self.urls[e.name], e.model or info.model_id or e.name, api_key(e))
            for e, info in zip(self.profile.endpoints, infos, strict=True)
        ]
        pool: TokenPool | WordPool | None
        if w.api == "chat":
            lists = []
            if w.kind == "synthetic":  # the workload could use one-token words: ask
                lists = list(await asyncio.gather(*(fetch_words(*a) for a in ask)))
            self.input_lengths, pool = chat_lengths(w, lists)
        else:
            pools: list[tuple[int, ...] | None] = []
            if input_lengths(w, [(0,)])[1] is not None:  # the workload could use a pool: ask
                pools = list(await asyncio.gather(*(fetch_pool(*a) for a in ask)))
            texts = sum(it.prompt is not None for it in self.trace.items) if self.trace else 0
            self.input_lengths, pool = input_lengths(w, pools, texts)
        self.token_pool = pool
        self._event("tokens", self.input_lengths)

    def _read_trace(self, infos: list[ServerInfo]) -> None:
        """A trace workload is read and checked whole, against every endpoint, before any send;
        played once, the run lasts as long as the trace unless a duration was given."""
        w = self.profile.workload
        if w.kind != "trace":
            return
        self.trace = load_trace(w, self.base_dir)
        for e, info in zip(self.profile.endpoints, infos, strict=True):
            self.trace.check_limit(info.max_model_len, e.name)
        if not self._timed and self.mode != "sweep":
            scale = w.speed * (self.level or 1.0)
            if self.trace.multi_turn:  # its later turns wait for answers: at most timeout_s each
                self.duration = latest_end_s(self.trace.items, scale, self.load.timeout_s) + 1.0
            else:
                self.duration = self.trace.span_s / scale + 1.0

    def _trace_sender(
        self, e: Endpoint, model: str, ep: _Endpoint, info: ServerInfo
    ) -> TraceSender:
        assert self.trace is not None
        w = self.profile.workload
        client = StreamClient(
            e.name, self.urls[e.name], model, w.api, api_key(e), self.load.timeout_s,
            max_connections=max(1024, 2 * int(self.peak_streams())),
            stall_timeout_s=self.load.stall_timeout_s, ttft_timeout_s=self.load.ttft_timeout_s,
            min_tokens=not info.honours_ignore_eos,
        )  # fmt: skip
        counter = LocalCounter(self.max_requests)
        tokens = self.token_pool if isinstance(self.token_pool, TokenPool) else None
        prompts = TracePrompts(self.trace, w, tokens)
        cycle = self.mode == "sweep"  # every sweep step replays the trace, again and again
        return TraceSender(e.name, client, self.trace, prompts, counter, ep._done, w.speed, cycle)

    def peak_streams(self) -> float:
        """The most concurrent streams this run's plan asks for (users, or λ·request time)."""
        load, out = self.load, float(self.profile.workload.output_tokens.mean)
        if self.trace is not None:
            scale = self.top_level() if self.mode == "sweep" else (self.level or 1.0)
            return self.trace.expected_streams(self.profile.workload.speed * scale)
        if self.mode == "sweep":
            by: By = load.sweep_by
            level = self.top_level()
        else:
            by = "rate" if self.mode == "rate" else "concurrency"
            level = self.level or (load.rate if by == "rate" else float(load.concurrency))
        streams = expected_streams(by, level, out)
        return max(streams, float(load.concurrency) if by == "concurrency" else 1.0)

    def total_streams(self) -> float:
        """The most concurrent streams over every endpoint loaded at once: one endpoint's peak ×
        the endpoints a sweep runs side by side (its lanes), or all of them under a held load."""
        at_once = len(self.isolation.lanes) if self.mode == "sweep" else len(self.eps or self.urls)
        return self.peak_streams() * max(1, at_once)

    @property
    def cpus(self) -> int:
        """The CPUs this process may run on."""
        if hasattr(os, "sched_getaffinity"):
            return len(os.sched_getaffinity(0)) or 1
        return os.cpu_count() or 1

    def top_level(self) -> float:
        """A sweep's highest level: the last given one; a knee search's, one ramp step past it
        (where its ramp usually breaks an SLO)."""
        sweep = self.load.sweep
        top = max(self.levels, default=1.0)
        return top * sweep.ramp if sweep.search == "knee" else top

    def _choose_processes(self) -> int:
        if self.trace is not None:  # one loop keeps a trace's order and times
            if (self.processes_override or 1) > 1 or self.load.hosts == "ray":
                self._event("warning", "a trace is replayed from one process")
            return 1
        if self.load.hosts == "ray":
            if self.golden is not None and not _picklable(self.golden):
                self._event("warning", "load runs on this host: its golden source is local")
                return self._choose_local()
            self.remote = True
            return 1
        return self._choose_local()

    def _choose_local(self) -> int:
        k = choose_processes(self.total_streams(), self.cpus, self.processes_override)
        if k > 1 and mp.current_process().daemon:
            self._event("warning", "load runs in one process: a daemon process cannot spawn")
            return 1
        if k > 1 and self.golden is not None and not _picklable(self.golden):
            self._event("warning", "load runs in one process: its golden source is local")
            return 1
        return k

    async def _start_pool(
        self,
        infos: list[ServerInfo],
        models: dict[str, str],
        counters: dict[str, Any],
        conc: int,
        hosts: tuple[list[Host], bool] | None = None,
    ) -> None:
        """K worker processes (or Ray actors) share every endpoint's load; their records come
        back here."""
        k = self.processes
        names = list(self.eps)
        mml = {n: info.max_model_len for n, info in zip(names, infos, strict=True)}
        min_tokens = {n: not info.honours_ignore_eos for n, info in zip(names, infos, strict=True)}
        salts = {n: j for j, n in enumerate(names)}
        per_proc = max(64, 2 * -(-conc // k))
        configs = [
            ShardConfig(
                i,
                k,
                self.profile,
                dict(self.urls),
                models,
                mml,
                salts,
                self.base_dir,
                self.max_requests,
                per_proc,
                self.golden,
                counters,
                self.token_pool,
                stride=hosts is not None,
                run=self.run_nonce,
                min_tokens=min_tokens,
            )
            for i in range(k)
        ]
        if hosts is not None:
            self.pool = ray_pool.RayPool(configs, *hosts, self._pool_record, self._event)
            for w in ray_pool.loopback_warnings(self.urls, hosts[0]):
                self._event("warning", w)
        else:
            self.pool = ShardPool(configs, self._pool_record, self._event)
        for name, ep in self.eps.items():
            shared = counters.get(name)
            counter = None if shared is None else SharedCounter(shared, self.max_requests)
            ep.sender = ProcessSender(self.pool, name, counter)
        await self.pool.start()
        if hosts is None:
            self._event("note", f"load spread over {k} worker processes")

    def load_hosts(self) -> dict[str, Any] | None:
        """With ``[load] hosts = "ray"``: the hosts, the clock alignment bound and the hosts
        that dropped out (`RayPool.summary`); None when the load ran on this host."""
        return self.pool.summary() if isinstance(self.pool, ray_pool.RayPool) else None

    def _pool_record(self, rec: RequestRecord) -> None:
        ep = self.eps.get(rec.endpoint)
        if ep is not None:
            ep._done(rec)

    async def _discover(self, e: Endpoint) -> ServerInfo:
        try:
            return await discover(self.urls[e.name], api_key(e), timeout=5.0)
        except QtuiError:
            raise
        except Exception as exc:  # a broken server must not stop the others
            return ServerInfo(self.urls[e.name], detail=f"discovery failed ({type(exc).__name__})")

    def set_level(self, level: float, endpoint: str | None = None) -> None:
        """New concurrency (closed loop) or req/s (open loop), for one endpoint or all."""
        for name, ep in self.eps.items():
            if endpoint is None or endpoint == name:
                ep.set_level(level)
                self._event("load", f"{name}: level {level:g}")

    def halt(self) -> None:
        """Ask every endpoint to stop now; whoever awaits ``wait()`` gets the results."""
        self._halt.set()

    async def stop(self) -> dict[str, EndpointResult]:
        """Stop now: cancel in-flight requests (they are recorded as cancelled) and finish."""
        self.halt()
        return await self.wait()

    async def wait(self) -> dict[str, EndpointResult]:
        """Until every endpoint's plan is done; then the final window and results."""
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._ticker:
            self._ticker.cancel()
            await asyncio.gather(self._ticker, return_exceptions=True)
            self._ticker = None
            self._tick()
        await self._monitor.stop()
        if self.scraper:
            await self.scraper.stop()
        for ep in self.eps.values():
            await ep.sender.aclose()
        if self.pool is not None:
            await self.pool.close()
            self.worker_cpu_s = sum(self.pool.cpu_s) - sum(self.pool.start_cpu_s)
        self.t_end = time.time()
        return self.results()

    async def run(self) -> dict[str, EndpointResult]:
        await self.start()
        return await self.wait()

    # ---- the 1 s tick
    async def _tick_loop(self) -> None:
        t0 = time.perf_counter()
        k = 0
        while True:
            k += 1
            await asyncio.sleep(max(0.0, t0 + k - time.perf_counter()))
            self._tick()

    def _tick(self) -> None:
        now = time.perf_counter()
        dt = now - self._last_tick
        self._last_tick = now
        health = self._monitor.sample()
        if self.pool is not None:
            # client-bound if ANY worker was this second; this loop only merges records (its
            # lag delays no timestamp), and an overloaded merge backs up into the workers' pipes
            workers = self.pool.take_health()
            health = merge_health(workers) if workers else replace(health, client_bound=False)
        self.health.append(health)
        if self.on_health:
            self.on_health(health)
        for name, ep in self.eps.items():
            recs, ep.window = ep.window, []
            total = ep.sender.chunks
            chunks, ep.chunks_seen = total - ep.chunks_seen, total
            total = ep.sender.text_bytes
            nbytes, ep.bytes_seen = total - ep.bytes_seen, total
            st = summarize(name, recs, time.time(), dt, ep.sender.in_flight, chunks)
            # tokens delivered this second (streaming requests included), not only those of
            # requests that happened to end in it: its text bytes at the finished ones' tokens
            # per byte, as a cut stream's in a window (streamed_tokens); before any finished
            # with its bytes measured, its chunks at their tokens per chunk (a second in which
            # none finished keeps the last known figures) ...
            per_chunk = ep.per_chunk = tokens_per_chunk(recs, ep.per_chunk)
            per_byte = ep.per_byte = tokens_per_byte(recs) or ep.per_byte
            # ... less the text of requests that failed this second (never throughput); what
            # this second cannot take out (their chunks came in earlier seconds) is unpaid
            if per_byte is not None and nbytes:
                tokens = delivered_bytes(nbytes, recs) * per_byte
                failed = failed_bytes(recs) * per_byte
                unpaid = max(0.0, failed - nbytes * per_byte)
            else:
                tokens = delivered_chunks(chunks, recs) * per_chunk
                unpaid = max(0, partial_tokens(recs) - chunks) * per_chunk
            st = replace(
                st,
                out_tps=tokens / dt if dt > 0 else 0.0,
                unpaid_tokens=unpaid,
                backing_off=int(getattr(ep.sender, "backing_off", 0)),
                phase=ep.phase_of(now - dt, now),
            )
            ep.cum.add(r for r in recs if r.phase == "measure")
            if name in self.waiting:  # idle until its turn on a shared GPU: not measured
                self.latest[name] = st
                if self.on_second:
                    self.on_second(st)
                continue
            ep.result.seconds += 1
            if health.client_bound:
                self._bound[name] = self._bound.get(name, 0) + 1
            self.latest[name] = st
            if self.on_second:
                self.on_second(st)

    def results(self) -> dict[str, EndpointResult]:
        out = {}
        for name, ep in self.eps.items():
            r = ep.result
            r.sent = ep.sent
            r.client_bound_seconds = self._bound.get(name, 0)
            # the steps' measured spans; a search stopped before its first verdict has none:
            # its measured seconds (never 1e-9 s, which made 92 requests read 1e13 tok/s)
            measured = sum(lv.stats.duration_s for lv in r.levels) or float(r.seconds) or 1e-9
            summary = ep.cum.stats(time.time(), measured)
            if r.levels:  # delivered throughput: tokens streamed in the measured windows
                tokens = sum(lv.stats.out_tps * lv.stats.duration_s for lv in r.levels)
                summary = replace(summary, out_tps=tokens / measured)
            r.summary = summary
            out[name] = r
        return out


def _picklable(obj: Any) -> bool:
    try:
        pickle.dumps(obj)
    except Exception:
        return False
    return True


def file_sha256(path: Path) -> str | None:
    """The file's SHA-256 (hex), or None when it cannot be read."""
    import hashlib

    h = hashlib.sha256()
    try:
        with path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    except OSError:
        return None
    return h.hexdigest()


async def run_profile(profile: Profile, **kw: Any) -> dict[str, EndpointResult]:
    """Convenience: run a profile to its end."""
    run = LoadRun(profile, **kw)
    with contextlib.suppress(asyncio.CancelledError):
        return await run.run()
    await run.stop()
    return run.results()
