"""Load worker processes: K spawned processes, each with its own event loop and clients, sharing
every endpoint's load (`qtui/load/split.py`), for loads one event loop cannot stream alone.

Parent side: `ShardPool` starts the processes and reads what they send (one reader thread per
process, handed to the event loop); `ProcessSender` is one endpoint's load spread over them, with
the same interface as `LocalSender`, so the engine measures it the same way. Child side:
`shard_main` runs `LocalSender`s for its share and streams back, every 50 ms, the finished
request records and its cumulative chunk and in-flight counts, and once a second its own
`ClientHealth`. Request numbers come from one shared-memory counter per endpoint, so the
request limit holds globally and no id repeats.

Parent → child: ``("start", ep, level, by, bounds, offset_s)``, ``("level", ep, level)``,
``("stop", ep, cancel, grace_s, token)``, ``("quit",)``. Child → parent: ``("ready", cpu_s)``,
``("up", records, chunks, in_flight, health, sent, backing_off, held, levels)`` (levels: each
sending endpoint's level), ``("exhausted", ep)``, ``("stopped", token)``, ``("error", text)``,
``("bye", cpu_s)``. A pipe keeps order, so a stop's records arrive before its acknowledgement.

A worker that ends mid-run (`ShardPool._on_dead`) is named in one warning; its share of every
endpoint under load moves to the live workers by the same ``("level", …)`` messages (a closed
loop's users, an open loop's rate), so the load offered stays the level asked.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import multiprocessing as mp
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

from qtui.client import loop as client_loop
from qtui.client.discovery import api_key
from qtui.client.stream import StreamClient
from qtui.config.profile import Profile
from qtui.errors import QtuiError
from qtui.evidence.records import RequestRecord
from qtui.load.selfcheck import ClientHealth, LoopMonitor
from qtui.load.sender import Bounds, Counter, LocalSender, SharedCounter, StridedCounter
from qtui.load.split import By, handover_text, split_level, split_over, stagger
from qtui.load.tokens import TokenPool, WordPool
from qtui.load.workload import GoldenFactory, make_source, think

FLUSH_S = 0.05  # how often a worker process sends its finished records and counts
START_TIMEOUT_S = 120.0  # spawning imports qtui afresh: slow on a busy machine
QUIT_TIMEOUT_S = 15.0


@dataclass
class ShardConfig:
    """What one load worker process needs (picklable: it crosses the process boundary)."""

    shard: int
    shards: int
    profile: Profile
    urls: dict[str, str]
    models: dict[str, str]
    max_model_len: dict[str, int | None]
    salts: dict[str, int]
    base_dir: Path
    limit: int | None
    max_connections: int
    golden: GoldenFactory | None = None
    counters: dict[str, Any] = field(default_factory=dict)  # endpoint → shared Value('q')
    pool: TokenPool | WordPool | None = None  # exact-length prompts (qtui.load.tokens)
    stride: bool = False  # no shared memory (other hosts): ids shard+1, shard+1+shards, …
    run: int = 0  # the run's nonce: synthetic text unique to this run (SyntheticWorkload)
    # endpoint → send min_tokens with ignore_eos (not to vLLM: ServerInfo.honours_ignore_eos)
    min_tokens: dict[str, bool] = field(default_factory=dict)


# ---------------------------------------------------------------------------------- child side
def shard_main(cfg: ShardConfig, commands: Connection, out: Connection) -> None:
    """Entry point of a load worker process. Ctrl-C goes to the parent, which stops us."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    run_shard(cfg, commands, out)


def run_shard(cfg: ShardConfig, commands: Connection, out: Connection) -> None:
    """One worker's loop until "quit" (any thread: a worker process, or a Ray actor's)."""
    try:
        client_loop.run(_Shard(cfg, out).main(commands))  # uvloop where installed
    except Exception as exc:  # reported to the parent as one line; it decides what to do
        with contextlib.suppress(OSError, ValueError):
            out.send(("error", str(exc) if isinstance(exc, QtuiError) else repr(exc)))


