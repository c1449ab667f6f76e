"""The streaming client against the one it replaced (issue 22), on the same recorded streams.

A server on 127.0.0.1 replays recorded SSE bodies (vLLM 0.26 and llama.cpp captures, plus
vLLM-shaped streams with the text a fast path could get wrong) cut into pieces in several ways
and framed chunked, by length or until close; `StreamClient` and the frozen pre-issue-22 aiohttp
client (aiohttp_reference.py) each stream every one, and what they record must agree: error
class, status, chunk count, token counts and their source, finish reason, the detail of SSE-level
errors, and chunk times in order within the request.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp_reference import ReferenceClient

from qtui.client.sse import SseReader
from qtui.client.stream import Api, Prompt, StreamClient
from qtui.evidence.records import RequestRecord

FIX = Path(__file__).resolve().parent.parent / "fixtures"
P = Prompt("hello there", max_tokens=5, input_tokens=2)


def _events(body: bytes) -> list[bytes]:
    return [e + b"\n\n" for e in body.split(b"\n\n") if e.strip()]


def _vllm_chunk(text: str | None, finish: str | None = None, **extra: Any) -> bytes:
    """A vLLM 0.26 chat chunk as it writes them (compact JSON, UTF-8 unescaped)."""
    delta = {} if text is None else {"content": text}
    obj = {
        "id": "chatcmpl-93a68799f22296d1", "object": "chat.completion.chunk",
        "created": 1795413593, "model": "smol-fp8",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish,
                     "token_ids": None}],
        **extra,
    }  # fmt: skip
    return b"data: " + json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode() + b"\n\n"


USAGE = (
    b'data: {"id":"chatcmpl-93a68799f22296d1","object":"chat.completion.chunk","created":'
    b'1795413593,"model":"smol-fp8","choices":[],"usage":{"prompt_tokens":42,"total_tokens":'
    b'54,"completion_tokens":12}}\n\n'
)
DONE = b"data: [DONE]\n\n"
# text that the learned shape must not count without decoding, or must count right
TRICKY = [" plain", "é", "line\nbreak", 'a "quote"', "back\\slash", "\u00e9\u4e2d", "tab\tx", "",
          'a","x":"', "\x7f", " end"]  # fmt: skip


def _streams() -> dict[str, bytes]:
    s: dict[str, bytes] = {}
    for name in ("sse_completion_8000", "sse_completion_8001", "sse_chat_8000", "sse_chat_8001"):
        s[f"vllm/{name}"] = (FIX / "vllm" / f"{name}.txt").read_bytes()
    for name in ("completions_stream", "chat_stream"):
        s[f"llamacpp/{name}"] = (FIX / "llamacpp" / f"{name}.sse").read_bytes()
    for name, body in list(s.items()):
        s[f"{name}+crlf"] = body.replace(b"\n", b"\r\n")
    role = _vllm_chunk("")  # vLLM's chat role chunk carries content ""
    long = [role, *(_vllm_chunk(f" t{i}") for i in range(60))]
    s["vllm-shaped/long"] = b"".join([*long, _vllm_chunk("", "length"), USAGE, DONE])
    tricky = [role, _vllm_chunk(" a"), *(_vllm_chunk(t) for t in TRICKY)]
    s["vllm-shaped/tricky-text"] = b"".join([*tricky, _vllm_chunk("", "stop"), USAGE, DONE])
    s["vllm-shaped/no-usage"] = b"".join([*long[:10], _vllm_chunk("", "stop"), DONE])
    s["vllm-shaped/no-done-no-finish"] = b"".join(long[:10])
    s["vllm-shaped/finish-no-done"] = b"".join([*long[:10], _vllm_chunk("", "length")])
    s["vllm-shaped/garbage-mid-stream"] = b"".join([*long[:5], b'data: {"id":"chatcmpl-9\n\n'])
    learned = long[3].decode()
    s["vllm-shaped/bad-json-in-shape"] = b"".join(
        [*long[:5], learned.replace(' t2"', ' t2\\q"').encode(), *long[5:8], DONE]
    )  # "\q" is no JSON escape: must be malformed like before, not counted
    s["vllm-shaped/error-mid-stream"] = b"".join(
        [*long[:5], b'data: {"error":{"message":"out of\\nmemory","code":500}}\n\n']
    )
    s["vllm-shaped/no-choices"] = b"".join([USAGE, DONE])
    s["vllm-shaped/comments-and-fields"] = b"".join(
        [b": ping\n\n", role, b"event: message\nid: 7\n" + long[1], b"retry: 10\n\n", *long[2:6],
         b'data: {"choices":[{"index":0,\ndata: "text":" two lines"}]}\n\n',
         _vllm_chunk("", "stop"), DONE]
    )  # fmt: skip
    s["vllm-shaped/extra-usage-null"] = b"".join(
        [role, *(_vllm_chunk(f" u{i}", usage=None) for i in range(8)),
         _vllm_chunk("", "stop", usage=None), USAGE, DONE]
    )  # fmt: skip
    s["vllm-shaped/not-sse"] = b"hello: world\n\n"
    return s


STREAMS = _streams()


def _cuts(body: bytes, how: str) -> list[bytes]:
    if how == "events":
        return _events(body) if b"\r\n" not in body else _events_crlf(body)
    if how == "whole":
        return [body]
    if how == "7-bytes":
        return [body[i : i + 7] for i in range(0, len(body), 7)]
    # each event without its last byte, then that byte (a blank line straddles two writes)
    return [p for ev in _cuts(body, "events") for p in (ev[:-1], ev[-1:])]


def _events_crlf(body: bytes) -> list[bytes]:
    return [e + b"\r\n\r\n" for e in body.split(b"\r\n\r\n") if e.strip()]


@dataclass
class Replay:
    """What the next request is answered with, and what the requests carried."""

    pieces: list[bytes] = field(default_factory=list)
    framing: str = "chunked"
    status: int = 200
    auth: list[str] = field(default_factory=list)
    connections: int = 0


@asynccontextmanager
async def replaying(r: Replay) -> AsyncIterator[str]:
    """An HTTP/1.1 server on 127.0.0.1 writing ``r.pieces`` one write (and drain) each."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        r.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                m = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
                await reader.readexactly(int(m.group(1)) if m else 0)
                a = re.search(rb"(?i)\r\nauthorization: *([^\r]*)", head)
                r.auth.append(a.group(1).decode() if a else "")
                pieces = [p for p in r.pieces if p]
                status = f"HTTP/1.1 {r.status} {'OK' if r.status == 200 else 'Error'}\r\n"
                ctype = "text/event-stream" if r.status == 200 else "application/json"
                hdr = f"{status}Content-Type: {ctype}\r\n"
                if r.framing.startswith("chunked"):
                    writer.write(f"{hdr}Transfer-Encoding: chunked\r\n\r\n".encode())
                    for i, p in enumerate(pieces):
                        ext = b";x=1" if r.framing == "chunked+ext" and i % 3 == 0 else b""
                        writer.write(b"%x%s\r\n%s\r\n" % (len(p), ext, p))
                        await writer.drain()
                    trailer = b"X-Done: 1\r\n" if r.framing == "chunked+ext" else b""
                    writer.write(b"0\r\n" + trailer + b"\r\n")
                elif r.framing == "length":
                    n = sum(len(p) for p in pieces)
                    writer.write(f"{hdr}Content-Length: {n}\r\n\r\n".encode())
                    for p in pieces:
                        writer.write(p)
                        await writer.drain()
                else:  # until close
                    writer.write(f"{hdr}Connection: close\r\n\r\n".encode())
                    for p in pieces:
                        writer.write(p)
                        await writer.drain()
                    break
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        await server.wait_closed()


