"""Load workers on several hosts, as Ray actors (``[load] hosts = "ray"``, ``pip install
'qtui[ray]'``).

Like LLMPerf, the clients run inside Ray actors; unlike it (one actor per request, driven
request by request through an ActorPool), each actor is a whole load worker, as AIPerf's
Kubernetes workers are pods of its worker processes reporting to one controller: the actor
runs `qtui.load.procs.run_shard` (its own event loop, clients, senders and self-check) on a
thread, one actor per Ray node by default (``[load] processes`` to set the count; actor i on
node i mod n). The driver speaks the worker-process protocol of `qtui/load/procs.py` to it
through two actor methods: ``command`` (sent in order, one at a time, each acknowledged) and
``pull`` (the messages the worker sent in the last ≤ 50 ms). `RayPool` is a `ShardPool`: the
records land in the same windows, step statistics and session as worker processes' do.

Clocks (`qtui.load.clocks`): before any load, the driver pings each actor 16 times and keeps the
shortest round trip; step bounds go out on the actor's monotonic clock and records come back on
the driver's wall clock, each known within half that round trip (the run's note says the worst
such bound); it pings again (8 times) every 30 s to follow the clocks' drift. Request numbers
need no shared memory: actor i of k numbers its requests i+1, i+1+k, … (`StridedCounter`), so
ids never repeat and ``max_requests`` adds up.

A host that drops out (its node gone, its actor dead) is named in one warning line; the hosts
left take its share of every endpoint under load (its users, or its rate: `ShardPool._on_dead`),
so the load offered stays the level asked; what it had pulled back is kept, its requests in
flight (and its last ≤ 50 ms of records) are lost. With ``max_requests`` its unsent share of the
numbers goes with it (they cannot be handed on: the ids it claimed in its last 50 ms are unknown).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import multiprocessing as mp
import os
import queue
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from qtui.errors import QtuiError
from qtui.evidence.records import RequestRecord
from qtui.load.clocks import REALIGN_S, ClockOffset, Ping, offset, realigned, to_driver
from qtui.load.procs import FLUSH_S, START_TIMEOUT_S, ShardConfig, ShardPool, run_shard
from qtui.load.sender import Bounds

PINGS = 16
INSTALL = "[load] hosts = 'ray' needs Ray: pip install 'qtui[ray]'"


@dataclass(frozen=True, slots=True)
class Host:
    """Where one actor runs."""

    node_id: str
    ip: str
    hostname: str = ""

    def name(self) -> str:
        who = self.hostname or self.ip
        return f"{who} ({self.ip}, Ray node {self.node_id[:8]})"


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise QtuiError(INSTALL) from None
    return ray


def connect(address: str | None) -> tuple[list[Host], bool]:
    """Join the Ray cluster (``address``, else RAY_ADDRESS, else a local one started by
    `ray start`); its alive nodes with a CPU, and whether this call joined it (blocking)."""
    ray = _ray()
    joined = False
    if not ray.is_initialized():
        addr = address or os.environ.get("RAY_ADDRESS") or "auto"
        try:
            _reachable(addr)  # Ray itself retries an unreachable address for minutes
            ray.init(address=addr, logging_level="WARNING", log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError, OSError) as exc:
            raise QtuiError(
                f"[load] hosts = 'ray': no Ray cluster at {addr} ({_first_line(exc)}); start "
                "one with `ray start --head` or set [load] ray_address"
            ) from None
        joined = True
    hosts = sorted(
        (
            Host(n["NodeID"], n.get("NodeManagerAddress", "?"), n.get("NodeManagerHostname", ""))
            for n in ray.nodes()
            if n.get("Alive") and n.get("Resources", {}).get("CPU", 0) >= 1
        ),
        key=lambda h: (h.ip, h.node_id),
    )
    if not hosts:
        if joined:
            ray.shutdown()
        raise QtuiError("[load] hosts = 'ray': the Ray cluster has no alive node with a free CPU")
    return hosts, joined


def _reachable(addr: str, timeout_s: float = 5.0) -> None:
    """A HOST:PORT cluster address must accept a TCP connection (OSError if not); "auto" and
    ray:// client addresses are left to Ray."""
    if addr == "auto" or "://" in addr:
        return
    host, _, port = addr.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"not HOST:PORT: {addr!r}")
    with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s):
        pass


def loopback_warnings(urls: dict[str, str], hosts: list[Host]) -> list[str]:
    """One line per endpoint whose url is a loopback address while the load comes from more
    than one machine: each host would load its own, not this one's."""
    if len({h.ip for h in hosts}) < 2:
        return []
    out = []
    for name, url in urls.items():
        host = urlsplit(url).hostname or ""
        if host == "localhost" or host == "::1" or host.startswith("127."):
            out.append(
                f"endpoint {name}: {url} is a loopback address, but the load comes from "
                f"{len({h.ip for h in hosts})} machines: give it an address every Ray host reaches"
            )
    return out


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:160] if text else type(exc).__name__


