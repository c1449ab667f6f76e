"""The simulator's I/O shell: one aiohttp server per endpoint, engines driven in real time."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii
from pathlib import Path
from typing import Any

from aiohttp import web

from qtui.config.load import load_model
from qtui.config.profile import Endpoint, Profile
from qtui.data import gpu_specs, model_shapes
from qtui.errors import ConfigError, QtuiError
from qtui.sim import protocol as P
from qtui.sim.engine import Engine, SimRequest
from qtui.sim.metrics import Scrape, gpu_reading, render_dcgm, render_vllm
from qtui.sim.pacing import Pacer
from qtui.sim.physics import BLOCK_SIZE, FRONTEND_S, IDLE_POWER_FRACTION, Plan, make_plan
from qtui.sim.quality import (
    GoldenAnswer,
    is_wrong,
    load_golden,
    reworded,
    self_flipped,
    wrong_answer,
)
from qtui.sim.text import (
    TokenStream,
    block_keys,
    natural_length,
    prompt_key,
    split_tokens,
    stable_hash,
)

READY = "QTUI-SIM-READY"
MAX_LAG_S = 2.0
"""If the event loop falls this far behind the modelled clock (a suspended process), the engine
clock is reset. Short of that the engine catches up: like vLLM's engine core, which runs apart
from its API server, it keeps its own pace while delivery lags, and late tokens reach the client
merged into fewer chunks (as vLLM's output collector merges them) instead of being lost."""
CATCH_UP_SLICE_S = 0.005
"""While catching up, the driver runs due steps back to back for at most this long, then yields."""


@dataclass(slots=True)
class _Handle:
    """A live request's mailbox: the driver adds tokens, the HTTP handler drains them."""

    req: SimRequest
    waiter: asyncio.Future[None] | None = None  # set while the handler waits for tokens
    pending: int = 0
    finished: str | None = None  # set by the driver together with the last token
    slot: int = 0  # which pacing group this stream belongs to
    started: bool = False  # its first token has been handed to the handler

    def wake(self) -> None:
        w = self.waiter
        if w is not None and not w.done():
            w.set_result(None)


@dataclass(frozen=True, slots=True)
class EndpointSetup:
    """Everything needed to serve one simulated endpoint (built and checked before binding)."""

    name: str
    served_model: str
    root: str
    plan: Plan
    seed: int
    quality_error_rate: float
    logprob_noise: float
    port: int
    self_flip_rate: float = 0.0


def endpoint_setup(ep: Endpoint, seed: int, port: int = 0) -> EndpointSetup:
    """Lay out one profile endpoint; raises QtuiError when the model cannot fit (as vLLM would)."""
    sim = ep.simulate
    if sim is None:
        raise ConfigError(f"endpoint {ep.name!r} has no [endpoints.simulate] table")
    if ep.gpu not in gpu_specs():
        raise ConfigError(f"endpoint {ep.name!r}: the simulator needs a GPU type, not {ep.gpu!r}")
    shape = model_shapes()[sim.model]
    plan = make_plan(
        ep.name,
        shape,
        gpu_specs()[ep.gpu],
        sim.weights,
        sim.kv_cache_dtype,
        sim.gpu_memory_utilization,
        ep.gpus_per_replica,
    )
    return EndpointSetup(
        name=ep.name,
        served_model=ep.model or f"{sim.model}-{ep.name}",
        root=shape.source.split(" ")[0] if shape.source else shape.name,
        plan=plan,
        seed=seed,
        quality_error_rate=sim.quality_error_rate,
        logprob_noise=sim.logprob_noise,
        port=sim.port or port,
        self_flip_rate=sim.self_flip_rate,
    )


class SimEndpoint:
    """One simulated vLLM server: engine, driver task, HTTP routes."""

    def __init__(
        self,
        setup: EndpointSetup,
        golden: dict[str, GoldenAnswer] | None = None,
        pacer: Pacer | None = None,
    ):
        self.setup = setup
        self.pacer = pacer or Pacer()
        self._steps = 0
        self.golden = golden or {}
        self._asked: dict[str, int] = {}  # golden item id → times asked (for self-flips)
        self.engine: Engine | None = None
        self.handles: dict[str, _Handle] = {}
        self.created = time.time()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._lags: deque[float] = deque(maxlen=20000)
        self._lag_resets = 0
        self._ticks = 0
        self._late: deque[tuple[float, float]] = deque(maxlen=50)  # (s since start, lag s)
        self._t0 = 0.0
        self._counter = 0
        self._writes = 0  # socket writes by streaming handlers (each one or more SSE events)
        self._noise_seed = stable_hash("noise", setup.name, setup.seed)
        self._eos_id = 2 if setup.plan.model.vocab_size < 100_000 else 128009

    # --- lifecycle -----------------------------------------------------------------------
    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._t0 = loop.time()
        self.engine = Engine(self.setup.plan, now=self._t0)
        self._tasks = [loop.create_task(self._drive()), loop.create_task(self._watch_lag())]

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        r = app.router
        r.add_get("/health", self.health)
        r.add_get("/version", self.version)
        r.add_get("/v1/models", self.models)
        r.add_get("/metrics", self.metrics)
        r.add_get("/dcgm/metrics", self.dcgm)
        r.add_get("/qtui/sim/stats", self.sim_stats)
        r.add_post("/v1/completions", self.completions)
        r.add_post("/v1/chat/completions", self.chat)
        r.add_post("/tokenize", self.tokenize)
        return app

    # --- the engine in real time ---------------------------------------------------------
    async def _drive(self) -> None:
        loop = asyncio.get_running_loop()
        eng = self.engine
        assert eng is not None
        slice_start = loop.time()
        while True:
            if not eng.has_work():
                self._wake.clear()
                await self._wake.wait()
                slice_start = loop.time()
                continue
            out = eng.step()
            assert out is not None
            now = loop.time()
            delay = out.end - now
            if delay > 0:
                await asyncio.sleep(delay)
                slice_start = loop.time()
            elif -delay > MAX_LAG_S:
                eng.now = now
                self._lag_resets += 1
            elif now - slice_start > CATCH_UP_SLICE_S:
                await asyncio.sleep(0)
                slice_start = loop.time()
            handles = self.handles
            k = self.pacer.stride(out.end - out.start)
            group = self._steps % k
            self._steps += 1
            for req in out.tokens:
                h = handles.get(req.id)
                if h is not None:
                    h.pending += 1
                    if k == 1 or not h.started or h.slot % k == group:
                        h.started = True
                        h.wake()
            for req in out.finished:
                h = handles.get(req.id)
                if h is not None:
                    h.finished = req.finished
                    h.wake()

    async def _watch_lag(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            t = loop.time()
            await asyncio.sleep(0.05)
            lag = max(0.0, loop.time() - t - 0.05)
            self._ticks += 1
            if self._ticks % 20 == 0:
                self.pacer.update()
            self._lags.append(lag)
            if lag > 0.1:
                self._late.append((round(t - self._t0, 2), round(lag, 3)))

    # --- simple routes -------------------------------------------------------------------
    async def health(self, _: web.Request) -> web.Response:
        return web.Response(status=200)

    async def version(self, _: web.Request) -> web.Response:
        return _json({"version": P.VLLM_VERSION})

    async def models(self, _: web.Request) -> web.Response:
        s = self.setup
        perm = f"modelperm-{stable_hash('perm', s.name, s.seed):016x}"
        body = P.model_list(s.served_model, s.root, s.plan.max_model_len, int(self.created), perm)
        return _json(body)

    async def metrics(self, _: web.Request) -> web.Response:
        assert self.engine is not None
        text = render_vllm(self.engine, Scrape(self.setup.served_model, self.created))
        return web.Response(body=text, content_type="text/plain", charset="utf-8")

    def energy_j(self, now: float) -> float:
        """Per GPU: idle power all the time plus the extra of busy time (linear power model)."""
        assert self.engine is not None
        plan = self.setup.plan
        tdp = plan.gpu.tdp_w or 300.0
        idle = tdp * IDLE_POWER_FRACTION
        return 1.0e6 + idle * (now - self._t0) + (tdp - idle) * self.engine.stats.busy_s

    async def dcgm(self, _: web.Request) -> web.Response:
        assert self.engine is not None
        now = asyncio.get_running_loop().time()
        reading = gpu_reading(self.setup.plan, self.engine.utilization(now), self.energy_j(now))
        text = render_dcgm(self.setup.plan, reading, self.setup.name, self.setup.seed)
        return web.Response(body=text, content_type="text/plain", charset="utf-8")

    async def sim_stats(self, _: web.Request) -> web.Response:
        """Not part of vLLM: the simulator's own health (event-loop lag, modelled work)."""
        assert self.engine is not None
        lags = sorted(self._lags) or [0.0]
        st = self.engine.stats
        return _json(
            {
                "simulated": True,
                "loop_lag_p50_ms": lags[len(lags) // 2] * 1e3,
                "loop_lag_p99_ms": lags[int(len(lags) * 0.99)] * 1e3,
                "loop_lag_max_ms": lags[-1] * 1e3,
                "lag_resets": self._lag_resets,
                "late_wakeups": list(self._late),
                "busy_s": st.busy_s,
                "cpu_s": time.process_time(),
                "sched_wait_s": _sched_wait_s(),
                "stream_writes": self._writes,
                "write_cost_us": self.pacer.write_cost_s * 1e6,
                "stride": self.pacer.stride(self.engine.last_step_s),
                "generation_tokens": st.generation_tokens,
                "prompt_tokens": st.prompt_tokens,
                "preemptions": st.preemptions,
                "kv_capacity_tokens": self.setup.plan.kv_capacity_tokens,
                "max_model_len": self.setup.plan.max_model_len,
            }
        )

    async def tokenize(self, request: web.Request) -> web.Response:
        """vLLM's ``POST /tokenize``: the prompt's (or chat messages') token ids and count, in
        the simulator's tokens (``qtui.sim.text.tokenize``: the count its usage reports)."""
        try:
            data = P.parse_json(await request.read())
            ids = P.tokenize_request(data, self.setup.served_model, self.vocab_size)
        except P.ApiError as err:
            return self._error(err)
        return _json(P.tokenize_body(ids, self.setup.plan.max_model_len))

    @property
    def vocab_size(self) -> int:
        return int(self.setup.plan.model.vocab_size)

    # --- generation ----------------------------------------------------------------------
    async def completions(self, request: web.Request) -> web.StreamResponse:
        return await self._generate(request, chat=False)

    async def chat(self, request: web.Request) -> web.StreamResponse:
        return await self._generate(request, chat=True)

    def _error(self, err: P.ApiError) -> web.Response:
        return _json(err.body(), status=err.status)

    async def _generate(self, request: web.Request, chat: bool) -> web.StreamResponse:
        received = asyncio.get_running_loop().time()  # vLLM stamps arrival_time on receipt
        try:
            data = P.parse_json(await request.read())
            g = P.parse_generate(data, chat, self.setup.served_model, self.setup.plan.max_model_len)
        except P.ApiError as err:
            return self._error(err)
        self._counter += 1
        rid = f"{'chatcmpl' if chat else 'cmpl'}-{stable_hash(self.setup.seed, self._counter, time.time()):016x}"  # noqa: E501
        state = prompt_key(g.prompt_text)
        forced, target = self._plan_output(g, state)
        rng = None
        if g.temperature > 0:
            rng = random.Random(g.seed if g.seed is not None else stable_hash(self._counter))
        tokens = TokenStream(
            state,
            self.setup.logprob_noise,
            self._noise_seed,
            g.temperature,
            rng,
            want_top=g.logprobs is not None,
        )
        await asyncio.sleep(FRONTEND_S)
        keys = block_keys(g.cached_text, BLOCK_SIZE)
        sim = SimRequest(
            rid, g.prompt_tokens, g.max_tokens, target, prompt_key=state, block_keys=keys
        )
        handle = _Handle(sim, slot=self._counter)
        self.handles[rid] = handle
        self.pacer.live += 1
        assert self.engine is not None
        self.engine.add(sim, at=asyncio.get_running_loop().time())
        # TTFT and e2e histograms count from receipt (body read, parsed, front end), as vLLM's
        # do; the engine itself only starts on the request once the front end is done
        sim.received = min(sim.arrival, received)
        self._wake.set()
        text_gen = _Texts(tokens, forced, g.logprobs, keep=g.chat)
        created = int(time.time())
        try:
            if g.stream:
                return await self._stream(request, g, handle, text_gen, rid, created)
            return await self._whole(g, handle, text_gen, rid, created)
        finally:
            self.handles.pop(rid, None)
            self.pacer.live -= 1
            if sim.finished is None:
                self.engine.abort(rid)
            elif g.chat:  # the history and its answer: the next turn's leading blocks
                answer = "".join(text_gen.parts)
                self.engine.cache_blocks(block_keys(g.cache_text + answer, BLOCK_SIZE))

    def _plan_output(self, g: P.GenRequest, state: int) -> tuple[list[str], int]:
        """Fixed answer tokens (golden items) and how many tokens the request will produce."""
        forced: list[str] = []
        ans = self.golden.get(g.prompt_text.strip())
        if ans is not None:
            su = self.setup
            wrong = is_wrong(ans.id, su.seed, su.quality_error_rate)
            text = wrong_answer(ans) if wrong else ans.expected
            asked = self._asked[ans.id] = self._asked.get(ans.id, -1) + 1
            if not wrong and self_flipped(ans.id, su.name, su.seed, asked, su.self_flip_rate):
                text = reworded(ans) or text
            forced = split_tokens(text)
            natural = len(forced) + 1
        else:
            natural = natural_length(state)
        if g.ignore_eos:
            return forced, g.max_tokens
        return forced, min(max(natural, g.min_tokens + 1), g.max_tokens)

    async def _next_batch(self, h: _Handle) -> int:
        if h.pending == 0 and h.finished is None:
            loop = asyncio.get_running_loop()
            while h.pending == 0 and h.finished is None:
                h.waiter = loop.create_future()
                await h.waiter
            h.waiter = None
        n, h.pending = h.pending, 0
        return n

    async def _stream(
        self,
        request: web.Request,
        g: P.GenRequest,
        h: _Handle,
        texts: _Texts,
        rid: str,
        created: int,
    ) -> web.StreamResponse:
        resp = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream; charset=utf-8",
                "Cache-Control": "no-cache",
            }
        )
        await resp.prepare(request)
        model = g.model
        first = True
        # the common chunk (text only, not finishing) as bytes around its JSON-encoded text
        head, tail = _chunk_template(g, rid, created, model)
        fast = g.logprobs is None

        while True:
            n = await self._next_batch(h)
            finish = h.finished
            if fast and finish is None and not (first and g.chat):
                self._writes += 1
                self.pacer.writes += 1
                await resp.write(head + _enc(texts.take_text(n)) + tail)
                first = False
                continue
            eos = finish == "stop"
            words, lps, tops = texts.take(n - (1 if eos else 0))
            out = bytearray()
            chat = g.chat
            if chat and first:
                out += sse(P.chat_first_chunk(rid, created, model))
            first = False
            text = "".join(words)
            if words or not eos:
                fin = None if eos else finish
                if chat:
                    lp = P.chat_logprobs(words, lps, tops) if g.logprobs is not None else None
                    out += sse(P.chat_chunk(rid, created, model, text, lp, fin, None))
                else:
                    lp = (
                        P.completion_logprobs(words, lps, tops, texts.offset - len(text))
                        if g.logprobs is not None
                        else None
                    )
                    out += sse(P.completion_chunk(rid, created, model, text, lp, fin))
            if eos:
                if chat:
                    out += sse(P.chat_chunk(rid, created, model, "", None, "stop", self._eos_id))
                else:
                    out += sse(P.completion_chunk(rid, created, model, "", None, "stop"))
            if finish is not None and g.include_usage:
                u = P.usage(g.prompt_tokens, h.req.generated)
                out += sse(P.usage_chunk(rid, created, model, chat, u))
            if finish is not None:
                out += b"data: [DONE]\n\n"
            self._writes += 1
            self.pacer.writes += 1
            await resp.write(bytes(out))
            if finish is not None:
                await resp.write_eof()
                return resp

    async def _whole(
        self, g: P.GenRequest, h: _Handle, texts: _Texts, rid: str, created: int
    ) -> web.Response:
        while h.finished is None:
            await self._next_batch(h)
        finish = h.finished
        words, lps, tops = texts.take(h.req.generated - (1 if finish == "stop" else 0))
        u = P.usage(g.prompt_tokens, h.req.generated)
        text = "".join(words)
        if g.chat:
            lp = P.chat_logprobs(words, lps, tops) if g.logprobs is not None else None
            stop = self._eos_id if finish == "stop" else None
            body = P.chat_body(rid, created, g.model, text, lp, finish, stop, u)
        else:
            lp = P.completion_logprobs(words, lps, tops, 0) if g.logprobs is not None else None
            body = P.completion_body(rid, created, g.model, text, lp, finish, u)
        return _json(body)


def _sched_wait_s() -> float | None:
    """Seconds this process's main thread was runnable but waiting for a CPU (Linux only): on a
    shared machine, loop lag with little CPU used and much waiting is the machine, not the sim."""
    try:
        with open("/proc/thread-self/schedstat") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


def _json(obj: Any, status: int = 200) -> web.Response:
    """Compact JSON, as FastAPI's JSONResponse writes it."""
    return web.json_response(obj, status=status, dumps=_dumps)


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))