def _figures(rec: RequestRecord) -> tuple[Any, ...]:
    """Everything both clients must agree on (transport-level details are worded by each)."""
    transport = rec.error_class == "disconnect" and not rec.error_detail.startswith("stream ")
    return (
        rec.error_class, rec.http_status, len(rec.chunk_times), rec.prompt_tokens,
        rec.completion_tokens, rec.usage_source, rec.finish_reason,
        "" if transport else rec.error_detail,
    )  # fmt: skip


def _times_ok(rec: RequestRecord) -> None:
    c = rec.chunk_times
    assert c == sorted(c) and all(0 <= t <= rec.t_end - rec.t_send for t in c)
    if c and rec.ok:  # a failed request keeps its chunk times but no first-token time
        assert rec.t_first_token == pytest.approx(rec.t_send + c[0])
        assert rec.ttft == c[0] and rec.e2e == c[-1]


def _api(name: str) -> Api:
    return "chat" if "chat" in name or "vllm-shaped" in name else "completions"


@pytest.mark.parametrize("framing", ["chunked", "chunked+ext", "length", "close"])
async def test_every_recorded_stream_records_the_same_as_before(framing: str) -> None:
    r = Replay(framing=framing)
    async with replaying(r) as url:
        apis: tuple[Api, ...] = ("chat", "completions")
        new = {api: StreamClient("e", url, "m", api, key="sk-test") for api in apis}
        old = {api: ReferenceClient("e", url, "m", api, key="sk-test") for api in apis}
        compared = 0
        try:
            for name, body in STREAMS.items():
                for how in ("events", "whole", "7-bytes", "straddle"):
                    r.pieces = _cuts(body, how)
                    a = await new[_api(name)].send(P, "r1")
                    b = await old[_api(name)].send(P, "r1")
                    assert _figures(a) == _figures(b), (name, how)
                    _times_ok(a)
                    _times_ok(b)
                    compared += 1
        finally:
            for c in (*new.values(), *old.values()):
                await c.aclose()
    assert compared == 4 * len(STREAMS)
    assert set(r.auth) == {"Bearer sk-test"}
    if framing != "close":  # keep-alive: far fewer connections than requests
        assert r.connections < compared


