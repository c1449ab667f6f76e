"""A chat server for multi-turn tests (real sockets): records every body, answers 'answer k'."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from fakevllm import serving


@dataclass
class ChatServer:
    """A chat server that records every body and answers request k with 'answer k'."""

    bodies: list[dict[str, Any]] = field(default_factory=list)
    fail: set[int] = field(default_factory=set)  # request numbers answered with HTTP 500

    def app(self) -> web.Application:
        async def models(_: web.Request) -> web.Response:
            return web.json_response({"data": [{"id": "m", "max_model_len": 100_000}]})

        async def chat(req: web.Request) -> web.StreamResponse:
            body = await req.json()
            self.bodies.append(body)
            k = len(self.bodies)
            if k in self.fail:
                return web.json_response({"error": "overloaded"}, status=500)
            resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
            await resp.prepare(req)
            for i, piece in enumerate(["answer", f" {k}"]):
                delta: dict[str, Any] = {"content": piece}
                if i == 0:
                    delta["role"] = "assistant"
                chunk = {"choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
                await resp.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
            end = {"choices": [{"index": 0, "delta": {}, "finish_reason": "length"}]}
            usage = {"choices": [], "usage": {"prompt_tokens": 10 * k, "completion_tokens": 2}}
            await resp.write(b"data: " + json.dumps(end).encode() + b"\n\n")
            await resp.write(b"data: " + json.dumps(usage).encode() + b"\n\ndata: [DONE]\n\n")
            return resp

        app = web.Application()
        app.router.add_get("/v1/models", models)
        app.router.add_post("/v1/chat/completions", chat)
        return app


@asynccontextmanager
async def chat_server(server: ChatServer) -> AsyncIterator[str]:
    async with serving(server.app()) as url:
        yield url