class _Shard:
    """One worker process: its senders, its self-check, and the pipe back to the parent."""

    def __init__(self, cfg: ShardConfig, out: Connection) -> None:
        self.cfg, self.out = cfg, out
        self.pending: list[RequestRecord] = []
        self.senders: dict[str, LocalSender] = {}
        self.quit = asyncio.Event()
        self.monitor = LoopMonitor()
        self.last: tuple[Any, ...] = ()

    def _make(self, name: str) -> LocalSender:
        cfg, prof = self.cfg, self.cfg.profile
        e = prof.endpoint(name)
        client = StreamClient(
            name, cfg.urls[name], cfg.models[name], prof.workload.api, api_key(e),
            prof.load.timeout_s, max_connections=cfg.max_connections,
            stall_timeout_s=prof.load.stall_timeout_s, ttft_timeout_s=prof.load.ttft_timeout_s,
            min_tokens=cfg.min_tokens.get(name, True),
        )  # fmt: skip
        source = make_source(
            prof.workload, cfg.base_dir, cfg.max_model_len.get(name), cfg.salts[name],
            cfg.golden, cfg.shard, cfg.shards, cfg.pool, cfg.run,
        )  # fmt: skip
        seed = [prof.workload.seed, 99, cfg.shard] if cfg.shard else [prof.workload.seed, 99]
        counter: Counter = (
            StridedCounter(cfg.shard, cfg.shards, cfg.limit)
            if cfg.stride
            else SharedCounter(cfg.counters[name], cfg.limit)
        )
        return LocalSender(
            name, client, source, counter, self._done,
            np.random.default_rng(seed), prof.load.arrival == "poisson",
            lambda: self._exhausted(name), *think(prof.workload),
        )  # fmt: skip

    async def main(self, commands: Connection) -> None:
        loop = asyncio.get_running_loop()
        self.senders = {name: self._make(name) for name in self.cfg.urls}
        self.monitor.start()
        loop.add_reader(commands.fileno(), self._read, commands)
        self._send("ready", time.process_time())
        beat = loop.create_task(self._beat())
        await self.quit.wait()
        loop.remove_reader(commands.fileno())
        for s in self.senders.values():
            await s.stop(cancel=True, grace_s=0.0)
        beat.cancel()
        await asyncio.gather(beat, return_exceptions=True)
        self._flush(None)
        for s in self.senders.values():
            await s.aclose()
        await self.monitor.stop()
        self._send("bye", time.process_time())

    def _send(self, *msg: Any) -> None:
        try:
            self.out.send(msg)
        except (OSError, ValueError):  # the parent is gone: stop
            self.quit.set()

    def _done(self, rec: RequestRecord) -> None:
        self.pending.append(rec)

    def _exhausted(self, name: str) -> None:
        self._flush(None)
        self._send("exhausted", name)

    def _flush(self, health: ClientHealth | None) -> None:
        recs, self.pending = self.pending, []
        chunks = {n: s.chunks for n, s in self.senders.items()}
        nbytes = {n: s.text_bytes for n, s in self.senders.items()}
        in_flight = {n: s.in_flight for n, s in self.senders.items()}
        sent = {n: s.sent for n, s in self.senders.items()}
        backing = {n: int(getattr(s, "backing_off", 0)) for n, s in self.senders.items()}
        held = {n: int(getattr(s, "held", 0)) for n, s in self.senders.items()}
        levels = {n: s.level for n, s in self.senders.items() if s.sending}
        state = (chunks, in_flight, sent, backing, held, levels, nbytes)
        if recs or health is not None or state != self.last:
            self.last = state
            self._send("up", recs, chunks, in_flight, health, sent, backing, held, levels, nbytes)

    async def _beat(self) -> None:
        t0 = time.perf_counter()
        for k in itertools.count(1):
            await asyncio.sleep(max(0.0, t0 + k * FLUSH_S - time.perf_counter()))
            every_second = k % round(1 / FLUSH_S) == 0
            self._flush(self.monitor.sample() if every_second else None)

    def _read(self, commands: Connection) -> None:
        try:
            while commands.poll():
                self._command(commands.recv())
        except (EOFError, OSError):  # the parent is gone
            self.quit.set()

    def _command(self, msg: tuple[Any, ...]) -> None:
        match msg:
            case ("start", name, level, by, bounds, offset_s):
                self.senders[name].start(level, by, bounds, offset_s)
            case ("level", name, level):
                self.senders[name].set_level(level)
            case ("stop", name, cancel, grace_s, token):
                asyncio.get_running_loop().create_task(self._stop(name, cancel, grace_s, token))
            case ("quit",):
                self.quit.set()

    async def _stop(self, name: str, cancel: bool, grace_s: float, token: int) -> None:
        await self.senders[name].stop(cancel, grace_s)
        self._flush(None)
        self._send("stopped", token)


