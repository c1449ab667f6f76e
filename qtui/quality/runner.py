"""Send every golden item to every endpoint (greedy, seeded, logprobs on) and record the outcome.

The I/O shell around the pure checkers: httpx, bounded concurrency per endpoint, retries on
transport errors (connect, timeout, 5xx, 429) counted per item.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from qtui.config.profile import Endpoint
from qtui.errors import ConfigError
from qtui.evidence.records import QualityRecord
from qtui.quality.checkers import judge
from qtui.quality.golden import GoldenItem

Api = Literal["completions", "chat"]
ProgressFn = Callable[[QualityRecord, int, int], None]  # (record, done, total)


@dataclass(frozen=True)
class QualityTarget:
    """One endpoint as the runner needs it; the API key is kept out of repr and records."""

    name: str
    base_url: str  # with or without a trailing /v1
    model: str  # the served model id
    api: Api = "completions"
    api_key: str | None = field(default=None, repr=False)

    @classmethod
    def from_endpoint(
        cls,
        endpoint: Endpoint,
        api: Api = "completions",
        *,
        base_url: str | None = None,
        model: str | None = None,
    ) -> QualityTarget:
        """Build from a profile endpoint; base_url/model override the profile (sim, discovery)."""
        url = base_url or endpoint.url
        served = model or endpoint.model
        if not url:
            raise ConfigError(f"endpoint {endpoint.name}: no url to send golden items to")
        if not served:
            raise ConfigError(
                f"endpoint {endpoint.name}: served model id unknown; set model = ... in the profile"
            )
        key = None
        if endpoint.api_key_env:
            key = os.environ.get(endpoint.api_key_env)
            if not key:
                raise ConfigError(
                    f"endpoint {endpoint.name}: environment variable {endpoint.api_key_env} "
                    "(api_key_env) is not set"
                )
        return cls(endpoint.name, url, served, api, key)

    def url_for(self, api: Api) -> str:
        base = self.base_url.rstrip("/")
        if not base.endswith("/v1"):
            base += "/v1"
        return f"{base}/chat/completions" if api == "chat" else f"{base}/completions"


@dataclass(frozen=True)
class _Reply:
    text: str
    finish_reason: str | None
    tokens: list[str]
    top_logprobs: list[dict[str, float]]
    prompt_tokens: int | None
    completion_tokens: int | None


class _Malformed(Exception):
    """The server answered 2xx with something that is not an OpenAI-shaped completion."""


def request_body(
    item: GoldenItem, target: QualityTarget, seed: int, top_k: int
) -> tuple[Api, dict[str, Any]]:
    """The API to use and the JSON body: chat when the item has messages or the target is chat."""
    common: dict[str, Any] = {
        "model": target.model,
        "max_tokens": item.max_tokens,
        "temperature": 0.0,
        "seed": seed,
        "stream": False,
    }
    if item.messages is not None or target.api == "chat":
        messages = (
            [m.model_dump() for m in item.messages]
            if item.messages is not None
            else [{"role": "user", "content": item.prompt}]
        )
        return "chat", {**common, "messages": messages, "logprobs": True, "top_logprobs": top_k}
    return "completions", {**common, "prompt": item.prompt, "logprobs": top_k}


def _top(raw: Any) -> dict[str, float]:
    if not isinstance(raw, dict):
        return {}
    return {str(k): float(v) for k, v in raw.items() if isinstance(v, int | float)}


def parse_reply(api: Api, data: Any) -> _Reply:
    """Text, finish reason, tokens and top logprobs from a non-streamed response."""
    try:
        choice = data["choices"][0]
        lp = choice.get("logprobs") or {}
        if api == "chat":
            text = choice["message"].get("content") or ""
            content = lp.get("content") or []
            tokens = [str(c["token"]) for c in content]
            top = [
                {
                    str(t["token"]): float(t["logprob"])
                    for t in c.get("top_logprobs") or []
                    if isinstance(t.get("logprob"), int | float)
                }
                for c in content
            ]
        else:
            text = choice["text"]
            tokens = [str(t) for t in lp.get("tokens") or []]
            top = [_top(d) for d in lp.get("top_logprobs") or []]
        usage = data.get("usage") or {}
    except (KeyError, IndexError, TypeError, AttributeError, ValueError) as exc:
        raise _Malformed(f"malformed response ({type(exc).__name__}: {exc})") from None
    if not isinstance(text, str):
        raise _Malformed("malformed response (text is not a string)")
    completion = usage.get("completion_tokens")
    return _Reply(
        text=text,
        finish_reason=choice.get("finish_reason"),
        tokens=tokens,
        top_logprobs=top,
        prompt_tokens=usage.get("prompt_tokens"),
        completion_tokens=completion if completion is not None else (len(tokens) or None),
    )


async def _ask(
    client: httpx.AsyncClient,
    item: GoldenItem,
    target: QualityTarget,
    *,
    seed: int,
    top_k: int,
    timeout_s: float,
    max_retries: int,
    backoff_s: float,
) -> QualityRecord:
    api, body = request_body(item, target, seed, top_k)
    headers = {"Authorization": f"Bearer {target.api_key}"} if target.api_key else {}
    retries = 0
    while True:
        t0 = time.perf_counter()
        retryable = False
        reply: _Reply | None = None
        try:
            resp = await client.post(
                target.url_for(api), json=body, headers=headers, timeout=timeout_s
            )
            if resp.status_code >= 500 or resp.status_code == 429:
                retryable, detail = True, f"HTTP {resp.status_code}"
            elif resp.status_code >= 400:
                detail = f"HTTP {resp.status_code}: {resp.text[:200]}"
            else:
                reply, detail = parse_reply(api, resp.json()), ""
        except httpx.TransportError as exc:
            retryable, detail = True, f"{type(exc).__name__}: {exc}"[:200]
        except _Malformed as exc:
            detail = str(exc)[:200]
        except ValueError:
            detail = "malformed response (body is not JSON)"
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            detail = f"{type(exc).__name__}: {exc}"[:200]
        latency = time.perf_counter() - t0
        if reply is None and retryable and retries < max_retries:
            retries += 1
            await asyncio.sleep(backoff_s * 2 ** (retries - 1))
            continue
        break
    labels = list(item.labels)
    if reply is None:
        return QualityRecord(
            endpoint=target.name, item_id=item.id, passed=False, reason="error",
            latency_s=latency, retries=retries, check=item.check.type, tags=labels,
            detail=detail, t=time.time(),
        )  # fmt: skip
    passed, reason, why = judge(item.check, item.expected, reply.text, reply.finish_reason)
    return QualityRecord(
        endpoint=target.name,
        item_id=item.id,
        passed=passed,
        reason=reason,
        latency_s=latency,
        prompt_tokens=reply.prompt_tokens,
        completion_tokens=reply.completion_tokens,
        retries=retries,
        output_text=reply.text,
        tokens=reply.tokens,
        top_logprobs=reply.top_logprobs,
        finish_reason=reply.finish_reason,
        check=item.check.type,
        tags=labels,
        detail=why,
        t=time.time(),
    )


async def run_quality(
    items: Sequence[GoldenItem],
    targets: Sequence[QualityTarget],
    *,
    concurrency: int = 8,
    max_retries: int = 2,
    timeout_s: float = 120.0,
    seed: int = 0,
    top_k: int = 5,
    backoff_s: float = 0.25,
    on_record: ProgressFn | None = None,
    client: httpx.AsyncClient | None = None,
) -> list[QualityRecord]:
    """Every item × every target; at most `concurrency` requests in flight per target.

    Records come back ordered by target then item; `on_record` sees each as it completes, so a
    caller journaling from it keeps everything done so far if the run is cancelled.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    names = [t.name for t in targets]
    if len(set(names)) != len(names):
        raise ConfigError(f"duplicate endpoint names in quality targets: {names}")
    total = len(items) * len(targets)
    done = 0
    results: dict[tuple[int, int], QualityRecord] = {}
    own = client is None
    http = client or httpx.AsyncClient(
        limits=httpx.Limits(max_connections=concurrency * max(1, len(targets)))
    )

    async def one(ti: int, ii: int, sem: asyncio.Semaphore) -> None:
        nonlocal done
        async with sem:
            rec = await _ask(
                http, items[ii], targets[ti], seed=seed, top_k=top_k, timeout_s=timeout_s,
                max_retries=max_retries, backoff_s=backoff_s,
            )  # fmt: skip
        results[(ti, ii)] = rec
        done += 1
        if on_record is not None:
            on_record(rec, done, total)

    try:
        async with asyncio.TaskGroup() as tg:
            for ti in range(len(targets)):
                sem = asyncio.Semaphore(concurrency)
                for ii in range(len(items)):
                    tg.create_task(one(ti, ii, sem))
    finally:
        if own:
            await http.aclose()
    return [results[key] for key in sorted(results)]
