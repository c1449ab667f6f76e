"""`qtui scrape URL`: one parsed /metrics snapshot as JSON on stdout."""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import urlsplit

import click
import httpx

from qtui.errors import QtuiError
from qtui.metrics.vllm import parse_vllm


def metrics_url(url: str) -> str:
    """A server base URL gets /metrics appended; a URL with a path is used as given."""
    if not url.startswith(("http://", "https://")):
        url = f"http://{url}"
    return url if urlsplit(url).path.strip("/") else f"{url.rstrip('/')}/metrics"


async def _get(url: str, timeout: float) -> str:
    try:
        async with httpx.AsyncClient(timeout=timeout) as c:
            r = await c.get(url)
    except httpx.HTTPError as exc:
        raise QtuiError(f"{url}: unreachable ({type(exc).__name__}); is the server up?") from None
    if r.status_code == 404:
        raise QtuiError(f"{url}: HTTP 404, this server exposes no metrics there")
    if r.status_code != 200:
        raise QtuiError(f"{url}: HTTP {r.status_code}")
    return r.text


def run(url: str, timeout: float = 5.0) -> None:
    target = metrics_url(url)
    text = asyncio.run(_get(target, timeout))
    snap = parse_vllm(text, time.time(), target)  # NotPrometheus is a QtuiError: one line
    click.echo(json.dumps({"url": target, **snap.to_dict()}, indent=2))