# --------------------------------------------------------------------------------- parent side
class ShardPool:
    """K load worker processes shared by every endpoint of a run (the parent's side).

    How workers start and are reached is the subclass's (`_launch`, `send`, `_abort`); the
    start-up wait, the messages and what happens when one ends are shared."""

    WHAT = "load worker processes"  # for "… did not start within …"
    ALONE = "set [load] processes = 1 to run in one process"  # what to do instead
    UNIT = "process"  # one worker, in a warning

    def __init__(
        self,
        configs: list[ShardConfig],
        on_record: Callable[[RequestRecord], None],
        on_event: Callable[[str, str], None] = lambda kind, msg: None,
    ) -> None:
        self.configs = configs
        self.k = len(configs)
        self.on_record, self.on_event = on_record, on_event
        self.on_exhausted: dict[str, Callable[[], None]] = {}
        self.senders: dict[str, ProcessSender] = {}
        self.procs: list[Any] = []
        self.cmds: list[Connection] = []
        self.chunks: list[dict[str, int]] = [{} for _ in configs]
        self.text_bytes: list[dict[str, int]] = [{} for _ in configs]  # of those chunks' text
        self.in_flight: list[dict[str, int]] = [{} for _ in configs]
        self.sent: list[dict[str, int]] = [{} for _ in configs]  # requests each one claimed
        self.backing: list[dict[str, int]] = [{} for _ in configs]  # users backing off
        self.held: list[dict[str, int]] = [{} for _ in configs]  # arrivals held (open loop)
        self.levels: list[dict[str, float]] = [{} for _ in configs]  # each one's running level
        self.cpu_s = [0.0] * self.k  # each process's CPU seconds, start-up included
        self.start_cpu_s = [0.0] * self.k  # of which start-up (imports, clients)
        self.errors: list[str] = []
        self.dead: set[int] = set()
        self._health: list[ClientHealth] = []
        self._acks: dict[int, dict[int, asyncio.Future[None]]] = {}
        self._tokens = itertools.count(1)
        self._closing = False

    async def start(self) -> None:
        """Start the workers and wait until each has its clients ready."""
        self._loop = asyncio.get_running_loop()
        self._ready = [self._loop.create_future() for _ in range(self.k)]
        self._bye = [self._loop.create_future() for _ in range(self.k)]
        try:
            await self._launch()
            async with asyncio.timeout(START_TIMEOUT_S):
                await asyncio.gather(*self._ready)
        except TimeoutError:
            await self.close()
            raise QtuiError(
                f"{self.WHAT} did not start within {START_TIMEOUT_S:.0f} s ({self.ALONE})"
            ) from None
        except QtuiError:
            await self.close()
            raise
        except BaseException:  # cancelled, or the OS refused a worker: none may outlive us
            await self._abort()
            raise

    async def _launch(self) -> None:
        """Start every worker (their "ready" comes later)."""
        for cfg in self.configs:
            await asyncio.to_thread(self._spawn, cfg)

    async def _abort(self) -> None:
        """A start cut short: end every worker now."""
        self._closing = True
        for proc in self.procs:
            proc.terminate()

    def _spawn(self, cfg: ShardConfig) -> None:
        ctx = mp.get_context("spawn")
        cmd_read, cmd_write = ctx.Pipe(duplex=False)
        out_read, out_write = ctx.Pipe(duplex=False)
        proc = ctx.Process(
            target=shard_main, args=(cfg, cmd_read, out_write),
            name=f"qtui-load-{cfg.shard}", daemon=True,
        )  # fmt: skip
        proc.start()
        cmd_read.close()
        out_write.close()  # the child holds the only write end: its exit means EOF here
        self.procs.append(proc)
        self.cmds.append(cmd_write)
        threading.Thread(
            target=self._reader, args=(cfg.shard, out_read), name=f"qtui-load-read-{cfg.shard}",
            daemon=True,
        ).start()  # fmt: skip

    # ---- messages (reader threads → event loop)
    def _reader(self, i: int, conn: Connection) -> None:
        while True:
            try:
                msg = conn.recv()
            except (EOFError, OSError):
                break
            self._loop.call_soon_threadsafe(self._on_msg, i, msg)
        with contextlib.suppress(RuntimeError):  # the loop may be closed already
            self._loop.call_soon_threadsafe(self._on_dead, i)

    def _on_msg(self, i: int, msg: tuple[Any, ...]) -> None:
        match msg:
            case ("up", recs, chunks, in_flight, health, sent, backing, held, levels, nbytes):
                for rec in recs:
                    self.on_record(rec)
                self.chunks[i], self.in_flight[i], self.sent[i] = chunks, in_flight, sent
                self.text_bytes[i] = nbytes
                self.backing[i], self.held[i], self.levels[i] = backing, held, levels
                if health is not None:
                    self._health.append(health)
            case ("exhausted", name):
                if name in self.on_exhausted:
                    self.on_exhausted[name]()
            case ("stopped", token):
                fut = self._acks.get(token, {}).get(i)
                if fut is not None and not fut.done():
                    fut.set_result(None)
            case ("ready", cpu_s):
                self.start_cpu_s[i] = cpu_s
                _resolve(self._ready[i])
            case ("error", text):
                self.errors.append(text)
                if not self._ready[i].done():
                    self._ready[i].set_exception(QtuiError(f"load worker process: {text}"))
                else:
                    self.on_event("warning", f"load worker process {i}: {text}")
            case ("bye", cpu_s):
                self.cpu_s[i] = cpu_s
                _resolve(self._bye[i])

    def _on_dead(self, i: int) -> None:
        """Worker i ended: while starting, the start fails; mid-run, the live workers take its
        share of every endpoint under load, and one warning says so."""
        if i in self.dead:
            return
        self.dead.add(i)
        self.in_flight[i] = self.backing[i] = {}
        self.levels[i] = {}
        for acks in self._acks.values():
            if i in acks:
                _resolve(acks[i])
        _resolve(self._bye[i])
        if not self._ready[i].done():
            self._ready[i].set_exception(QtuiError(self._start_failure(i)))
        elif not self._closing:
            moved = [(n, s.hand_over(i), s.by) for n, s in self.senders.items() if s.active]
            names = list(dict.fromkeys(self.name(j) for j in self.live()))
            at = time.strftime("%H:%M:%S")
            self.on_event("warning", self._dropped(i, at, handover_text(moved, names, self.UNIT)))

    def _start_failure(self, i: int) -> str:
        why = self.errors[-1] if self.errors else "exited while starting"
        return f"load worker process: {why}"

    def _dropped(self, i: int, at: str, moved: str) -> str:
        """The warning for worker i, gone mid-run at ``at``; ``moved``: where its load went."""
        code = self.procs[i].exitcode if i < len(self.procs) else None
        return (
            f"load worker process {i} exited (code {code}) at {at}; {moved}; its requests in "
            "flight are lost"
        )

    def name(self, i: int) -> str:
        """Worker i, for a warning."""
        return str(i)

    def live(self) -> list[int]:
        """The workers that have not ended."""
        return [i for i in range(self.k) if i not in self.dead]

    # ---- commands (event loop)
    def send(self, i: int, *msg: Any) -> None:
        if i in self.dead:
            return
        with contextlib.suppress(OSError, ValueError):
            self.cmds[i].send(msg)

    def total(self, which: list[dict[str, int]], name: str) -> int:
        return sum(d.get(name, 0) for d in which)

    def take_health(self) -> list[ClientHealth]:
        """Health samples the processes sent since the last call (each is counted once)."""
        out, self._health = self._health, []
        return out

    async def stop_endpoint(self, name: str, cancel: bool, grace_s: float) -> None:
        """Stop one endpoint in every process; returns when all its records have arrived."""
        token = next(self._tokens)
        acks = {i: self._loop.create_future() for i in range(self.k) if i not in self.dead}
        self._acks[token] = acks
        for i in acks:
            self.send(i, "stop", name, cancel, grace_s, token)
        try:
            await asyncio.gather(*acks.values())
        finally:
            del self._acks[token]

    def started(self) -> int:
        """Workers started so far (all of them, unless the start failed part way)."""
        return len(self.procs)

    async def close(self) -> None:
        """Ask every process to finish (in-flight requests cancelled and recorded), then reap."""
        self._closing = True
        for i in range(self.started()):
            self.send(i, "quit")
        live = [f for f in getattr(self, "_bye", [])[: self.started()] if not f.done()]
        if live:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(QUIT_TIMEOUT_S):
                    await asyncio.gather(*live)
        await asyncio.to_thread(self._reap)

    def _reap(self) -> None:
        for p in self.procs:
            p.join(QUIT_TIMEOUT_S)
            if p.is_alive():
                p.terminate()
                p.join(5)
        for c in self.cmds:
            c.close()


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


