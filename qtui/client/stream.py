"""Streaming OpenAI client: one RequestRecord per request, whatever the server does."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from qtui.client.discovery import auth_headers
from qtui.client.retry_after import retry_after_s
from qtui.client.sse import Malformed, SseReader, one_line
from qtui.client.wire import (
    BodyFn,
    ConnectFailed,
    ConnectTimeout,
    Disconnected,
    Exchange,
    Head,
    Pool,
    Stalled,
    StopReading,
    request_head,
)
from qtui.evidence.accounting import stop_detail
from qtui.evidence.records import Phase, RequestRecord

__all__ = ["Api", "Malformed", "Prompt", "StreamClient", "build_payload"]

Api = Literal["completions", "chat"]

# No byte for this long on a stream that has begun answering is a stall. A healthy vLLM emits a
# token to every running request at each engine step (tens of ms; seconds for a long prefill
# batched in or a preempted request recomputed); vLLM itself treats an engine step longer than
# VLLM_ENGINE_ITERATION_TIMEOUT_S (60 s) as a dead engine. 30 s is far beyond the first and
# reports a silent server before the second. `[load] stall_timeout_s` changes it.
STALL_TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class Prompt:
    """What to send: text, the token counts asked for, and the estimate of its length."""

    text: str
    max_tokens: int
    input_tokens: int = 0  # the workload's estimate, used when the server sends no usage
    fixed_output: bool = True  # ignore_eos (+ min_tokens): every request emits max_tokens
    # a conversation's earlier messages as (role, content), sent before this user turn (chat)
    history: tuple[tuple[str, str], ...] = ()
    turn: int = 0  # its position in a conversation (1 = the first turn); 0: not a conversation
    conversation: int = 0  # the conversation's id (the request number of its first turn)
    # the prompt as the served model's token ids (exact length, server /tokenize); text is then ""
    token_ids: tuple[int, ...] | None = None


def build_payload(api: Api, model: str, p: Prompt, min_tokens: bool = True) -> dict[str, Any]:
    """The request body. A fixed output length is ``ignore_eos``, plus ``min_tokens`` where the
    server may not honour ``ignore_eos`` (``min_tokens = False``: vLLM, which does; there the
    extra field only costs its engine a logits processor over the batch at every step)."""
    body: dict[str, Any] = {
        "model": model,
        "stream": True,
        "stream_options": {"include_usage": True},
        "temperature": 0.0,
    }
    if api == "chat":
        body["messages"] = [
            *({"role": role, "content": text} for role, text in p.history),
            {"role": "user", "content": p.text},
        ]
        # both names: vLLM reads max_completion_tokens (max_tokens is its deprecated alias, the
        # same value here); llama-cpp-python's server reads only max_tokens
        body["max_completion_tokens"] = body["max_tokens"] = p.max_tokens
    else:
        body["prompt"] = list(p.token_ids) if p.token_ids is not None else p.text
        body["max_tokens"] = p.max_tokens
    if p.fixed_output:
        body["ignore_eos"] = True
        if min_tokens:
            body["min_tokens"] = p.max_tokens
    return body


class StreamClient:
    """Sends streaming requests to one endpoint and records what happens.

    Its HTTP/1.1 is `qtui.client.wire` (a raw asyncio protocol, keep-alive connections) and the
    stream is read by `qtui.client.sse.SseReader`: each chunk is timed and counted inside the
    protocol's ``data_received``, and the request's task wakes once, at the end
    (benchmarks/results/load-cpu.md measures it against the aiohttp peer).
    """

    def __init__(
        self,
        endpoint: str,
        base_url: str,
        model: str,
        api: Api = "completions",
        key: str | None = None,
        timeout_s: float = 120.0,
        max_connections: int = 1024,
        stall_timeout_s: float | None = STALL_TIMEOUT_S,
        ttft_timeout_s: float | None = None,
        min_tokens: bool = True,
    ) -> None:
        self.endpoint = endpoint
        self.min_tokens = min_tokens  # send min_tokens with ignore_eos (build_payload)
        self.model = model
        self.api: Api = api
        self.url = (
            f"{base_url}/v1/chat/completions" if api == "chat" else f"{base_url}/v1/completions"
        )
        self.timeout_s = timeout_s
        # no byte for this long on a stream that has begun answering: error class 'stall'
        self.stall_timeout_s = stall_timeout_s
        # the wait for the first token (queueing under load is not a stall): 'timeout'
        self.ttft_timeout_s = ttft_timeout_s if ttft_timeout_s is not None else timeout_s
        self._pool = Pool(self.url, max_connections, min(10.0, timeout_s))
        # the key goes into these bytes only: never into a record, a log or an error
        self._head = request_head(
            self._pool,
            {"User-Agent": "qtui", "Content-Type": "application/json", **auth_headers(key)},
        )
        self._open: dict[str, Exchange] = {}  # request id → its exchange, while it streams
        # request id → seconds its error answer's Retry-After asked for (taken by the sender)
        self.retry_after: dict[str, float] = {}
        self.chunks = 0  # token chunks received, for the client's own throughput
        self.text_bytes = 0  # ... and the bytes of their text (qtui.client.sse.SseReader)

    async def aclose(self) -> None:
        self._pool.close()

    def note_retry_after(self, request_id: str, seconds: float) -> None:
        if len(self.retry_after) >= 4096:  # nobody takes them (a trace replay): keep it small
            self.retry_after.clear()
        self.retry_after[request_id] = seconds

    def take_retry_after(self, request_id: str) -> float | None:
        """The Retry-After (s) the error answer to ``request_id`` asked for, once; None."""
        return self.retry_after.pop(request_id, None)

    async def send(
        self,
        prompt: Prompt,
        request_id: str,
        phase: Phase = "measure",
        level: float = 0.0,
        sink: Callable[[RequestRecord], None] | None = None,
        answer: list[str] | None = None,
    ) -> RequestRecord:
        """Stream one request to its end; errors become the record's error_class, never raise.

        ``sink`` gets the record exactly once, also when the request is cancelled (recorded as
        error_class 'cancelled', then the cancellation propagates): nothing sent goes unrecorded.
        ``answer`` (a conversation's turn) gets the answer's text pieces, in order.
        """
        rec = RequestRecord(self.endpoint, request_id, phase, level)
        rec.turn, rec.conversation = prompt.turn, prompt.conversation
        body = json.dumps(build_payload(self.api, self.model, prompt, self.min_tokens)).encode()
        rec.t_send = time.time()
        p0 = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout_s):
                await self._stream(rec, body, p0, answer)
        except asyncio.CancelledError:
            self._fail(rec, "cancelled", self._stop_detail(rec, p0), p0)
            if sink:
                sink(rec)
            raise
        except ConnectTimeout:
            self._fail(rec, "connect", "connect timed out", p0)
        except ConnectFailed as exc:
            self._fail(rec, "connect", _short(exc) or "connection refused", p0)
        except Stalled as exc:
            self._fail(rec, "stall", str(exc), p0)
        except TimeoutError:
            self._fail(rec, "timeout", f"no complete answer within {self.timeout_s:g} s", p0)
        except Malformed as exc:
            self._fail(rec, "malformed", str(exc), p0)
        except Disconnected as exc:
            self._fail(rec, "disconnect", _short(exc), p0)
        except OSError as exc:
            self._fail(rec, "disconnect", f"{type(exc).__name__}: {_short(exc)}", p0)
        finally:
            if prompt.input_tokens and rec.prompt_tokens is None and rec.ok:
                rec.prompt_tokens = prompt.input_tokens
        if sink:
            sink(rec)
        return rec

    def _fail(self, rec: RequestRecord, cls: Any, detail: str, p0: float) -> None:
        if rec.error_class == "none":
            rec.error_class = cls
            rec.error_detail = detail[:200]
        rec.t_end = rec.t_send + (time.perf_counter() - p0)

    def _stop_detail(self, rec: RequestRecord, p0: float) -> str:
        """'stopped by qtui', or with how long a stream that had begun answering was silent."""
        ex = self._open.pop(rec.request_id, None)
        if ex is None or not rec.chunk_times:
            return stop_detail(None)
        return stop_detail(time.perf_counter() - p0 - ex.last, self.stall_timeout_s)

    async def _stream(
        self, rec: RequestRecord, body: bytes, p0: float, answer: list[str] | None = None
    ) -> None:
        pool = self._pool
        async with pool.sem:
            conn = await pool.acquire()
            reader = _Reader(self, rec, p0, answer)
            ex = Exchange(pool, conn, p0, reader.head, reader.end)
            conn.response = ex
            self._open[rec.request_id] = ex
            watch = self._watch(rec, ex)
            try:
                assert conn.transport is not None
                conn.transport.write(self._head(len(body)) + body)
                await ex.fut
            finally:
                rec.text_bytes = reader.sse.text_bytes  # cut, failed or whole
                for h in watch or ():
                    h.cancel()
                if not ex.fut.done() or ex.fut.cancelled():
                    ex.abandon()
                else:
                    self._open.pop(rec.request_id, None)

    def _watch(self, rec: RequestRecord, ex: Exchange) -> list[asyncio.TimerHandle] | None:
        """One timer per open request (no work per chunk): it ends a stream that went silent.

        Before the first token chunk the limit is ttft_timeout_s (class 'timeout'); after it,
        stall_timeout_s without any byte (class 'stall')."""
        stall, ttft = self.stall_timeout_s, self.ttft_timeout_s
        if stall is None and ttft >= self.timeout_s:
            return None
        loop = asyncio.get_running_loop()
        handle: list[asyncio.TimerHandle] = []

        def check() -> None:
            if ex.fut.done():
                return
            now = time.perf_counter() - ex.p0
            if not rec.chunk_times:
                if now >= ttft:
                    ex.stall(TimeoutError())
                    return
                wait = ttft - now if stall is None else min(ttft - now, stall)
            else:
                if stall is None:
                    return
                silent = now - ex.last
                if silent >= stall:
                    n = len(rec.chunk_times)
                    ex.stall(Stalled(f"no byte for {silent:.1f} s after {n} token chunks"))
                    return
                wait = stall - silent
            handle[:] = [loop.call_later(max(wait, 0.01), check)]

        first = ttft if stall is None else min(ttft, stall)
        handle.append(loop.call_later(first, check))

        return handle


class _Reader:
    """One response as the record sees it: status, then SSE (or the start of an error body)."""

    __slots__ = ("client", "error", "p0", "rec", "sse")

    def __init__(
        self, client: StreamClient, rec: RequestRecord, p0: float, answer: list[str] | None = None
    ) -> None:
        self.client, self.rec, self.p0 = client, rec, p0
        self.sse = SseReader(rec.chunk_times, client, answer)
        self.error: bytearray | None = None  # a non-200 answer's first bytes

    def head(self, head: Head) -> BodyFn:
        self.rec.http_status = head.status
        if head.status != 200:
            self.error = bytearray()
            wait = retry_after_s(head.headers.get("retry-after"), time.time())
            if wait is not None:
                self.client.note_retry_after(self.rec.request_id, wait)
            return self._error_body
        ctype = head.headers.get("content-type", "")
        if "text/event-stream" not in ctype:
            raise Malformed(f"expected text/event-stream, got {ctype or 'no content-type'}")
        return self.sse.feed  # counts and times each token chunk as it comes

    def _error_body(self, data: bytes, _: float) -> None:
        assert self.error is not None
        self.error += data
        if len(self.error) >= ERROR_BODY_BYTES:
            raise StopReading

    def end(self) -> None:
        rec = self.rec
        rec.t_end = rec.t_send + (time.perf_counter() - self.p0)
        if self.error is not None:
            text = bytes(self.error[:ERROR_BODY_BYTES]).decode("utf-8", "replace")
            rec.error_class = "http"
            wait = self.client.retry_after.get(rec.request_id)
            asked = f" (Retry-After {wait:g} s)" if wait is not None else ""
            rec.error_detail = f"HTTP {rec.http_status}{asked}: {one_line(text)}"[:200]
            return
        self.sse.finish(rec)


ERROR_BODY_BYTES = 300  # of a non-200 answer, kept in error_detail (cut to one line)


def _short(exc: BaseException) -> str:
    return one_line(str(exc))