# ---------------------------------------------------------------------------------- actor side
class ShardActor:
    """One load worker inside a Ray actor: `run_shard` on a thread, pipes to its methods."""

    def __init__(self, cfg: ShardConfig) -> None:
        cmd_read, self._cmd = mp.Pipe(duplex=False)
        self._out, out_write = mp.Pipe(duplex=False)
        self._lock = threading.Lock()

        def main() -> None:
            try:
                run_shard(cfg, cmd_read, out_write)
            finally:
                out_write.close()  # the driver's next pull sees the end

        threading.Thread(target=main, name="qtui-load-shard", daemon=True).start()

    def where(self) -> tuple[str, str, str]:
        import ray

        ctx = ray.get_runtime_context()
        return ctx.get_node_id(), ray.util.get_node_ip_address(), socket.gethostname()

    def clock(self) -> tuple[float, float]:
        return time.perf_counter(), time.time()

    def command(self, msg: tuple[Any, ...]) -> None:
        self._cmd.send(msg)

    def pull(self, wait_s: float) -> list[tuple[Any, ...]]:
        """What the worker sent since the last pull (waiting up to wait_s for the first)."""
        msgs: list[tuple[Any, ...]] = []
        with self._lock:
            try:
                if self._out.poll(wait_s):
                    while self._out.poll(0):
                        msgs.append(self._out.recv())
            except (EOFError, OSError):
                msgs.append(("eof",))
        return msgs