def sse(obj: dict[str, Any]) -> bytes:
    """One server-sent event carrying compact JSON, as vLLM writes it."""
    return b"data: " + json.dumps(obj, separators=(",", ":")).encode() + b"\n\n"


_MARK = "\x00qtui-text\x00"


def _enc(text: str) -> bytes:
    """A JSON string literal, exactly as json.dumps writes it inside an object."""
    return encode_basestring_ascii(text).encode()


def _chunk_template(g: P.GenRequest, rid: str, created: int, model: str) -> tuple[bytes, bytes]:
    """The bytes of a text-only, non-final chunk before and after its JSON text literal."""
    if g.chat:
        obj = P.chat_chunk(rid, created, model, _MARK, None, None, None)
    else:
        obj = P.completion_chunk(rid, created, model, _MARK, None, None)
    head, tail = sse(obj).split(_enc(_MARK))
    return head, tail


class _Texts:
    """Turns token counts from the engine into text, logprobs and top-k alternatives."""

    def __init__(
        self, stream: TokenStream, forced: list[str], k: int | None, keep: bool = False
    ) -> None:
        self.stream = stream
        self.forced = forced
        self.k = k or 0
        self.i = 0
        self.offset = 0
        self.keep = keep  # a chat's answer is kept: its blocks are cached with the history
        self.parts: list[str] = []

    def take_text(self, n: int) -> str:
        """The next ``n`` tokens' text, no logprobs (the streaming hot path)."""
        if self.i < len(self.forced) or self.stream.want_top:
            return "".join(self.take(n)[0])
        nxt = self.stream.next_text
        text = nxt() if n == 1 else "".join([nxt() for _ in range(n)])
        self.i += n
        self.offset += len(text)
        if self.keep:
            self.parts.append(text)
        return text

    def take(self, n: int) -> tuple[list[str], list[float], list[dict[str, float]]]:
        words: list[str] = []
        lps: list[float] = []
        tops: list[dict[str, float]] = []
        for _ in range(max(0, n)):
            if self.i < len(self.forced):
                c = self.stream.forced(self.forced[self.i])
            else:
                c = self.stream.next()
            self.i += 1
            words.append(c.text)
            self.offset += len(c.text)
            if self.keep:
                self.parts.append(c.text)
            if self.stream.want_top:
                lps.append(c.logprob)
                tops.append(dict(c.top[: self.k]) if self.k else {c.text: c.logprob})
        return words, lps, tops


