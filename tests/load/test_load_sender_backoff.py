import asyncio
import time
from pathlib import Path

import numpy as np
import pytest
from fakevllm import Behaviour, FakeServer

import qtui.load.sender as sender_mod
from qtui.client.stream import StreamClient
from qtui.config.profile import Workload
from qtui.evidence.records import RequestRecord
from qtui.load.sender import Bounds, LocalCounter, LocalSender
from qtui.load.workload import make_source


async def test_a_failing_endpoints_user_backs_off_then_gets_full_load_when_it_recovers(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    waits: list[int] = []

    def backoff(failures: int, u: float, **_: object) -> float:
        waits.append(failures)
        return 0.0  # the rule's values are tested in test_load_backoff.py

    monkeypatch.setattr(sender_mod, "backoff_s", backoff)
    got: list[RequestRecord] = []
    async with FakeServer(Behaviour(fail_first=3)) as url:
        client = StreamClient("e", url, "fake-model")
        s = LocalSender(
            "e", client, make_source(Workload(), tmp_path), LocalCounter(6), got.append,
            np.random.default_rng(0),
        )  # fmt: skip
        s.start(1, "concurrency", Bounds(time.perf_counter(), float("inf")))
        await asyncio.wait_for(asyncio.gather(*s.workers), 30)
        await client.aclose()
    assert [r.error_class for r in got] == ["http"] * 3 + ["none"] * 3
    assert waits == [1, 2, 3]  # one wait per consecutive failure, none after the recovery
    assert s.backing_off == 0


async def test_a_429_with_retry_after_is_waited_out(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    asked: list[float | None] = []
    real = sender_mod.backoff_s

    def backoff(failures: int, u: float, **kw: float | None) -> float:
        asked.append(kw.get("retry_after"))
        real(failures, u, **kw)  # type: ignore[arg-type]
        return 0.0

    monkeypatch.setattr(sender_mod, "backoff_s", backoff)
    got: list[RequestRecord] = []
    async with FakeServer(Behaviour(fail_first=2, fail_status=429, retry_after="7")) as url:
        client = StreamClient("e", url, "fake-model")
        s = LocalSender(
            "e", client, make_source(Workload(), tmp_path), LocalCounter(3), got.append,
            np.random.default_rng(0),
        )  # fmt: skip
        s.start(1, "concurrency", Bounds(time.perf_counter(), float("inf")))
        await asyncio.wait_for(asyncio.gather(*s.workers), 30)
        await client.aclose()
    assert [r.http_status for r in got] == [429, 429, 200]
    assert got[0].error_detail.startswith("HTTP 429 (Retry-After 7 s): ")
    assert asked == [7.0, 7.0]  # each wait was given the server's Retry-After
    assert client.retry_after == {}  # every one taken


async def test_open_loop_arrivals_are_held_while_failing_then_resume(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sender_mod, "backoff_s", lambda failures, u, **kw: 0.05)
    got: list[RequestRecord] = []
    b = Behaviour(fail_first=2)
    async with FakeServer(b) as url:
        client = StreamClient("e", url, "fake-model")
        s = LocalSender(
            "e", client, make_source(Workload(), tmp_path), LocalCounter(12), got.append,
            np.random.default_rng(0), poisson=False,
        )  # fmt: skip
        s.start(200, "rate", Bounds(time.perf_counter(), float("inf")))
        assert s.arrivals is not None
        await asyncio.wait_for(s.arrivals, 30)  # ends at the request limit
        await s.stop(cancel=False, grace_s=10)
        await client.aclose()
    errors = [r for r in got if r.error_class == "http"]
    assert len(errors) == 2 and got[0].error_class == "http"  # one probe after each wait
    assert s.held > 0  # arrivals due while backing off were not sent
    assert len(got) == 12 and s.failures == 0 and s.backing_off == 0  # full rate again