class ProcessSender:
    """One endpoint's load spread over a `ShardPool` (same interface as `LocalSender`)."""

    def __init__(self, pool: ShardPool, endpoint: str, counter: SharedCounter | None) -> None:
        self.pool, self.endpoint, self.counter = pool, endpoint, counter
        self.level = 0.0
        self.by: By = "concurrency"
        self.active = False  # between start and stop: a worker's share is handed over
        self.exhausted = asyncio.Event()
        pool.on_exhausted[endpoint] = self.exhausted.set
        pool.senders[endpoint] = self

    @property
    def sent(self) -> int:
        """Requests numbered so far: the shared counter, or (no shared memory) each worker's
        own count as it last reported it."""
        if self.counter is not None:
            return self.counter.value
        return self.pool.total(self.pool.sent, self.endpoint)

    @property
    def chunks(self) -> int:
        return self.pool.total(self.pool.chunks, self.endpoint)

    @property
    def text_bytes(self) -> int:
        return self.pool.total(self.pool.text_bytes, self.endpoint)

    @property
    def in_flight(self) -> int:
        return self.pool.total(self.pool.in_flight, self.endpoint)

    @property
    def backing_off(self) -> int:
        """Users backing off in every worker process, as they last said (every 50 ms)."""
        return self.pool.total(self.pool.backing, self.endpoint)

    @property
    def held(self) -> int:
        """Open-loop arrivals not sent while backing off, over every worker process."""
        return self.pool.total(self.pool.held, self.endpoint)

    @property
    def running_level(self) -> float:
        """The level the live workers say they run at, summed (as they last said, every 50 ms)."""
        return sum(self.pool.levels[i].get(self.endpoint, 0.0) for i in self.pool.live())

    def start(self, level: float, by: By, bounds: Bounds, offset_s: float = 0.0) -> None:
        """Start every live worker on its share."""
        self.level, self.by, self.active = level, by, True
        live = self.pool.live()
        shares = split_level(level, by, len(live)) if live else []
        offsets = stagger(level, by, len(live))
        for i, share, off in zip(live, shares, offsets, strict=True):
            self.pool.send(i, "start", self.endpoint, share, by, bounds, offset_s + off)

    def set_level(self, level: float) -> None:
        """A new level, split over the live workers."""
        self.level = level
        for i, share in split_over(level, self.by, self.pool.live()).items():
            self.pool.send(i, "level", self.endpoint, share)

    def hand_over(self, gone: int) -> float:
        """Worker ``gone`` has ended: the live ones take its share (returned) of the level."""
        share = split_over(self.level, self.by, sorted([*self.pool.live(), gone]))[gone]
        self.set_level(self.level)
        return share

    async def stop(self, cancel: bool, grace_s: float) -> None:
        self.active = False
        await self.pool.stop_endpoint(self.endpoint, cancel, grace_s)

    async def aclose(self) -> None:
        """Nothing of its own: the pool's processes close their clients."""