# --- the process -------------------------------------------------------------------------------
def load_setups(
    profile_path: Path, seed: int, port: int = 0
) -> tuple[Profile, list[EndpointSetup]]:
    """Every simulated endpoint of a profile, checked (fit, GPU, model) before any port opens."""
    profile = load_model(profile_path, Profile)
    eps = [e for e in profile.endpoints if e.simulate is not None]
    if not eps:
        raise ConfigError(f"{profile_path}: no endpoint has an [endpoints.simulate] table")
    return profile, [endpoint_setup(e, seed, port + i if port else 0) for i, e in enumerate(eps)]


def golden_path(profile: Profile, profile_path: Path, golden: Path | None) -> Path | None:
    if golden is not None:
        return golden
    if profile.workload.golden_set:
        p = (profile_path.parent / profile.workload.golden_set).resolve()
        return p if p.exists() else None
    return None


async def serve(
    profile_path: Path,
    port: int = 0,
    seed: int = 0,
    golden: Path | None = None,
    announce: Callable[[str], None] = print,
    stop: asyncio.Event | None = None,
    write_cost_us: float | None = None,
) -> None:
    """Serve every simulated endpoint of the profile until ``stop`` is set (or SIGTERM/SIGINT).

    ``write_cost_us`` fixes the pacer's CPU cost per stream write (else it is measured), so chunk
    sizes depend on the live streams alone: what a benchmark of two clients needs."""
    profile, setups = load_setups(profile_path, seed, port)
    gpath = golden_path(profile, profile_path, golden)
    answers = load_golden(gpath) if gpath else {}
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    runners: list[web.AppRunner] = []
    endpoints: list[SimEndpoint] = []
    pacer = Pacer() if write_cost_us is None else Pacer(write_cost_us / 1e6, fixed=True)
    urls: dict[str, str] = {}
    try:
        for s in setups:
            ep = SimEndpoint(s, answers, pacer)
            ep.start()
            endpoints.append(ep)
            runner = web.AppRunner(ep.app(), access_log=None, handle_signals=False)
            await runner.setup()
            runners.append(runner)
            site = web.TCPSite(runner, "127.0.0.1", s.port, backlog=4096, reuse_address=True)
            try:
                await site.start()
            except OSError as exc:
                raise QtuiError(
                    f"endpoint {s.name!r}: cannot listen on 127.0.0.1:{s.port} "
                    f"({exc.strerror}); pick another --port"
                ) from None
            bound = runner.addresses[-1][1]
            urls[s.name] = f"http://127.0.0.1:{bound}"
            p = s.plan
            announce(
                f"{s.name:<12} {urls[s.name]}  (simulated {p.model.name} {p.weights} on "
                f"{p.tp}× {p.gpu.key}; KV cache {p.kv_capacity_tokens:,} tokens)"
            )
        ready = {
            "pid": os.getpid(),
            "endpoints": urls,
            "dcgm": {n: f"{u}/dcgm/metrics" for n, u in urls.items()},
            "golden": str(gpath) if gpath else None,
        }
        announce(f"{READY} {json.dumps(ready)}")
        await stop.wait()
    finally:
        for ep in endpoints:
            await ep.stop()
        for runner in runners:
            await runner.cleanup()


def main(
    profile: Path,
    port: int = 0,
    seed: int = 0,
    golden: Path | None = None,
    write_cost_us: float | None = None,
) -> None:
    """Blocking entry point (``qtui sim`` and ``python -m qtui.sim``)."""

    def announce(line: str) -> None:
        print(line, flush=True)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(profile, port, seed, golden, announce, write_cost_us=write_cost_us))
    sys.stdout.flush()
