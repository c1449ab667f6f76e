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

    def backoff(failures: int, u: float) -> float:
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
