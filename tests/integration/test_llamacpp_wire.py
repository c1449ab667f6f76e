"""qtui's client, scraper and quality parser on captured llama.cpp responses (no engine needed).

A replay server on 127.0.0.1 answers with the bytes llama-cpp-python 0.3.36 sent
(tests/fixtures/llamacpp/), so these run in the default suite in well under a second.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from aiohttp import web

from qtui.client.discovery import discover
from qtui.client.stream import Api, Prompt, StreamClient
from qtui.evidence.records import RequestRecord
from qtui.load.scraper import scrape_once
from qtui.quality.runner import parse_reply

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "llamacpp"
NOT_FOUND = (FIXTURES / "metrics.txt").read_text().split("\n\n", 1)[1]


def _captured(name: str) -> tuple[int, str, str]:
    head, body = (FIXTURES / name).read_text().split("\n\n", 1)
    status = int(head.splitlines()[0].split()[1])
    ctype = head.splitlines()[1].split(": ", 1)[1]
    return status, ctype, body


def _replay_app() -> web.Application:
    async def models(_: web.Request) -> web.Response:
        status, _ctype, body = _captured("v1_models.txt")
        return web.Response(status=status, text=body, content_type="application/json")

    def generate(stream_file: str, json_file: str):  # type: ignore[no-untyped-def]
        async def handler(request: web.Request) -> web.StreamResponse:
            body = await request.json()
            if not body.get("stream"):
                text = (FIXTURES / json_file).read_text()
                return web.Response(text=text, content_type="application/json")
            resp = web.StreamResponse(headers={"Content-Type": "text/event-stream; charset=utf-8"})
            await resp.prepare(request)
            for event in (FIXTURES / stream_file).read_bytes().split(b"\n\n"):
                if event.strip():
                    await resp.write(event + b"\n\n")
            await resp.write_eof()
            return resp

        return handler

    async def missing(_: web.Request) -> web.Response:
        return web.Response(status=404, text=NOT_FOUND, content_type="application/json")

    app = web.Application()
    app.router.add_get("/v1/models", models)
    app.router.add_post(
        "/v1/completions", generate("completions_stream.sse", "completions_logprobs.json")
    )
    app.router.add_post("/v1/chat/completions", generate("chat_stream.sse", "chat_logprobs.json"))
    for path in ("/metrics", "/version", "/health"):
        app.router.add_get(path, missing)
    return app


@pytest.fixture
async def replay() -> AsyncIterator[str]:
    runner = web.AppRunner(_replay_app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def _send(url: str, api: Api, max_tokens: int) -> RequestRecord:
    client = StreamClient("q4_1", url, "smollm2-135m-q4_1", api=api)
    try:
        return await client.send(Prompt("The capital of France is", max_tokens, 6), "r1")
    finally:
        await client.aclose()


async def test_a_stream_without_usage_is_counted_and_says_so(replay: str) -> None:
    rec = await _send(replay, "completions", 12)
    assert rec.ok, rec.error_detail
    assert rec.usage_source == "counted"
    assert rec.finish_reason == "length"
    assert rec.prompt_tokens == 6  # the workload's estimate


async def test_counted_completion_tokens_match_the_servers_own_count(replay: str) -> None:
    rec = await _send(replay, "completions", 12)
    server = json.loads((FIXTURES / "completions_logprobs.json").read_text())["usage"]
    assert rec.completion_tokens == server["completion_tokens"] == 12


async def test_counted_chat_tokens_skip_role_and_empty_chunks(replay: str) -> None:
    rec = await _send(replay, "chat", 10)
    assert rec.ok and rec.usage_source == "counted"
    assert rec.completion_tokens == 10
    assert len(rec.chunk_times) == 10


async def test_discovery_reads_the_model_id_and_leaves_version_unknown(replay: str) -> None:
    info = await discover(replay)
    assert info.model_id == "smollm2-135m-q4_1"
    assert info.root is None and info.max_model_len is None and info.version is None


async def test_a_server_without_health_route_is_not_reported_unhealthy(replay: str) -> None:
    info = await discover(replay)
    assert info.healthy
    assert "health" not in info.detail


async def test_no_metrics_route_is_not_exposed_not_unreachable(replay: str) -> None:
    async with httpx.AsyncClient() as http:
        snap, sec = await scrape_once(http, f"{replay}/metrics")
    assert snap is None
    assert sec.status == "not_exposed" and "not exposed" in sec.detail


def test_completion_logprobs_parse_into_tokens_and_top_k() -> None:
    data = json.loads((FIXTURES / "completions_logprobs.json").read_text())
    reply = parse_reply("completions", data)
    assert reply.tokens[:2] == [" Paris", "."]
    assert len(reply.tokens) == len(reply.top_logprobs) == reply.completion_tokens == 12
    assert all(len(top) <= 3 for top in reply.top_logprobs)
    assert reply.top_logprobs[0][" Paris"] == pytest.approx(-0.264419287443161)


def test_chat_logprobs_parse_into_tokens_and_top_k() -> None:
    data = json.loads((FIXTURES / "chat_logprobs.json").read_text())
    reply = parse_reply("chat", data)
    assert len(reply.tokens) == len(reply.top_logprobs) == reply.completion_tokens == 10
    assert all(len(top) == 3 for top in reply.top_logprobs)
    assert reply.finish_reason == "length"
