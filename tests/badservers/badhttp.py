"""Misbehaving OpenAI-compatible servers for the bad-server suite: tiny aiohttp apps on
127.0.0.1, served from one background thread (its own event loop) so `qtui bench` can run its
own loop in the test's thread. Real sockets; each app counts the requests it received."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

MODEL = "bad-model"
GOOD_METRICS = (
    "# TYPE vllm:num_requests_running gauge\n"
    f'vllm:num_requests_running{{model_name="{MODEL}"}} 0.0\n'
)


@dataclass
class Bad:
    """How one server behaves; the defaults are a well-behaved vLLM."""

    stream: str = "ok"  # ok | html | garbage | stall | one_chunk_close | http500 | no_usage |
    # wrong_usage
    metrics: str = "ok"  # ok | garbage
    models_hang: bool = False  # /v1/models never answers
    status_first: int = 0  # answer `status` (with Retry-After) to this many requests first
    status: int = 429
    retry_after: str = "1"
    tokens: int = 4
    token_delay_s: float = 0.0
    on_request: Callable[[int], None] | None = None  # called with each completion's number
    received: int = 0  # completion requests received
    stalled: asyncio.Event = field(default_factory=asyncio.Event)


def _chunk(text: str, finish: str | None = None) -> bytes:
    obj = {
        "id": "cmpl-x",
        "object": "text_completion",
        "model": MODEL,
        "choices": [{"index": 0, "text": text, "finish_reason": finish}],
    }
    return b"data: " + json.dumps(obj).encode() + b"\n\n"


def _usage(n: int, wrong: bool) -> bytes:
    usage: dict[str, Any] = {"prompt_tokens": 8, "completion_tokens": n, "total_tokens": 8 + n}
    if wrong:  # fewer tokens than the token chunks it sent, and a string for the prompt
        usage = {"prompt_tokens": "eight", "completion_tokens": 0, "total_tokens": 0}
    return b"data: " + json.dumps({"choices": [], "usage": usage}).encode() + b"\n\n"


def make_app(b: Bad) -> web.Application:
    html = "<html><body>502 Bad Gateway</body></html>"

    async def models(_: web.Request) -> web.StreamResponse:
        if b.stream == "html":
            return web.Response(text=html, content_type="text/html")
        if b.models_hang:
            await asyncio.Event().wait()
        return web.json_response(
            {"object": "list", "data": [{"id": MODEL, "root": MODEL, "max_model_len": 4096}]}
        )

    async def other(_: web.Request) -> web.Response:
        if b.stream == "html":
            return web.Response(text=html, content_type="text/html")
        return web.json_response({"version": "0.26.0-bad"})

    async def metrics(_: web.Request) -> web.Response:
        if b.stream == "html" or b.metrics == "garbage":
            return web.Response(text="hello, this is not Prometheus {{{", content_type="text/plain")
        return web.Response(text=GOOD_METRICS, content_type="text/plain")

    async def completions(req: web.Request) -> web.StreamResponse:
        b.received += 1
        if b.on_request is not None:
            b.on_request(b.received)
        if b.stream == "html":
            return web.Response(text=html, content_type="text/html")
        if b.stream == "http500":
            return web.json_response({"error": "internal error"}, status=500)
        if b.received <= b.status_first:
            return web.json_response(
                {"error": "slow down"}, status=b.status, headers={"Retry-After": b.retry_after}
            )
        await req.read()
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(req)
        if b.stream == "garbage":
            await resp.write(b"data: <not json at all>\n\n")
            await resp.write_eof()
            return resp
        n = b.tokens
        for i in range(n):
            if b.token_delay_s:
                await asyncio.sleep(b.token_delay_s)
            if b.stream == "stall" and i == 2:
                b.stalled.set()
                await asyncio.Event().wait()  # forever, until the client goes away
            await resp.write(_chunk(f" t{i}", "length" if i == n - 1 else None))
            if b.stream == "one_chunk_close":
                assert req.transport is not None
                req.transport.close()
                return resp
        if b.stream != "no_usage":
            await resp.write(_usage(n, b.stream == "wrong_usage"))
        await resp.write(b"data: [DONE]\n\n")
        return resp

    app = web.Application()
    app.router.add_get("/v1/models", models)
    app.router.add_get("/version", other)
    app.router.add_get("/health", other)
    app.router.add_get("/metrics", metrics)
    app.router.add_post("/v1/completions", completions)
    app.router.add_post("/v1/chat/completions", completions)
    return app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def refused_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (connections are refused)."""
    return f"http://127.0.0.1:{free_port()}"


class Servers:
    """Serves apps on 127.0.0.1 from one background thread; start/stop one at any time."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.runners: dict[int, web.AppRunner] = {}
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def _call(self, coro: Awaitable[Any]) -> Any:
        async def wrap() -> Any:
            return await coro

        return asyncio.run_coroutine_threadsafe(wrap(), self.loop).result(30)

    def start(self, b: Bad, port: int = 0) -> str:
        """Serve ``b``'s app (on ``port``, or a free one); returns its base URL."""

        async def up() -> int:
            runner = web.AppRunner(make_app(b), handle_signals=False, shutdown_timeout=0.1)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", port, reuse_address=True)
            await site.start()
            p = int(runner.addresses[0][1])
            self.runners[p] = runner
            return p

        return f"http://127.0.0.1:{self._call(up())}"

    def stop(self, url: str) -> None:
        """Stop the server at ``url`` (its port refuses connections afterwards)."""
        port = int(url.rsplit(":", 1)[1])
        runner = self.runners.pop(port)
        self._call(runner.cleanup())

    def close(self) -> None:
        for port in list(self.runners):
            self.stop(f"http://127.0.0.1:{port}")

        async def cancel_rest() -> None:  # handlers that hang on purpose (stall, slow models)
            rest = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in rest:
                t.cancel()
            await asyncio.gather(*rest, return_exceptions=True)

        self._call(cancel_rest())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@contextmanager
def servers() -> Iterator[Servers]:
    s = Servers()
    try:
        yield s
    finally:
        s.close()


def main() -> None:
    """`python badhttp.py PORT`: a good server on PORT (a real process, to kill and restart);
    prints one line per completion request it answers."""
    import sys

    port = int(sys.argv[1])

    def said(n: int) -> None:
        print(f"request {n}", flush=True)

    async def serve() -> None:
        runner = web.AppRunner(
            make_app(Bad(on_request=said, token_delay_s=0.02)), handle_signals=True
        )
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port, reuse_address=True).start()
        print("ready", flush=True)
        await asyncio.Event().wait()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
