"""Trace replay: requests sent at the times a JSONL trace gives, at 1× or scaled.

One request per line, in time order. qtui's own lines are
``{"offset_s": 1.25, "input_tokens": 512, "output_tokens": 128}`` (optional ``prompt`` text and
``hash_ids``); Mooncake's (``{"timestamp": 1250, "input_length": 512, "output_length": 128,
"hash_ids": [0, 1]}``, milliseconds) are read as they are. Times count from the first line, so
the first request goes at once (as SGLang's and vLLM's Mooncake readers do); ``speed = 2.0``
replays twice as fast. Each hash id is one shared block of ``trace_block_size`` tokens (512 in
Mooncake): requests naming the same ids send the same text, so prefix caching sees what it saw
in production. A line may be a turn of a conversation (``conversation``, ``turn``, ``think_s``;
`qtui.load.trace_turns`): the replay sends a conversation's later turns with its history, each
after the answer before it. A trace is read and checked whole before anything is sent: a bad
line is one error naming the file, the line and the field.

`TraceSender` drives one endpoint's replay on this process's event loop (a trace is never split
over load worker processes: one loop keeps the order and the timing). `trace_from_requests`
turns a recorded session's request rows back into a trace, so a measured day can be replayed
against another precision.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from qtui.client.stream import Prompt
from qtui.config.profile import Workload
from qtui.errors import ConfigError
from qtui.evidence.accounting import is_error
from qtui.evidence.records import RequestRecord
from qtui.load.conversation import CHAT_OVERHEAD, history_tokens
from qtui.load.prefixes import SharedText, words
from qtui.load.sender import Bounds, Counter, SenderBase
from qtui.load.split import TOKEN_S, By
from qtui.load.tokens import TokenPool
from qtui.load.trace_turns import (
    ConvId,
    TurnOrder,
    first_over_context,
    recorded_turns,
    units,
)

# (name, scale to seconds) of the time column, then the length columns, in each format
_TIME = (("offset_s", 1.0), ("timestamp", 0.001))
_INPUT = ("input_tokens", "input_length")
_OUTPUT = ("output_tokens", "output_length")
_TEXT = ("prompt", "text_input")
# a timer wakes up to ~1 ms late (epoll counts whole ms); the last 1 ms before a send is spent
# yielding to the loop instead (benchmarks/bench_trace.py measures the difference)
SPIN_S = 0.001


@dataclass(frozen=True, slots=True)
class TraceItem:
    """One request of a trace: when (s from the first), its token lengths, its shared parts;
    a conversation's turn also says which conversation, its position and its think time."""

    offset_s: float
    input_tokens: int
    output_tokens: int
    prompt: str | None = None
    hash_ids: tuple[int, ...] = ()
    conversation: ConvId | None = None
    turn: int = 0  # 1 = the first turn; 0: not a conversation's
    think_s: float | None = None  # pause after the previous turn's answer (turn > 1)

    def to_json(self) -> dict[str, Any]:
        """The line qtui writes (its own format)."""
        d: dict[str, Any] = {
            "offset_s": round(self.offset_s, 6),
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
        }
        if self.prompt is not None:
            d["prompt"] = self.prompt
        if self.hash_ids:
            d["hash_ids"] = list(self.hash_ids)
        if self.conversation is not None:
            d["conversation"], d["turn"] = self.conversation, self.turn
            if self.think_s is not None:
                d["think_s"] = round(self.think_s, 6)
        return d


