import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from aiohttp import web
from fakevllm import Behaviour, FakeServer, refused_url, serving

from qtui.client.stream import Prompt, StreamClient, build_payload
from qtui.evidence.records import RequestRecord

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "vllm"
P = Prompt("hello there", max_tokens=5, input_tokens=2)


async def _send(url: str, timeout: float = 10.0, api: str = "completions") -> RequestRecord:
    c = StreamClient("e", url, "fake-model", api, timeout_s=timeout)  # type: ignore[arg-type]
    try:
        return await c.send(P, "r1")
    finally:
        await c.aclose()


async def test_good_stream_records_every_chunk_and_server_usage() -> None:
    async with FakeServer() as url:
        r = await _send(url)
    assert r.ok and r.http_status == 200
    assert len(r.chunk_times) == 5 and r.chunk_times == sorted(r.chunk_times)
    assert (r.prompt_tokens, r.completion_tokens, r.usage_source) == (2, 5, "server")
    assert r.finish_reason == "length" and r.t_first_token is not None
    assert r.t_send <= r.t_first_token <= r.t_end


async def test_no_usage_chunk_falls_back_to_counting() -> None:
    async with FakeServer(Behaviour(stream="no_usage")) as url:
        r = await _send(url, api="chat")
    assert r.ok and r.completion_tokens == 5 and r.usage_source == "counted"
    assert r.prompt_tokens == 2  # the workload's estimate


@pytest.mark.parametrize(
    ("behaviour", "cls", "says"),
    [
        (Behaviour(stream="html"), "malformed", "text/event-stream"),
        (Behaviour(fail_first=5), "http", "HTTP 500"),
        (Behaviour(stream="garbage"), "malformed", "not JSON"),
        (Behaviour(stream="error_event"), "malformed", "boom"),
        (Behaviour(stream="disconnect"), "disconnect", ""),
    ],
)
async def test_bad_servers_become_error_classes(behaviour: Behaviour, cls: str, says: str) -> None:
    async with FakeServer(behaviour) as url:
        r = await _send(url)
    assert r.error_class == cls and says in r.error_detail
    assert "\n" not in r.error_detail


async def test_stall_mid_stream_times_out_keeping_chunks() -> None:
    async with FakeServer(Behaviour(stream="stall")) as url:
        r = await _send(url, timeout=0.5)
    assert r.error_class == "timeout" and len(r.chunk_times) == 2


async def test_refused_connection_is_connect_error() -> None:
    r = await _send(refused_url())
    assert r.error_class == "connect" and r.chunk_times == []


