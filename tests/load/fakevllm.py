"""A tiny vLLM-shaped aiohttp server for tests, with switchable bad behaviours (real sockets)."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class Behaviour:
    """How the fake misbehaves; defaults give a well-behaved vLLM."""

    stream: str = "ok"  # ok | html | garbage | stall | disconnect | no_usage | error_event
    fail_first: int = 0  # answer HTTP 500 (fail_status) to this many requests first
    fail_status: int = 500
    retry_after: str | None = None  # the failing answers' Retry-After header
    metrics: str = "ok"  # ok | html | 404
    token_delay_s: float = 0.0
    model: str = "fake-model"
    root: str = "/models/fake-model"
    stalled: int = 0  # streams now stalled
    stall_target: int = 1
    all_stalled: asyncio.Event = field(default_factory=asyncio.Event)  # stalled >= stall_target
    served: dict[str, float] = field(
        default_factory=lambda: {"requests": 0, "prompt": 0, "generation": 0}
    )
    version: bool = True  # answer /version as vLLM does (False: 404, as llama-cpp-python)
    bodies: list[dict] = field(default_factory=list)  # every generation request's JSON body
    # the first merge_first answers come at once, merge_k tokens to a chunk (a saturated vLLM
    # frontend's merged outputs); later ones one token a chunk, paced by token_delay_s
    merge_first: int = 0
    merge_k: int = 8
    token_text: str = ""  # every token's text (else " t<i>")


def _chunk(i: int, text: str, finish: str | None = None) -> bytes:
    obj = {
        "id": "cmpl-x",
        "object": "text_completion",
        "model": "fake-model",
        "choices": [{"index": 0, "text": text, "finish_reason": finish}],
    }
    return b"data: " + json.dumps(obj).encode() + b"\n\n"


def make_app(b: Behaviour) -> web.Application:
    count = {"n": 0}

    async def models(_: web.Request) -> web.Response:
        return web.json_response(
            {"object": "list", "data": [{"id": b.model, "root": b.root, "max_model_len": 4096}]}
        )

    async def version(_: web.Request) -> web.Response:
        if not b.version:
            return web.json_response({"detail": "Not Found"}, status=404)
        return web.json_response({"version": "0.26.0-fake"})

    async def health(_: web.Request) -> web.Response:
        return web.Response(text="")

    async def metrics(_: web.Request) -> web.Response:
        if b.metrics == "404":
            raise web.HTTPNotFound()
        if b.metrics == "html":
            return web.Response(text="<html><body>hello</body></html>", content_type="text/html")
        s = b.served
        text = (
            "# TYPE vllm:num_requests_running gauge\n"
            f'vllm:num_requests_running{{model_name="{b.model}"}} 0.0\n'
            "# TYPE vllm:prompt_tokens counter\n"
            f'vllm:prompt_tokens_total{{model_name="{b.model}"}} {s["prompt"]}\n'
            "# TYPE vllm:generation_tokens counter\n"
            f'vllm:generation_tokens_total{{model_name="{b.model}"}} {s["generation"]}\n'
            "# TYPE vllm:request_success counter\n"
            f'vllm:request_success_total{{finished_reason="length",model_name="{b.model}"}} '
            f"{s['requests']}\n"
        )
        return web.Response(text=text, content_type="text/plain")

    async def completions(req: web.Request) -> web.StreamResponse:
        body = await req.json()
        b.bodies.append(body)
        count["n"] += 1
        if count["n"] <= b.fail_first:
            headers = {"Retry-After": b.retry_after} if b.retry_after else None
            return web.json_response({"error": "overloaded"}, status=b.fail_status, headers=headers)
        if b.stream == "html":
            return web.Response(text="<html>proxy error</html>", content_type="text/html")
        n = int(body.get("max_tokens") or body.get("max_completion_tokens") or 8)
        prompt = body.get("prompt") or json.dumps(body.get("messages"))
        n_prompt = len(str(prompt).split())
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(req)
        if b.stream == "garbage":
            await resp.write(b"data: {this is not json\n\n")
            await resp.write_eof()
            return resp
        if b.stream == "error_event":
            await resp.write(b'data: {"error": {"message": "boom"}}\n\n')
            await resp.write_eof()
            return resp
        merged = count["n"] <= b.fail_first + b.merge_first if b.merge_first else False
        for i in range(0, n, b.merge_k) if merged else ():
            k = min(b.merge_k, n - i)
            await resp.write(_chunk(i, b.token_text * k, "length" if i + k >= n else None))
        for i in range(0 if not merged else n, n):
            if b.token_delay_s:
                await asyncio.sleep(b.token_delay_s)
            if b.stream == "stall" and i == 2:
                b.stalled += 1
                if b.stalled >= b.stall_target:
                    b.all_stalled.set()
                await asyncio.Event().wait()  # forever, until the client goes away
            if b.stream == "disconnect" and i == 2:
                assert req.transport is not None
                req.transport.close()
                return resp
            text = b.token_text or f" t{i}"
            await resp.write(_chunk(i, text, "length" if i == n - 1 else None))
        if b.stream != "no_usage":
            usage = {
                "prompt_tokens": n_prompt,
                "completion_tokens": n,
                "total_tokens": n_prompt + n,
            }
            await resp.write(
                b"data: " + json.dumps({"choices": [], "usage": usage}).encode() + b"\n\n"
            )
        await resp.write(b"data: [DONE]\n\n")
        s = b.served
        s["requests"] += 1
        s["prompt"] += n_prompt
        s["generation"] += n
        return resp

    app = web.Application()
    app.router.add_get("/v1/models", models)
    app.router.add_get("/version", version)
    app.router.add_get("/health", health)
    app.router.add_get("/metrics", metrics)
    app.router.add_post("/v1/completions", completions)
    app.router.add_post("/v1/chat/completions", completions)
    return app


@asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[str]:
    """`async with serving(app) as url:` serves any aiohttp app on 127.0.0.1:<free port>."""
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


class FakeServer:
    """`async with FakeServer(Behaviour(...)) as url:` serves on 127.0.0.1:<free port>."""

    def __init__(self, b: Behaviour | None = None) -> None:
        self.b = b or Behaviour()
        self._serving: AbstractAsyncContextManager[str] | None = None

    async def __aenter__(self) -> str:
        self._serving = serving(make_app(self.b))
        return await self._serving.__aenter__()

    async def __aexit__(self, *exc: object) -> None:
        assert self._serving is not None
        await self._serving.__aexit__(None, None, None)


def refused_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (connections are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"