async def test_expected_outcomes_of_the_replayed_streams() -> None:
    """Both agreeing is not enough: what they agree on is what the streams say."""
    r = Replay(framing="chunked")
    got: dict[str, RequestRecord] = {}
    async with replaying(r) as url:
        apis: tuple[Api, ...] = ("chat", "completions")
        c = {api: StreamClient("e", url, "m", api) for api in apis}
        for name, body in STREAMS.items():
            r.pieces = _events(body) if b"\r\n" not in body else _events_crlf(body)
            got[name] = await c[_api(name)].send(P, "r1")
        for x in c.values():
            await x.aclose()
    assert _figures(got["vllm/sse_chat_8000"])[:7] == (
        "none", 200, 7, 42, 8, "server", "stop"
    )  # fmt: skip
    assert len(got["vllm/sse_completion_8000"].chunk_times) == 2
    # a usage of 12 tokens for 60 token chunks cannot be right: counted from the stream
    assert got["vllm-shaped/long"].completion_tokens == 60
    assert got["vllm-shaped/long"].usage_source == "counted"
    assert got["vllm-shaped/tricky-text"].usage_source == "server"  # 12 tokens, 10 chunks
    assert len(got["vllm-shaped/long"].chunk_times) == 60
    assert len(got["vllm-shaped/tricky-text"].chunk_times) == 1 + len(TRICKY) - 1  # "" is none
    assert got["vllm-shaped/no-usage"].usage_source == "counted"
    assert got["vllm-shaped/no-usage"].completion_tokens == 9
    assert got["vllm-shaped/no-done-no-finish"].error_class == "disconnect"
    assert got["vllm-shaped/finish-no-done"].ok
    for bad in ("garbage-mid-stream", "bad-json-in-shape", "error-mid-stream", "no-choices"):
        assert got[f"vllm-shaped/{bad}"].error_class == "malformed", bad
    assert "out of memory" in got["vllm-shaped/error-mid-stream"].error_detail
    assert got["vllm-shaped/comments-and-fields"].ok
    assert got["vllm-shaped/not-sse"].error_class == "malformed"