@dataclass(frozen=True, slots=True)
class Trace:
    """A whole trace file, checked."""

    path: Path
    items: tuple[TraceItem, ...]
    lines: tuple[int, ...] = ()  # the file line of each item (blank lines are skipped)

    @property
    def span_s(self) -> float:
        return self.items[-1].offset_s if self.items else 0.0

    def peak_rps(self) -> float:
        """The most requests sent within any 1 s of the trace (at 1×)."""
        times = np.array([it.offset_s for it in self.items])
        ends = np.searchsorted(times, times + 1.0, side="left")
        return float((ends - np.arange(len(times))).max()) if len(times) else 0.0

    def expected_streams(self, scale: float) -> float:
        """Concurrent streams at its busiest second, replayed ``scale`` times as fast."""
        out = float(np.mean([it.output_tokens for it in self.items])) if self.items else 1.0
        return self.peak_rps() * scale * max(1.0, out) * TOKEN_S

    @property
    def multi_turn(self) -> bool:
        """Some lines are turns of conversations."""
        return any(it.conversation is not None for it in self.items)

    def _line(self, i: int) -> int:
        return self.lines[i] if i < len(self.lines) else i + 1

    def check_limit(self, max_model_len: int | None, endpoint: str) -> None:
        """Every request fits the endpoint's context (input + output ≤ max_model_len; a turn's
        input with its conversation's history)."""
        if not max_model_len:
            return
        over = first_over_context(self.items, max_model_len)
        if over is not None:
            i, n_in = over
            it = self.items[i]
            what = "input + output length"
            if it.conversation is not None:
                what = "input (with the conversation's history) + output length"
            raise ConfigError(
                f"{self.path}:{self._line(i)}: {what} {n_in} + {it.output_tokens} is over "
                f"max_model_len {max_model_len} of endpoint {endpoint}; nothing sent"
            )

    def check_api(self, api: str) -> None:
        """Conversation lines resend their history as chat messages: they need the chat API."""
        if api == "chat":
            return
        i = next((i for i, it in enumerate(self.items) if it.conversation is not None), None)
        if i is not None:
            raise ConfigError(
                f"{self.path}:{self._line(i)}: conversation: a turn resends its history as chat "
                'messages: set [workload] api = "chat"; nothing sent'
            )


def _number(obj: Mapping[str, Any], key: str) -> float | None:
    v = obj.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise TypeError
    return float(v)


def _length(obj: Mapping[str, Any], keys: tuple[str, ...]) -> tuple[str, int | None]:
    for k in keys:
        if k in obj:
            v = obj[k]
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(k)
            return k, v
    return keys[0], None