async def _cancelled_while_stalled() -> list[RequestRecord]:
    """One request to a server that stalls after two chunks, cancelled by its caller: the
    records it left (the cancellation propagates, as it must)."""
    got: list[RequestRecord] = []
    b = Behaviour(stream="stall")
    async with FakeServer(b) as url:
        c = StreamClient("e", url, "fake-model")
        task = asyncio.ensure_future(c.send(P, "r1", sink=got.append))
        await asyncio.wait_for(b.all_stalled.wait(), 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await c.aclose()
    return got


async def test_cancel_is_recorded_then_propagates() -> None:
    got = await _cancelled_while_stalled()
    assert len(got) == 1 and got[0].error_class == "cancelled" and len(got[0].chunk_times) == 2


async def test_real_vllm_capture_replayed() -> None:
    body = (FIX / "sse_completion_8000.txt").read_bytes()

    async def handler(_: web.Request) -> web.Response:
        return web.Response(body=body, content_type="text/event-stream")

    app = web.Application()
    app.router.add_post("/v1/completions", handler)
    async with serving(app) as url:
        r = await _send(url)
    assert r.ok and len(r.chunk_times) == 2  # two token chunks (15 tokens in the second)
    assert (r.prompt_tokens, r.completion_tokens) == (5, 16) and r.finish_reason == "length"


def test_payload_fixes_output_length() -> None:
    b = build_payload("completions", "m", Prompt("x", 64))
    assert b["ignore_eos"] and b["min_tokens"] == 64 and b["max_tokens"] == 64
    # a server that honours ignore_eos (vLLM) is not asked for min_tokens as well
    v = build_payload("completions", "m", Prompt("x", 64), min_tokens=False)
    assert v["ignore_eos"] and v["max_tokens"] == 64 and "min_tokens" not in v
    assert b["stream_options"] == {"include_usage": True}
    c = build_payload("chat", "m", Prompt("x", 8, fixed_output=False))
    assert c["messages"][0]["content"] == "x" and "ignore_eos" not in c
    # the chat limit under both names: vLLM reads the new one, llama-cpp-python only the old
    assert c["max_completion_tokens"] == c["max_tokens"] == 8


def test_payload_sends_a_conversations_history_before_the_turn() -> None:
    p = Prompt("q2", 8, history=(("system", "s"), ("user", "q1"), ("assistant", "a1")), turn=2)
    assert build_payload("chat", "m", p)["messages"] == [
        {"role": "system", "content": "s"},
        {"role": "user", "content": "q1"},
        {"role": "assistant", "content": "a1"},
        {"role": "user", "content": "q2"},
    ]


async def test_answer_text_is_kept_for_a_conversation_turn() -> None:
    """Every event is decoded (no learned fast path skips one): the text is whole, in order."""
    events = [_sse({"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]})]
    events += [_sse({"choices": [{"index": 0, "delta": {"content": f" w{i}"}}]}) for i in range(6)]
    events += [_sse({"choices": [{"index": 0, "delta": {}, "finish_reason": "length"}]})]
    events += [b"data: [DONE]\n\n"]

    async def handler(req: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(req)
        for ev in events:
            await resp.write(ev)
        return resp

    app = web.Application()
    app.router.add_post("/v1/chat/completions", handler)
    async with serving(app) as url:
        client = StreamClient("e", url, "m", "chat")
        answer: list[str] = []
        rec = await client.send(Prompt("q", 6, turn=3, conversation=7), "e-1", answer=answer)
        await client.aclose()
    assert rec.ok and len(rec.chunk_times) == 6 and (rec.turn, rec.conversation) == (3, 7)
    assert "".join(answer) == " w0 w1 w2 w3 w4 w5"


def _sse(obj: object) -> bytes:
    return b"data: " + json.dumps(obj).encode() + b"\n\n"


def _llamacpp_events(api: str, n: int) -> list[bytes]:
    """llama-cpp-python 0.3.36's stream shape: no usage; chat opens with a role-only chunk;
    one chunk per token; then an extra chunk with no text carrying finish_reason."""
    if api == "chat":
        first = [_sse({"choices": [{"index": 0, "delta": {"role": "assistant"}}]})]
        toks = [_sse({"choices": [{"index": 0, "delta": {"content": f" t{i}"}}]}) for i in range(n)]
        last = _sse({"choices": [{"index": 0, "delta": {}, "finish_reason": "length"}]})
    else:
        first = []
        toks = [_sse({"choices": [{"index": 0, "text": f" t{i}"}]}) for i in range(n)]
        last = _sse({"choices": [{"index": 0, "text": "", "finish_reason": "length"}]})
    return [*first, *toks, last, b"data: [DONE]\n\n"]


@asynccontextmanager
async def _stream_server(events: list[bytes]) -> AsyncIterator[str]:
    """A real HTTP server on 127.0.0.1 answering both APIs with these SSE events."""

    async def handler(request: web.Request) -> web.StreamResponse:
        await request.read()
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        for ev in events:
            await resp.write(ev)
        await resp.write_eof()
        return resp

    app = web.Application()
    app.router.add_post("/v1/completions", handler)
    app.router.add_post("/v1/chat/completions", handler)
    async with serving(app) as url:
        yield url


@pytest.mark.parametrize("api", ["completions", "chat"])
async def test_llamacpp_stream_counts_only_chunks_with_text(api: str) -> None:
    async with _stream_server(_llamacpp_events(api, 7)) as url:
        r = await _send(url, api=api)
    assert r.ok and r.usage_source == "counted" and r.finish_reason == "length"
    assert r.completion_tokens == 7 and len(r.chunk_times) == 7


async def test_stream_of_only_empty_chunks_is_answered_not_malformed() -> None:
    """vLLM chat when the first token is EOS: role chunk, empty stop chunk, usage (1 token)."""
    events = [
        _sse({"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}),
        _sse({"choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "stop"}]}),
        _sse({"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 1}}),
        b"data: [DONE]\n\n",
    ]
    async with _stream_server(events) as url:
        r = await _send(url, api="chat")
    assert r.ok and r.finish_reason == "stop" and r.chunk_times == []
    assert (r.completion_tokens, r.usage_source) == (1, "server")


@pytest.mark.parametrize(
    ("capture", "api", "chunks", "tokens"),
    [("sse_completion_8000.txt", "completions", 2, (5, 16)),
     ("sse_chat_8000.txt", "chat", 7, (42, 8))],
)  # fmt: skip
async def test_vllm_captures_keep_server_usage(
    capture: str, api: str, chunks: int, tokens: tuple[int, int]
) -> None:
    """vLLM's counts come from its usage chunk as before; its chat role chunk and the empty
    EOS chunk are not timed (7 content chunks of the 9 with choices)."""
    events = [e + b"\n\n" for e in (FIX / capture).read_bytes().split(b"\n\n") if e.strip()]
    async with _stream_server(events) as url:
        r = await _send(url, api=api)
    assert r.ok and r.usage_source == "server"
    assert (r.prompt_tokens, r.completion_tokens) == tokens and len(r.chunk_times) == chunks


@pytest.mark.parametrize("api", ["completions", "chat"])
async def test_crlf_sse_as_llama_cpp_sends_it(api: str) -> None:
    """llama-cpp-python's server ends SSE lines with \\r\\n; a \\r\\n may straddle two writes."""
    events = [ev.replace(b"\n", b"\r\n") for ev in _llamacpp_events(api, 5)]
    split = [part for ev in events for part in (ev[:-1], ev[-1:])]  # "...\r\n\r" | "\n"
    async with _stream_server(split) as url:
        r = await _send(url, api=api)
    assert r.ok, r.error_detail
    assert r.completion_tokens == 5 and len(r.chunk_times) == 5 and r.finish_reason == "length"


async def test_sse_events_with_other_fields_and_comments_are_read() -> None:
    events = [
        b": keep-alive\n\n",
        b"event: message\nid: 1\n" + _sse({"choices": [{"index": 0, "text": " a"}]}),
        _sse({"choices": [{"index": 0, "text": " b", "finish_reason": "length"}]}),
        b"data: [DONE]\n\n",
    ]
    async with _stream_server(events) as url:
        r = await _send(url)
    assert r.ok and r.completion_tokens == 2


async def test_a_non_sse_line_is_malformed() -> None:
    async with _stream_server([b"hello: world\n\n"]) as url:
        r = await _send(url)
    assert r.error_class == "malformed" and "not an SSE data line" in r.error_detail


async def test_silent_stream_is_a_stall_with_its_chunks_and_reason() -> None:
    async with FakeServer(Behaviour(stream="stall")) as url:
        c = StreamClient("e", url, "fake-model", timeout_s=60.0, stall_timeout_s=0.2)
        try:
            r = await c.send(P, "r1")
        finally:
            await c.aclose()
    assert r.error_class == "stall" and len(r.chunk_times) == 2
    assert "no byte for" in r.error_detail and "after 2 token chunks" in r.error_detail


async def test_first_token_wait_has_its_own_limit_and_is_not_a_stall() -> None:
    async def handler(req: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(req)  # headers sent, then no token: queued (or dead)
        await asyncio.Event().wait()
        return resp

    app = web.Application()
    app.router.add_post("/v1/completions", handler)
    async with serving(app) as url:
        c = StreamClient(
            "e", url, "fake-model", timeout_s=60.0, stall_timeout_s=0.05, ttft_timeout_s=0.3
        )
        try:
            r = await c.send(P, "r1")
        finally:
            await c.aclose()
    assert r.error_class == "timeout" and r.chunk_times == []


async def test_cancel_of_a_silent_stream_says_how_long_it_was_silent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import qtui.evidence.accounting as accounting

    monkeypatch.setattr(accounting, "SILENT_AT_STOP_S", 0.0)
    got = await _cancelled_while_stalled()
    assert got[0].error_class == "cancelled"
    assert got[0].error_detail.startswith("stopped by qtui; silent for ")