async def test_http_errors_and_the_key_are_recorded_as_before() -> None:
    r = Replay(status=503, pieces=[b'{"error": "overloaded, retry later"}'])
    async with replaying(r) as url:
        a = StreamClient("e", url, "m", key="sk-secret-1")
        b = ReferenceClient("e", url, "m", key="sk-secret-1")
        ra, rb = await a.send(P, "r1"), await b.send(P, "r1")
        await a.aclose()
        await b.aclose()
    assert _figures(ra) == _figures(rb)
    assert ra.error_class == "http" and ra.error_detail.startswith("HTTP 503: {")
    assert "sk-secret-1" not in json.dumps(ra.to_dict())
    assert r.auth == ["Bearer sk-secret-1"] * 2


@pytest.mark.parametrize("name", list(STREAMS))
def test_any_cut_of_a_stream_reads_the_same(name: str) -> None:
    """The SSE reader cut at every byte: the same figures as the stream in one piece."""

    class Count:
        chunks = text_bytes = 0

    def read(pieces: list[bytes]) -> tuple[Any, ...]:
        count = Count()
        rd = SseReader([], count)
        try:
            n = sum(rd.feed(p, float(i)) for i, p in enumerate(pieces))
        except Exception as exc:
            return ("raised", type(exc).__name__, str(exc))
        assert (count.chunks, count.text_bytes) == (n, rd.text_bytes)
        return (n, len(rd.times), rd.text_bytes, rd.done, rd.answered, rd.finish_reason, rd.usage)

    body = STREAMS[name]
    whole = read([body])
    for i in range(1, len(body)):
        assert read([body[:i], body[i:]]) == whole, i


def test_the_learned_shape_is_used_on_vllm_streams() -> None:
    """The point of it: after the first token chunks, plain ones are counted undecoded."""

    class Count:
        chunks = text_bytes = 0

    count = Count()
    rd = SseReader([], count)
    for ev in _events(STREAMS["vllm-shaped/long"]):
        rd.feed(ev, 0.0)
    assert rd.prefix is not None and rd.prefix.startswith(b'data: {"id":"chatcmpl-')
    assert len(rd.times) == 60 and count.chunks == 60 and rd.done


def _decoded_text_bytes(body: bytes) -> int | None:
    """UTF-8 bytes of every token chunk's text, by json.loads of every event (None: the
    stream does not parse, so there is nothing to agree on)."""
    total = 0
    for ev in body.replace(b"\r\n", b"\n").split(b"\n\n"):
        data = b"\n".join(ln[5:].strip() for ln in ev.split(b"\n") if ln.startswith(b"data:"))
        if not data or data == b"[DONE]":
            continue
        try:
            obj = json.loads(data)
        except ValueError:
            return None
        choices = obj.get("choices") if isinstance(obj, dict) else None
        if not choices or not isinstance(choices[0], dict):
            continue
        c = choices[0]
        if c.get("text"):
            total += len(c["text"].encode())
        elif isinstance(c.get("delta"), dict):
            keys = ("content", "reasoning_content", "reasoning")
            total += sum(len(v.encode()) for k in keys if isinstance(v := c["delta"].get(k), str))
    return total


@pytest.mark.parametrize("name", list(STREAMS))
def test_the_text_bytes_are_those_of_every_token_chunk_decoded(name: str) -> None:
    """What a cut stream is worth is its text's bytes (qtui.metrics.stats.tokens_per_byte): the
    learned shape counts them undecoded, and must count what decoding every event gives: event
    by event (its one-event path), in one piece and in pieces of every size up to 64 bytes."""

    class Count:
        chunks = text_bytes = 0

    body = STREAMS[name]
    truth = _decoded_text_bytes(body)
    if truth is None:
        pytest.skip("not a stream that parses")
    events = body.split(b"\n\n")
    by_event = [e + b"\n\n" for e in events[:-1]] + ([events[-1]] if events[-1] else [])
    for size in (0, len(body), *range(1, 65)):
        count = Count()
        rd = SseReader([], count)
        pieces = by_event if size == 0 else [body[i : i + size] for i in range(0, len(body), size)]
        try:
            for piece in pieces:
                rd.feed(piece, 0.0)
        except Exception:
            pytest.skip("a stream the reader refuses (its own test covers it)")
        assert rd.text_bytes == count.text_bytes == truth, size