# --------------------------------------------------------------------------------- driver side
class RayPool(ShardPool):
    """K load workers as Ray actors spread over the cluster's nodes (a `ShardPool`)."""

    WHAT = "load workers on Ray"
    ALONE = "set [load] hosts = 'local' to run on this host"
    UNIT = "host"

    def __init__(
        self,
        configs: list[ShardConfig],
        hosts: list[Host],
        joined: bool,
        on_record: Callable[[RequestRecord], None],
        on_event: Callable[[str, str], None] = lambda kind, msg: None,
    ) -> None:
        super().__init__(configs, on_record, on_event)
        self.nodes, self.joined = hosts, joined
        self.hosts: list[Host] = [hosts[i % len(hosts)] for i in range(self.k)]
        self.clocks: list[ClockOffset] = []
        self.actors: list[Any] = []
        self._queues: list[queue.Queue[tuple[Any, ...] | None]] = []
        self._exhausted: dict[str, set[int]] = {}
        self._why: dict[int, str] = {}
        self._best: list[float] = []  # each actor's best alignment bound so far (s)
        self.realigns = 0  # rounds of pings after the first (all actors)
        self.dropped: list[str] = []  # hosts that dropped out, by name
        self._stop = threading.Event()

    def summary(self) -> dict[str, Any]:
        """Where the load came from, for a run's summary: hosts, clock bound, drop-outs."""
        return {
            "hosts": [h.name() for h in self.hosts],
            "clock_bound_ms": round(self.skew_bound_s * 1e3, 3),
            "dropped": list(self.dropped),
        }

    @property
    def skew_bound_s(self) -> float:
        """The worst clock alignment bound over the actors (s)."""
        return max((c.bound_s for c in self.clocks), default=0.0)

    async def start(self) -> None:
        await super().start()
        self.on_event(
            "note",
            f"load spread over {self.k} Ray actors on {len(set(self.hosts))} hosts; clocks "
            f"aligned within ±{self.skew_bound_s * 1e3:.2f} ms",
        )

    async def _launch(self) -> None:
        await asyncio.to_thread(self._place)
        for i in range(self.k):
            self._start_threads(i)

    async def _abort(self) -> None:
        await self.close()

    def _place(self) -> None:
        """Create the actors (actor i on node i mod n), learn where they are, align clocks."""
        ray = _ray()
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        remote = ray.remote(num_cpus=1, max_concurrency=4)(ShardActor)
        for cfg, host in zip(self.configs, self.hosts, strict=True):
            where = NodeAffinitySchedulingStrategy(host.node_id, soft=False)
            self.actors.append(remote.options(scheduling_strategy=where).remote(cfg))
        try:
            placed = ray.get([a.where.remote() for a in self.actors], timeout=START_TIMEOUT_S)
        except Exception as exc:
            raise QtuiError(f"load workers on Ray did not start: {_first_line(exc)}") from None
        self.hosts = [Host(n, ip, hn) for n, ip, hn in placed]
        self.clocks = [self._align(a) for a in self.actors]
        self._best = [c.bound_s for c in self.clocks]

    @staticmethod
    def _align(actor: Any, n: int = PINGS) -> ClockOffset:
        ray = _ray()
        pings = []
        for _ in range(n):
            p0 = time.perf_counter()
            w0 = time.time()
            rp, rw = ray.get(actor.clock.remote(), timeout=30)
            pings.append(Ping(p0, w0, rp, rw, time.perf_counter()))
        return offset(pings)

    def _start_threads(self, i: int) -> None:
        q: queue.Queue[tuple[Any, ...] | None] = queue.Queue()
        self._queues.append(q)
        threading.Thread(
            target=self._commands, args=(i, q), name=f"qtui-ray-cmd-{i}", daemon=True
        ).start()
        threading.Thread(
            target=self._puller, args=(i,), name=f"qtui-ray-pull-{i}", daemon=True
        ).start()
        threading.Thread(
            target=self._realign, args=(i,), name=f"qtui-ray-clock-{i}", daemon=True
        ).start()

    # ---- threads (blocking Ray calls off the event loop)
    def _commands(self, i: int, q: queue.Queue[tuple[Any, ...] | None]) -> None:
        ray = _ray()
        while (msg := q.get()) is not None:
            try:  # one at a time, acknowledged: a threaded actor keeps no order of its own
                ray.get(self.actors[i].command.remote(msg), timeout=60)
            except Exception as exc:  # the puller reports the death
                self._why.setdefault(i, _first_line(exc))
                return

    def _realign(self, i: int) -> None:
        """Ping again every REALIGN_S: the hosts' clocks drift apart."""
        while not self._stop.wait(REALIGN_S) and i not in self.dead:
            try:
                new = self._align(self.actors[i], PINGS // 2)
            except Exception:  # the puller reports a dead actor
                return
            self.clocks[i] = realigned(self.clocks[i], new, self._best[i])
            self._best[i] = min(self._best[i], new.bound_s)
            self.realigns += 1

    def _puller(self, i: int) -> None:
        ray = _ray()
        while True:
            try:
                msgs = ray.get(self.actors[i].pull.remote(FLUSH_S), timeout=60)
            except Exception as exc:
                self._why.setdefault(i, f"{type(exc).__name__}: {_first_line(exc)}")
                break
            ended = False
            for msg in msgs:
                if msg[0] == "eof":
                    ended = True
                    break
                self._loop.call_soon_threadsafe(self._on_msg, i, msg)
                ended = ended or msg[0] == "bye"
            if ended:
                break
        with contextlib.suppress(RuntimeError):  # the loop may be closed already
            self._loop.call_soon_threadsafe(self._on_dead, i)

    # ---- messages
    def _on_msg(self, i: int, msg: tuple[Any, ...]) -> None:
        match msg:
            case ("up", recs, chunks, in_flight, health, *rest):
                off = self.clocks[i]
                recs = [to_driver(r, off) for r in recs]
                if health is not None:
                    health = dataclasses.replace(health, t=off.to_driver_wall(health.t))
                super()._on_msg(i, ("up", recs, chunks, in_flight, health, *rest))
            case ("exhausted", name):
                self._exhausted.setdefault(name, set()).add(i)
                self._check_exhausted(name)
            case _:
                super()._on_msg(i, msg)

    def _check_exhausted(self, name: str) -> None:
        """An endpoint's numbers are used up when every live actor has used its share."""
        done = self._exhausted.get(name, set())
        live = set(range(self.k)) - self.dead
        if done and live <= done and name in self.on_exhausted:
            self.on_exhausted[name]()

    def _on_dead(self, i: int) -> None:
        if i in self.dead:
            return
        super()._on_dead(i)
        for name in self._exhausted:
            self._check_exhausted(name)

    def _start_failure(self, i: int) -> str:
        why = self.errors[-1] if self.errors else self._why.get(i, "ended while starting")
        return f"load worker on Ray: {why}"

    def _dropped(self, i: int, at: str, moved: str) -> str:
        why = self._why.get(i, "its worker ended")
        cfg = self.configs[i]
        unsent = 0
        if cfg.limit is not None:  # its share of max_requests it never numbered
            share = len(range(cfg.shard + 1, cfg.limit + 1, cfg.shards))
            unsent = sum(share - n for n in self.sent[i].values()) + share * (
                len(cfg.urls) - len(self.sent[i])
            )
        left = f"; ~{unsent} requests of its max_requests share go unsent" if unsent else ""
        self.dropped.append(self.hosts[i].name())
        return (
            f"load host {self.hosts[i].name()} dropped out at {at} ({why[:120]}); {moved}; its "
            f"records so far are kept, its requests in flight are lost{left}"
        )

    def name(self, i: int) -> str:
        return self.hosts[i].name()

    # ---- commands
    def started(self) -> int:
        return len(self._queues)

    def send(self, i: int, *msg: Any) -> None:
        if i in self.dead or i >= len(self._queues):
            return
        if msg[0] == "start":  # the step's bounds on the actor's monotonic clock
            b: Bounds = msg[4]
            off = self.clocks[i]
            b = Bounds(off.to_remote_perf(b.start), off.to_remote_perf(b.end), b.warmup, b.cooldown)
            msg = (*msg[:4], b, *msg[5:])
        self._queues[i].put(msg)

    def _reap(self) -> None:
        self._stop.set()
        for q in self._queues:
            q.put(None)
        ray = _ray()
        for a in self.actors:
            with contextlib.suppress(Exception):
                ray.kill(a)
        if self.joined:
            ray.shutdown()
