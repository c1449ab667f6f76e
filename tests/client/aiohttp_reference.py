"""The streaming client as it was before issue 22 (aiohttp, every event decoded), frozen.

tests/client/test_client_equivalence.py replays recorded streams through it and through
qtui.client.stream.StreamClient and compares what they record. Test code only: do not fix it.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from qtui.client.discovery import auth_headers
from qtui.client.stream import Api, Prompt, build_payload
from qtui.evidence.records import Phase, RequestRecord


def make_session(max_connections: int, timeout_s: float) -> aiohttp.ClientSession:
    """One pooled session per endpoint: keep-alive connections for every concurrent stream.

    aiohttp, not httpx: at hundreds of streams httpcore's pool scans every connection (with
    socket syscalls) whenever a request starts or ends, and its pure-Python HTTP parser costs
    more per chunk than aiohttp's C one (benchmarks/bench_load.py measures both against a peer).
    Call from inside the running event loop.
    """
    connector = aiohttp.TCPConnector(limit=max_connections, limit_per_host=0)
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=min(10.0, timeout_s))
    return aiohttp.ClientSession(
        connector=connector, timeout=timeout, auto_decompress=False, trust_env=False
    )


class Malformed(Exception):
    """The response is not the SSE stream of an OpenAI-compatible server."""


class ReferenceClient:
    """Sends streaming requests to one endpoint and records what happens (before issue 22)."""

    def __init__(
        self,
        endpoint: str,
        base_url: str,
        model: str,
        api: Api = "completions",
        key: str | None = None,
        timeout_s: float = 120.0,
        session: aiohttp.ClientSession | None = None,
        max_connections: int = 1024,
    ) -> None:
        self.endpoint = endpoint
        self.model = model
        self.api: Api = api
        self.url = (
            f"{base_url}/v1/chat/completions" if api == "chat" else f"{base_url}/v1/completions"
        )
        self.timeout_s = timeout_s
        self._headers = {"Content-Type": "application/json", **auth_headers(key)}
        self._session = session
        self._max_connections = max_connections
        self.chunks = 0  # token chunks received, for the client's own throughput

    @property
    def session(self) -> aiohttp.ClientSession:
        """The connection pool, made on first use (it must be made inside the event loop)."""
        if self._session is None:
            self._session = make_session(self._max_connections, self.timeout_s)
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def send(
        self,
        prompt: Prompt,
        request_id: str,
        phase: Phase = "measure",
        level: float = 0.0,
        sink: Callable[[RequestRecord], None] | None = None,
    ) -> RequestRecord:
        """Stream one request to its end; errors become the record's error_class, never raise.

        ``sink`` gets the record exactly once, also when the request is cancelled (recorded as
        error_class 'cancelled', then the cancellation propagates): nothing sent goes unrecorded.
        """
        rec = RequestRecord(self.endpoint, request_id, phase, level)
        body = json.dumps(build_payload(self.api, self.model, prompt)).encode()
        rec.t_send = time.time()
        p0 = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout_s):
                await self._stream(rec, body, p0)
        except asyncio.CancelledError:
            self._fail(rec, "cancelled", "stopped by qtui", p0)
            if sink:
                sink(rec)
            raise
        except aiohttp.ConnectionTimeoutError:
            self._fail(rec, "connect", "connect timed out", p0)
        except aiohttp.ClientConnectorError as exc:
            self._fail(rec, "connect", _short(exc) or "connection refused", p0)
        except TimeoutError:
            self._fail(rec, "timeout", f"no complete answer within {self.timeout_s:g} s", p0)
        except Malformed as exc:
            self._fail(rec, "malformed", str(exc), p0)
        except (aiohttp.ClientError, OSError) as exc:
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

    async def _stream(self, rec: RequestRecord, body: bytes, p0: float) -> None:
        times = rec.chunk_times
        perf = time.perf_counter
        loads = json.loads
        usage: dict[str, Any] | None = None
        finish: str | None = None
        done = False
        answered = False  # any event with choices, token-bearing or not
        async with self.session.post(self.url, data=body, headers=self._headers) as r:
            rec.http_status = r.status
            if r.status != 200:
                text = (await r.content.read(300)).decode("utf-8", "replace")
                rec.error_class = "http"
                rec.error_detail = f"HTTP {r.status}: {_one_line(text)}"[:200]
                rec.t_end = rec.t_send + (perf() - p0)
                return
            ctype = r.headers.get("content-type", "")
            if "text/event-stream" not in ctype:
                raise Malformed(f"expected text/event-stream, got {ctype or 'no content-type'}")
            buf = b""
            async for data in r.content.iter_any():
                now = perf() - p0
                # SSE lines may end in \r\n (llama.cpp's server) as well as \n (vLLM)
                buf = (buf + data).replace(b"\r\n", b"\n") if b"\r" in data or buf else data
                if b"\n\n" not in buf:
                    continue
                *events, buf = buf.split(b"\n\n")
                for ev in events:
                    payload = _sse_data(ev)
                    if payload is None:
                        continue
                    if payload == b"[DONE]":
                        done = True
                        continue
                    try:
                        obj = loads(payload)
                    except ValueError:
                        head = payload[:60].decode("utf-8", "replace")
                        raise Malformed(f"event is not JSON: {_one_line(head)}") from None
                    if not isinstance(obj, dict):
                        raise Malformed("event is not a JSON object")
                    choices = obj.get("choices")
                    if choices:
                        answered = True
                        first = choices[0]
                        if _carries_text(first):
                            times.append(now)
                            self.chunks += 1  # live: per-second throughput counts it now
                        fr = first.get("finish_reason")
                        if fr is not None:
                            finish = fr
                    if obj.get("usage"):
                        usage = obj["usage"]
                    if "error" in obj and not choices:
                        err = obj["error"]
                        msg = err.get("message", "") if isinstance(err, dict) else str(err)
                        raise Malformed(f"server error in stream: {_one_line(str(msg))}")
        rec.t_end = rec.t_send + (perf() - p0)
        if times:
            rec.t_first_token = rec.t_send + times[0]
        rec.finish_reason = finish
        completion = _int(usage.get("completion_tokens")) if usage is not None else None
        if usage is not None and completion is not None and completion >= len(times):
            rec.prompt_tokens = _int(usage.get("prompt_tokens"))
            rec.completion_tokens = completion
            rec.usage_source = "server"
        else:  # usage that cannot be right (fewer tokens than token chunks) is not believed
            if usage is not None:
                rec.prompt_tokens = _int(usage.get("prompt_tokens"))
            rec.completion_tokens = len(times)
            rec.usage_source = "counted"
        if not done and finish is None:
            rec.error_class = "disconnect"
            rec.error_detail = f"stream ended after {len(times)} chunks without [DONE]"
        elif not answered:
            rec.error_class = "malformed"
            rec.error_detail = "stream carried no choices"


_TEXT_KEYS = ("content", "reasoning_content", "reasoning")


def _carries_text(choice: Any) -> bool:
    """A token chunk: non-empty `text` (completions) or `delta` content/reasoning (chat).

    llama.cpp's role-only first chat chunk and its empty final chunk (finish_reason only) carry
    no token, nor does vLLM's chat role chunk (`content: ""`); none of them is timed or counted.
    """
    if not isinstance(choice, dict):
        return False
    if choice.get("text"):
        return True
    delta = choice.get("delta")
    return isinstance(delta, dict) and any(delta.get(k) for k in _TEXT_KEYS)


def _int(v: Any) -> int | None:
    if isinstance(v, bool) or not isinstance(v, int | float) or v < 0 or v != v:
        return None
    return int(v)


def _sse_data(event: bytes) -> bytes | None:
    """The data of one SSE event (its ``data:`` lines joined); None for a comment or an event
    without data. Other fields (``event:``, ``id:``, ``retry:``) are ignored, as the spec says."""
    if not event or event[:1] == b":":
        return None
    if event.startswith(b"data:") and b"\n" not in event:  # the common case: one data line
        return event[5:].strip()
    lines = [ln for ln in event.split(b"\n") if ln and ln[:1] != b":"]
    data = [ln[5:].strip() for ln in lines if ln.startswith(b"data:")]
    unknown = [ln for ln in lines if ln.split(b":", 1)[0] not in SSE_FIELDS]
    if unknown:
        head = unknown[0][:60].decode("utf-8", "replace")
        raise Malformed(f"not an SSE data line: {_one_line(head)}")
    return b"\n".join(data) if data else None


SSE_FIELDS = frozenset({b"data", b"event", b"id", b"retry"})


def _one_line(s: str) -> str:
    return " ".join(s.split())[:120]


def _short(exc: BaseException) -> str:
    return _one_line(str(exc))
