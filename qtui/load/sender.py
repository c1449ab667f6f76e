"""Sending one endpoint's load on the running event loop: closed-loop users or open-loop arrivals.

`LocalSender` is what the load engine drives in its own process (one worker process: K = 1) and
what each load worker process drives for its share (`qtui/load/procs.py`). Every finished or
cancelled request goes to ``done`` exactly once. Request numbers come from a `Counter`: a plain
int in one process, a shared-memory value across processes, so the request limit holds globally
and ids stay unique.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, cast

import numpy as np

from qtui.client.stream import Prompt, StreamClient
from qtui.evidence.accounting import is_error
from qtui.evidence.records import RequestRecord
from qtui.load.backoff import backoff_s
from qtui.load.conversation import CHAT_OVERHEAD, Conversation, ConversationSource, history_tokens
from qtui.load.split import By, phase_at
from qtui.load.workload import PromptSource


class Counter(Protocol):
    """Hands out request numbers 1, 2, … up to a limit (None past it)."""

    def claim(self) -> int | None: ...

    @property
    def value(self) -> int: ...


class LocalCounter:
    """The request counter of one process."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self._n = 0

    def claim(self) -> int | None:
        if self.limit is not None and self._n >= self.limit:
            return None
        self._n += 1
        return self._n

    @property
    def value(self) -> int:
        return self._n


class SharedCounter:
    """A counter in shared memory (``multiprocessing`` ``Value('q')``), one for all processes."""

    def __init__(self, shared: Any, limit: int | None) -> None:
        self.shared = shared
        self.limit = limit

    def claim(self) -> int | None:
        with self.shared.get_lock():
            n = int(self.shared.value)
            if self.limit is not None and n >= self.limit:
                return None
            self.shared.value = n + 1
            return n + 1

    @property
    def value(self) -> int:
        return int(self.shared.value)


class StridedCounter:
    """One worker's share of request numbers with no shared memory (workers on other hosts):
    worker i of k claims i+1, i+1+k, i+1+2k, … up to the limit, so no id repeats and the k
    shares add up to the limit exactly; a worker that stops early leaves its share unsent."""

    def __init__(self, shard: int, shards: int, limit: int | None) -> None:
        self.shard, self.shards, self.limit = shard, shards, limit
        self._n = 0

    def claim(self) -> int | None:
        n = self.shard + 1 + self._n * self.shards
        if self.limit is not None and n > self.limit:
            return None
        self._n += 1
        return n

    @property
    def value(self) -> int:
        return self._n


@dataclass(frozen=True, slots=True)
class Bounds:
    """One load step in ``time.perf_counter()`` seconds (CLOCK_MONOTONIC: the same in every
    process of the host), with its warm-up and cool-down lengths."""

    start: float
    end: float
    warmup: float = 0.0
    cooldown: float = 0.0

    def phase(self, now: float) -> Any:
        return phase_at(now, self.start, self.warmup, self.cooldown, self.end)


class SenderBase:
    """What every sender of one endpoint shares: its counts and how it ends its requests."""

    counter: Counter
    client: Any
    tasks: set[asyncio.Task[RequestRecord]]

    @property
    def sent(self) -> int:
        return self.counter.value

    @property
    def chunks(self) -> int:
        return int(self.client.chunks)

    @property
    def text_bytes(self) -> int:
        return int(self.client.text_bytes)

    @property
    def in_flight(self) -> int:
        return len(self.tasks)

    async def _settle(self, cancel: bool, grace_s: float, others: set[Any] | None = None) -> None:
        """Cancel the in-flight requests (and ``others``), or let them finish within grace_s.
        On return every request sent has gone to ``done``."""
        others = others or set()
        if cancel:  # requests claimed just now start first (into client.send, which records a
            await asyncio.sleep(0)  # cancellation): a task cancelled unstarted leaves no record
        tasks: list[asyncio.Future[Any]] = [*self.tasks]
        if cancel:
            for t in [*tasks, *others]:
                t.cancel()
        else:
            pending = [*tasks, *others]
            if pending:
                _, late = await asyncio.wait(pending, timeout=grace_s)
                for t in late:
                    t.cancel()
        await asyncio.gather(*tasks, *others, return_exceptions=True)
        self.tasks.clear()


