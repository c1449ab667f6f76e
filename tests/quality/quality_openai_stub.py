"""A tiny OpenAI-shaped server on 127.0.0.1 that answers golden items and misbehaves on request."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class FakeOpenAI:
    """Answers `answers[prompt]`; `fail_first[prompt]` 500s before answering; records bodies."""

    answers: dict[str, str] = field(default_factory=dict)
    fail_first: Counter[str] = field(default_factory=Counter)
    status: dict[str, int] = field(default_factory=dict)
    finish: dict[str, str] = field(default_factory=dict)
    bodies: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    gate: int = 0  # hold each request until this many are in flight (or all have started)
    expected_total: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    started: int = 0
    url: str = ""
    _cond: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.bodies.append(body)
        self.headers.append(dict(request.headers))
        self.paths.append(request.path)
        chat = request.path.endswith("/chat/completions")
        prompt = body["messages"][-1]["content"] if chat else body["prompt"]
        if self.fail_first[prompt] > 0:
            self.fail_first[prompt] -= 1
            return web.Response(status=500, text="boom")
        if prompt in self.status:
            return web.Response(status=self.status[prompt], text="nope")
        if prompt == "shapeless":
            return web.json_response({"object": "error", "choices": []})
        if prompt == "malformed":
            return web.Response(text="this is not json", content_type="application/json")
        async with self._cond:
            self.in_flight += 1
            self.started += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self._cond.notify_all()
            if self.gate:
                await asyncio.wait_for(
                    self._cond.wait_for(
                        lambda: self.in_flight >= self.gate or self.started >= self.expected_total
                    ),
                    timeout=10,
                )
            self.in_flight -= 1
        text = self.answers.get(prompt, "I don't know")
        tokens = [t for t in text.split(" ") if t] or [""]
        tops = [{t: -0.1, "<alt>": -2.5} for t in tokens]
        finish = self.finish.get(prompt, "stop")
        usage = {"prompt_tokens": len(prompt.split()), "completion_tokens": len(tokens)}
        if chat:
            content = [
                {"token": t, "logprob": -0.1, "bytes": None,
                 "top_logprobs": [{"token": k, "logprob": v} for k, v in top.items()]}
                for t, top in zip(tokens, tops, strict=True)
            ]  # fmt: skip
            choice: dict[str, Any] = {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "logprobs": {"content": content},
                "finish_reason": finish,
            }
        else:
            choice = {
                "index": 0,
                "text": text,
                "logprobs": {
                    "text_offset": list(range(len(tokens))),
                    "token_logprobs": [-0.1] * len(tokens),
                    "tokens": tokens,
                    "top_logprobs": tops,
                },
                "finish_reason": finish,
            }
        return web.json_response(
            {"id": "x", "object": "text_completion", "choices": [choice], "usage": usage}
        )