def parse_trace(path: Path, text: str) -> Trace:
    """Check and read a trace's text (``path`` only names it in errors)."""
    items: list[TraceItem] = []
    lines: list[int] = []
    first: float | None = None
    prev: float | None = None
    order = TurnOrder()
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            obj = json.loads(line)
        except ValueError:
            raise ConfigError(f"{where}: not a JSON object; nothing sent") from None
        if not isinstance(obj, dict):
            raise ConfigError(f"{where}: not a JSON object; nothing sent")
        t: float | None = None
        tkey = "timestamp"
        for key, scale in _TIME:
            try:
                v = _number(obj, key)
            except TypeError:
                raise ConfigError(f"{where}: {key}: expected a number; nothing sent") from None
            if v is not None:
                t, tkey = v * scale, key
                break
        if t is None:
            raise ConfigError(
                f"{where}: timestamp: missing (timestamp in ms, or offset_s); nothing sent"
            )
        if t < 0:
            raise ConfigError(f"{where}: {tkey}: negative time {obj[tkey]}; nothing sent")
        if prev is not None and t < prev:
            raise ConfigError(
                f"{where}: {tkey}: {obj[tkey]} is before the line above "
                f"(a trace must be sorted by time); nothing sent"
            )
        prev = t
        prompt = next((obj[k] for k in _TEXT if k in obj), None)
        if prompt is not None and not isinstance(prompt, str):
            raise ConfigError(f"{where}: prompt: expected a string; nothing sent")
        try:
            ikey, n_in = _length(obj, _INPUT)
            okey, n_out = _length(obj, _OUTPUT)
        except ValueError as exc:
            raise ConfigError(
                f"{where}: {exc.args[0]}: expected a whole number ≥ 1; nothing sent"
            ) from None
        if n_in is None and prompt is not None:
            n_in = max(1, len(prompt) // 4)  # the same estimate as a JSONL prompt file's
        if n_in is None:
            raise ConfigError(f"{where}: {ikey}: missing; nothing sent")
        if n_out is None:
            raise ConfigError(f"{where}: {okey}: missing; nothing sent")
        hash_ids = obj.get("hash_ids", [])
        if not isinstance(hash_ids, list) or not all(
            isinstance(h, int) and not isinstance(h, bool) for h in hash_ids
        ):
            raise ConfigError(f"{where}: hash_ids: expected a list of integers; nothing sent")
        conv, turn, think = order.read(obj, where, n)
        if first is None:
            first = t
        items.append(TraceItem(t - first, n_in, n_out, prompt, tuple(hash_ids), conv, turn, think))
        lines.append(n)
    if not items:
        raise ConfigError(f"{path}: no requests in trace; nothing sent")
    return Trace(path, tuple(items), tuple(lines))


def read_trace(path: Path) -> Trace:
    """Read and check a trace file."""
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read trace file ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: trace file is not UTF-8 text") from None
    return parse_trace(path, text)


def load_trace(w: Workload, base_dir: Path) -> Trace:
    """The trace a ``kind = "trace"`` workload names (relative to the profile)."""
    if not w.trace_file:
        raise ConfigError('workload.kind = "trace" needs workload.trace_file')
    trace = read_trace(base_dir / w.trace_file)
    trace.check_api(w.api)
    if w.rate_scale == 1.0:
        return trace
    items = tuple(scale_rate(trace.items, w.rate_scale, w.seed))
    if not items:
        raise ConfigError(
            f"{trace.path}: rate_scale = {w.rate_scale} keeps no request of "
            f"{len(trace.items)}; raise it"
        )
    return Trace(trace.path, items)  # file lines no longer match items one for one


class TracePrompts:
    """The prompt of each trace item: its own text, its hash-id blocks, or unique words."""

    def __init__(self, trace: Trace, w: Workload, pool: TokenPool | None = None) -> None:
        self.trace, self.seed, self.pool = trace, w.seed, pool
        self.shared = SharedText(w.seed, w.trace_block_size, pool)

    def prompt(self, i: int, n: int) -> Prompt:
        """Item ``i`` sent as request number ``n`` (unique parts are drawn from ``n``)."""
        it = self.trace.items[i]
        if it.prompt is not None:
            text = it.prompt
        elif self.pool is not None:  # exact: token ids, its hash-id blocks' then unique ones
            rng = np.random.default_rng([self.seed, 7, n])
            ids = self.shared.ids_from_blocks(it.hash_ids, it.input_tokens, rng)
            return Prompt("", it.output_tokens, it.input_tokens, fixed_output=True, token_ids=ids)
        else:
            rng = np.random.default_rng([self.seed, 7, n])
            if it.hash_ids:
                text = self.shared.from_blocks(it.hash_ids, it.input_tokens, rng)
            else:  # a distinct head keeps prefix caching from flattering the numbers
                text = f"{n} " + " ".join(words(rng, it.input_tokens - 2))
        return Prompt(text, it.output_tokens, it.input_tokens, fixed_output=True)


class TraceOrder:
    """A trace's prompts in order, cycled, without its times (a PromptSource)."""

    def __init__(self, trace: Trace, w: Workload, pool: TokenPool | None = None) -> None:
        self.prompts = TracePrompts(trace, w, pool)
        self.n = 0

    def next(self) -> Prompt:
        self.n += 1
        return self.prompts.prompt((self.n - 1) % len(self.prompts.trace.items), self.n)


class Client(Protocol):
    """What the sender needs of `qtui.client.stream.StreamClient`."""

    chunks: int
    text_bytes: int

    def send(
        self,
        prompt: Prompt,
        request_id: str,
        phase: Any = ...,
        level: float = ...,
        sink: Callable[[RequestRecord], None] | None = ...,
        answer: list[str] | None = ...,
    ) -> Awaitable[RequestRecord]: ...

    async def aclose(self) -> None: ...


class TraceSender(SenderBase):
    """Sends one endpoint's trace at its times × 1 / (speed × level).

    The load level of a trace is a time multiplier on top of ``speed`` (2 = twice as fast);
    ``set_level`` changes it from the current point of the trace on. Played once, the end of
    the trace exhausts the sender (the run drains and ends); ``cycle`` (sweeps) plays it again
    and again. A conversation starts at its first turn's time; each later turn goes after the
    answer before it, with the history (the earlier turns and the live answers), no earlier
    than its own time nor than that answer's end plus its think time (both scaled); a failed
    turn ends its conversation, as in the multi-turn workload. ``clock`` and ``sleep`` are
    ``time.perf_counter`` and ``asyncio.sleep``, or a test's fake ones (with ``spin_s = 0``).
    """

    def __init__(
        self,
        endpoint: str,
        client: Client,
        trace: Trace,
        prompts: TracePrompts,
        counter: Counter,
        done: Callable[[RequestRecord], None],
        speed: float = 1.0,
        cycle: bool = False,
        clock: Callable[[], float] = time.perf_counter,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        spin_s: float = SPIN_S,
    ) -> None:
        self.endpoint, self.client, self.trace, self.prompts = endpoint, client, trace, prompts
        self.counter, self.done, self.speed, self.cycle = counter, done, speed, cycle
        self.clock, self.sleep, self.spin_s = clock, sleep, spin_s
        self.level = 1.0
        self.bounds = Bounds(0.0, float("inf"))
        self.sending = False
        self.exhausted = asyncio.Event()
        self.stopping = asyncio.Event()  # set by stop(): a later turn's wait ends
        self.tasks: set[asyncio.Task[RequestRecord]] = set()
        self.convs: set[asyncio.Task[None]] = set()  # conversations under way
        self.schedule: asyncio.Task[None] | None = None
        self.units = units(trace.items)  # what starts at a line's time: a line, a conversation
        self.index = 0  # the next unit to start
        self.lap_s = 0.0  # trace time added by the laps already played (cycle)
        self.anchor = (0.0, 0.0)  # (clock, trace time) the schedule counts from
        self.targets: list[float] = []  # the clock time each request was due, in send order

    def _scale(self) -> float:
        return self.speed * max(self.level, 1e-9)

    def due(self, trace_s: float) -> float:
        """The clock time trace time ``trace_s`` is due at."""
        clock0, trace0 = self.anchor
        return clock0 + (trace_s - trace0) / self._scale()

    def _exhaust(self) -> None:
        self.exhausted.set()

    async def _one(
        self, n: int, i: int, prompt: Prompt | None = None, answer: list[str] | None = None
    ) -> RequestRecord:
        task = asyncio.current_task()
        phase = self.bounds.phase(self.clock())
        if prompt is None:
            prompt = self.prompts.prompt(i, n)
        try:
            return await self.client.send(
                prompt, f"{self.endpoint}-{n}", phase, self.level, self.done, answer
            )
        finally:
            if task is not None:
                self.tasks.discard(task)

    async def _wait_until(self, target: float) -> bool:
        """Sleep until clock time ``target`` unless stopped first (never before it: the last
        ``spin_s`` yields to the loop, as the schedule does); whether still sending."""
        delay = target - self.clock()
        if delay > self.spin_s and self.sending:
            nap = asyncio.ensure_future(self.sleep(delay - self.spin_s))
            stop = asyncio.ensure_future(self.stopping.wait())
            try:
                await asyncio.wait([nap, stop], return_when=asyncio.FIRST_COMPLETED)
            finally:
                nap.cancel()
                stop.cancel()
        while self.sending and self.spin_s and self.clock() < target:
            await asyncio.sleep(0)
        return self.sending

    async def _conversation(self, n: int, unit: tuple[int, ...], lap_s: float) -> None:
        """Send one conversation's turns (request ``n`` is its first, sent now)."""
        loop = asyncio.get_running_loop()
        history: list[tuple[str, str]] = []
        cid = n
        for k, i in enumerate(unit):
            it = self.trace.items[i]
            if k:
                think = (it.think_s or 0.0) / self._scale()
                target = max(self.due(lap_s + it.offset_s), self.clock() + think)
                if not await self._wait_until(target):
                    return
                got = self.counter.claim()
                if got is None:
                    self._exhaust()
                    return
                n = got
                self.targets.append(target)
            base = self.prompts.prompt(i, n)
            estimate = history_tokens(history) + it.input_tokens + CHAT_OVERHEAD
            prompt = replace(
                base, input_tokens=estimate, history=tuple(history), turn=it.turn,
                conversation=cid,
            )  # fmt: skip
            answer: list[str] = []
            t = loop.create_task(self._one(n, i, prompt, answer))
            self.tasks.add(t)
            rec = await t
            if is_error(rec.error_class) or rec.error_class == "cancelled":
                return
            history += [("user", prompt.text), ("assistant", "".join(answer))]

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        items = self.trace.items
        # a cycled trace starts its next lap one mean gap after its last request
        gap = self.trace.span_s / (len(items) - 1) if len(items) > 1 else 1.0
        while self.sending:
            if self.index >= len(self.units):
                if not self.cycle:
                    while self.convs:  # played once: the trace ends with its last turn
                        await asyncio.wait(set(self.convs))
                    self._exhaust()
                    return
                self.index, self.lap_s = 0, self.lap_s + self.trace.span_s + gap
            unit = self.units[self.index]
            target = self.due(self.lap_s + items[unit[0]].offset_s)
            delay = target - self.clock()
            if delay > self.spin_s:
                await self.sleep(delay - self.spin_s)
            while self.spin_s and self.clock() < target:
                await asyncio.sleep(0)  # the last stretch: the loop serves I/O in between
            n = self.counter.claim() if self.sending else None
            if n is None:
                if self.sending:
                    self._exhaust()
                return
            self.targets.append(target)
            if items[unit[0]].conversation is None:
                self.tasks.add(loop.create_task(self._one(n, unit[0])))
            else:
                conv = loop.create_task(self._conversation(n, unit, self.lap_s))
                self.convs.add(conv)
                conv.add_done_callback(self.convs.discard)
            self.index += 1

    def _restart(self) -> None:
        if self.schedule is not None:
            self.schedule.cancel()
        self.schedule = asyncio.get_running_loop().create_task(self._run())

    def start(self, level: float, by: By, bounds: Bounds, offset_s: float = 0.0) -> None:
        """Play the trace from its start at ``level`` × speed (``by`` is not used)."""
        self.level, self.bounds = level, bounds
        self.sending, self.index, self.lap_s = True, 0, 0.0
        self.stopping.clear()
        self.anchor = (self.clock() + offset_s, 0.0)
        self._restart()

    def set_level(self, level: float) -> None:
        """A new time multiplier, from where the trace is now."""
        if not self.sending:
            self.level = level
            return
        now = self.clock()
        clock0, trace0 = self.anchor
        position = trace0 + max(0.0, now - clock0) * self._scale()
        self.level = level
        self.anchor = (now, position)
        self._restart()

    async def stop(self, cancel: bool, grace_s: float) -> None:
        """Stop sending; cancel in-flight requests, or let them finish within grace_s (a
        conversation sends no further turn either way)."""
        self.sending = False
        self.stopping.set()
        if self.schedule is not None:
            self.schedule.cancel()
            await asyncio.gather(self.schedule, return_exceptions=True)
            self.schedule = None
        await self._settle(cancel, grace_s, set(self.convs))
        self.convs.clear()

    async def aclose(self) -> None:
        await self.client.aclose()


def trace_from_requests(
    rows: Iterable[Mapping[str, Any]], endpoint: str | None = None
) -> list[TraceItem]:
    """A trace of the requests a session recorded for ``endpoint`` (every endpoint's when None:
    then use one endpoint's, as each saw the same load): send times as offsets from the first,
    the server's token counts as lengths. Requests without both counts (failed before the
    server answered) are left out; their send times would be replayed without their sizes.
    A conversation's turns stay turns of it (`qtui.load.trace_turns.recorded_turns`): each
    line's new message, its think time, the conversation's id (its first request's number;
    ``endpoint-number`` when several endpoints' are written)."""
    plain: list[TraceItem] = []
    turns: dict[str, list[Mapping[str, Any]]] = {}
    for r in rows:
        if endpoint is not None and r.get("endpoint") != endpoint:
            continue
        t, n_in, n_out = r.get("t_send"), r.get("prompt_tokens"), r.get("completion_tokens")
        if t is None or not n_in or not n_out:
            continue
        if (r.get("turn") or 0) > 0 and r.get("conversation"):
            turns.setdefault(str(r.get("endpoint")), []).append(r)
        else:
            plain.append(TraceItem(float(t), int(n_in), int(n_out)))
    items = plain
    for name, part in turns.items():
        for t, n_in, n_out, cid, k, think in recorded_turns(part):
            conv: ConvId = cid if len(turns) == 1 else f"{name}-{cid}"
            items.append(TraceItem(t, n_in, n_out, None, (), conv, k, think))
    items.sort(key=lambda x: x.offset_s)
    if not items:
        return []
    t0 = items[0].offset_s
    return [replace(it, offset_s=it.offset_s - t0) for it in items]


def dump_trace(items: Iterable[TraceItem]) -> str:
    """Items as JSONL text in qtui's trace format (what `parse_trace` reads back)."""
    return "".join(json.dumps(it.to_json()) + "\n" for it in items)


def scale_rate(items: Iterable[TraceItem], factor: float, seed: int = 0) -> list[TraceItem]:
    """The trace at ``factor`` × its request rate over the same time span (its times are kept;
    `speed` is the other way, compressing time). Below 1 each request is kept with
    probability ``factor`` (thinning: a Poisson stream stays Poisson); above 1 each request
    is sent ⌊factor⌋ times, once more with probability factor − ⌊factor⌋, the copies placed
    at uniform random times between it and the next request, with its lengths and hash ids
    (so they share its prefix). A conversation is kept or copied whole, by its first turn's
    time, a copy shifted as one and named ``<id>.<copy>``. Seeded: the same ``seed`` gives
    the same trace."""
    if factor <= 0:
        raise ConfigError(f"rate scale: {factor} must be above 0")
    src = list(items)
    groups = units(src)
    rng = np.random.default_rng([seed, 21])
    out: list[TraceItem] = []
    for u, unit in enumerate(groups):
        it = src[unit[0]]
        whole = int(factor)
        copies = whole + int(rng.random() < factor - whole)
        gap = src[groups[u + 1][0]].offset_s - it.offset_s if u + 1 < len(groups) else 0.0
        for k in range(copies):
            shift = 0.0 if k == 0 else gap * float(rng.random())
            for i in unit:
                x = src[i]
                conv = (
                    x.conversation if k == 0 or x.conversation is None else f"{x.conversation}.{k}"
                )
                out.append(replace(x, offset_s=x.offset_s + shift, conversation=conv))
    out.sort(key=lambda x: x.offset_s)
    if out and out[0].offset_s:
        t0 = out[0].offset_s
        out = [replace(x, offset_s=x.offset_s - t0) for x in out]
    return out


def trace_summary(trace: Trace) -> str:
    """One line saying what a trace is: requests, span, mean and peak rate, mean lengths."""
    n, span = len(trace.items), trace.span_s
    mean_in = sum(it.input_tokens for it in trace.items) / n
    mean_out = sum(it.output_tokens for it in trace.items) / n
    shared = sum(1 for it in trace.items if it.hash_ids)
    rate = f"{(n - 1) / span:.2f} req/s mean" if span > 0 else "all at once"
    text = (
        f"{trace.path}: {n} requests over {span:.1f} s ({rate}, "
        f"{trace.peak_rps():.0f} req/s peak in 1 s); input {mean_in:.0f} tokens mean, "
        f"output {mean_out:.0f} tokens mean; {shared} with hash_ids"
    )
    turns = [it for it in trace.items if it.conversation is not None]
    if turns:
        convs = len({it.conversation for it in turns})
        most = max(it.turn for it in turns)
        text += f"; {len(turns)} turns of {convs} conversations (up to {most} turns)"
    return text