class LocalSender(SenderBase):
    """Drives one endpoint's requests at a level on this process's event loop.

    With a `ConversationSource` every request is a turn of a conversation: a closed-loop user
    sends a conversation's turns one after another (each with the history and the answers so
    far, ``think_s`` after the last answer), then starts the next; open-loop conversations
    start at level / (mean turns) per second, so the level is still requests/s. A failed turn
    ends its conversation (the next would resend a history the server never answered)."""

    def __init__(
        self,
        endpoint: str,
        client: StreamClient,
        source: PromptSource | ConversationSource,
        counter: Counter,
        done: Callable[[RequestRecord], None],
        rng: np.random.Generator,
        poisson: bool = True,
        on_exhausted: Callable[[], None] | None = None,
        think_s: float = 0.0,
        think_exponential: bool = False,
    ) -> None:
        self.endpoint, self.client, self.source = endpoint, client, source
        self.think_s, self.think_exponential = think_s, think_exponential
        self.counter, self.done, self.rng, self.poisson = counter, done, rng, poisson
        self.on_exhausted = on_exhausted
        self.level = 0.0
        self.by: By = "concurrency"
        self.bounds = Bounds(0.0, float("inf"))
        self.offset_s = 0.0
        self.sending = False
        self.exhausted = asyncio.Event()
        self.stopping = asyncio.Event()  # set by stop(): a conversation's think time ends
        self.tasks: set[asyncio.Task[RequestRecord]] = set()
        self.workers: set[asyncio.Task[Any]] = set()
        self.arrivals: asyncio.Task[None] | None = None
        self.backing_off = 0  # users now waiting after consecutive failures ("backing off")
        # open loop: the endpoint's consecutive failures; arrivals before resume_at (or while a
        # probe after the wait is out) are held, not sent; ``held`` counts them
        self.failures = 0
        self.resume_at = 0.0
        self.probing = False
        self.held = 0
        # decided once: isinstance against a runtime-checkable Protocol costs ~0.1 ms, too much
        # to pay per request (benchmarks/results/load-cpu.md)
        self._conversations = isinstance(source, ConversationSource)

    # ---- requests
    def _claim(self) -> int | None:
        """The next request number, or None when stopped or past the request limit."""
        if not self.sending:
            return None
        n = self.counter.claim()
        if n is None and not self.exhausted.is_set():
            self.exhausted.set()
            if self.on_exhausted:
                self.on_exhausted()
        return n

    async def _one(
        self, n: int, prompt: Prompt | None = None, answer: list[str] | None = None
    ) -> RequestRecord:
        rid = f"{self.endpoint}-{n}"
        task = asyncio.current_task()
        phase = self.bounds.phase(time.perf_counter())
        if prompt is None:
            prompt = cast(PromptSource, self.source).next()
        rec = await self.client.send(prompt, rid, phase, self.level, self.done, answer)
        if task is not None:
            self.tasks.discard(task)
        if self.by == "rate":
            self._arrival_outcome(rec)
        return rec

    @property
    def conversations(self) -> bool:
        return self._conversations

    def think(self) -> float:
        """The pause before a conversation's next turn (seconds)."""
        if self.think_exponential and self.think_s > 0:
            return float(self.rng.exponential(self.think_s))
        return self.think_s

    async def _conversation(
        self, conv: Conversation, going: Callable[[], bool]
    ) -> RequestRecord | None:
        """Send one conversation's turns while ``going()``; the last turn's record (None when
        none was sent). Each turn resends the history: the earlier turns and their answers."""
        history: list[tuple[str, str]] = [("system", conv.system)] if conv.system else []
        cid, rec = 0, None
        for k, turn in enumerate(conv.turns, 1):
            if k > 1 and (pause := self.think()) > 0:
                with contextlib.suppress(TimeoutError):  # thinking, unless the load stops
                    await asyncio.wait_for(self.stopping.wait(), pause)
            if not going() or (n := self._claim()) is None:
                break
            cid = cid or n
            estimate = history_tokens(history) + turn.input_tokens + CHAT_OVERHEAD
            prompt = Prompt(
                turn.text, turn.max_tokens, estimate, turn.fixed_output, tuple(history), k, cid
            )
            answer: list[str] = []
            t = asyncio.ensure_future(self._one(n, prompt, answer))
            self.tasks.add(t)
            rec = await t
            if is_error(rec.error_class) or rec.error_class == "cancelled":
                break
            history += [("user", turn.text), ("assistant", "".join(answer))]
        return rec

    def _next_conversation(self) -> Conversation:
        source = self.source
        assert isinstance(source, ConversationSource)
        return source.next()

    def _arrival_outcome(self, rec: RequestRecord) -> None:
        """Open loop: a failure holds arrivals for the back-off wait; a success resumes them."""
        if rec.error_class == "cancelled":
            return
        self.probing = False
        if not is_error(rec.error_class):
            self.failures, self.resume_at, self.backing_off = 0, 0.0, 0
            return
        self.failures += 1
        self.backing_off = 1
        asked = self.client.take_retry_after(rec.request_id)
        wait = backoff_s(self.failures, float(self.rng.random()), retry_after=asked)
        self.resume_at = max(self.resume_at, time.perf_counter() + wait)

    # ---- closed loop
    async def _worker(self, idx: int) -> None:
        failures = 0
        conversations = self.conversations
        while idx < int(self.level):
            if conversations:
                if not self.sending or self.exhausted.is_set():
                    break
                got = await self._conversation(
                    self._next_conversation(), lambda: idx < int(self.level)
                )
                if got is None:
                    break
                rec = got
            else:
                if (n := self._claim()) is None:
                    break
                t = asyncio.ensure_future(self._one(n))
                self.tasks.add(t)
                rec = await t
            if not is_error(rec.error_class):
                failures = 0
                continue
            # consecutive failures: wait (exponential, capped, jittered; qtui.load.backoff)
            failures += 1
            self.backing_off += 1
            asked = self.client.take_retry_after(rec.request_id)
            try:
                await asyncio.sleep(
                    backoff_s(failures, float(self.rng.random()), retry_after=asked)
                )
            finally:
                self.backing_off -= 1

    def _spawn_workers(self) -> None:
        self.workers = {w for w in self.workers if not w.done()}
        loop = asyncio.get_running_loop()
        for idx in range(len(self.workers), int(self.level)):
            self.workers.add(loop.create_task(self._worker(idx)))

    # ---- open loop
    async def _arrivals(self) -> None:
        loop = asyncio.get_running_loop()
        nxt = time.perf_counter() + self.offset_s
        turns = self.source.mean_turns if isinstance(self.source, ConversationSource) else 0.0
        while self.sending:
            # conversations start at level / turns per second: the level stays requests/s
            rate = max(self.level / (turns or 1.0), 1e-9)
            gap = self.rng.exponential(1 / rate) if self.poisson else 1 / rate
            nxt += gap
            delay = nxt - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if self.failures and (self.probing or time.perf_counter() < self.resume_at):
                self.held += 1  # backing off: one probe after each wait, not the whole rate
                continue
            if turns:
                if self.exhausted.is_set():
                    break
                self.workers = {w for w in self.workers if not w.done()}
                conv = self._next_conversation()
                self.workers.add(loop.create_task(self._conversation(conv, self._going)))
                continue
            n = self._claim()
            if n is None:
                break
            self.probing = self.failures > 0
            self.tasks.add(loop.create_task(self._one(n)))

    def _going(self) -> bool:
        return self.sending

    # ---- control
    def set_level(self, level: float) -> None:
        self.level = level
        if self.sending and self.by == "concurrency":
            self._spawn_workers()

    def start(self, level: float, by: By, bounds: Bounds, offset_s: float = 0.0) -> None:
        """Start sending at ``level`` (users or req/s); call from the event loop."""
        self.level, self.by, self.bounds, self.offset_s = level, by, bounds, offset_s
        self.stopping.clear()
        self.sending = True
        if by == "concurrency":
            self._spawn_workers()
        else:
            self.arrivals = asyncio.get_running_loop().create_task(self._arrivals())

    async def stop(self, cancel: bool, grace_s: float) -> None:
        """Stop new sends; cancel in-flight requests, or let them finish within grace_s.
        On return every request sent has gone to ``done``."""
        self.stopping.set()
        self.sending = False
        if self.arrivals:
            self.arrivals.cancel()
        await self._settle(cancel, grace_s, self.workers)
        if self.arrivals:
            await asyncio.gather(self.arrivals, return_exceptions=True)
            self.arrivals = None
        self.workers.clear()

    async def aclose(self) -> None:
        await self.client.aclose()
