"""Scrape each endpoint's /metrics every second into `server_second` records."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx

from qtui.evidence.records import ServerSecond
from qtui.metrics.prom import NotPrometheus
from qtui.metrics.vllm import VllmSnapshot, parse_vllm, server_second


async def scrape_once(
    http: httpx.AsyncClient, url: str, timeout: float = 2.0
) -> tuple[VllmSnapshot | None, ServerSecond]:
    """One scrape: the snapshot (None unless ok) and a status-only ServerSecond."""
    t = time.time()
    try:
        r = await http.get(url, timeout=timeout)
    except httpx.HTTPError as exc:
        return None, ServerSecond("", t, "unreachable", f"{url}: {type(exc).__name__}")
    if r.status_code == 404:
        return None, ServerSecond(
            "", t, "not_exposed", f"{url}: HTTP 404 (metrics not exposed by this server)"
        )
    if r.status_code != 200:
        return None, ServerSecond("", t, "unreachable", f"{url}: HTTP {r.status_code}")
    try:
        # 20-35 ms for a vLLM page: off the loop that may be timing tokens (it gets the GIL back
        # every switch interval instead of waiting for the whole parse)
        snap = await asyncio.to_thread(parse_vllm, r.text, t, url)
    except NotPrometheus as exc:
        return None, ServerSecond("", t, "garbage", str(exc))
    return snap, ServerSecond("", t, "ok")


class ServerScraper:
    """Polls several endpoints' /metrics at a fixed interval; one failing never stops the rest."""

    def __init__(
        self,
        metrics_urls: dict[str, str],
        on_sample: Callable[[ServerSecond], None] | None = None,
        interval_s: float = 1.0,
        timeout_s: float = 2.0,
    ) -> None:
        self.urls = metrics_urls
        self.on_sample = on_sample
        self.interval = interval_s
        self.timeout = timeout_s
        self.first: dict[str, VllmSnapshot] = {}
        self.last: dict[str, VllmSnapshot] = {}
        self.latest: dict[str, ServerSecond] = {}
        self._task: asyncio.Task[None] | None = None
        self._http: httpx.AsyncClient | None = None

    async def scrape_all(self) -> list[ServerSecond]:
        """Scrape every endpoint once (concurrently) and update first/last snapshots."""
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=self.timeout)
        names = list(self.urls)
        got = await asyncio.gather(
            *(scrape_once(self._http, self.urls[n], self.timeout) for n in names)
        )
        out = []
        for name, (snap, status) in zip(names, got, strict=True):
            if snap is None:
                sec = ServerSecond(name, status.t, status.status, status.detail)
            else:
                sec = server_second(name, self.last.get(name), snap)
                self.first.setdefault(name, snap)
                self.last[name] = snap
            self.latest[name] = sec
            out.append(sec)
            if self.on_sample:
                self.on_sample(sec)
        return out

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        t0 = time.perf_counter()
        k = 0
        while True:
            await self.scrape_all()
            k += 1
            await asyncio.sleep(max(0.0, t0 + k * self.interval - time.perf_counter()))

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._http:
            await self._http.aclose()
            self._http = None
