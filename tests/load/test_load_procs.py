"""The load engine spread over 2 worker processes, against the real simulator (real sockets)."""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Any

import httpx
import pytest
from fakevllm import refused_url

from qtui.config.profile import Profile
from qtui.evidence.records import RequestRecord, Stats
from qtui.load.engine import LoadRun
from qtui.load.scraper import scrape_once
from qtui.metrics.crosscheck import crosscheck
from qtui.metrics.vllm import VllmSnapshot
from qtui.sim.launcher import SimProcess


def profile(endpoints: dict[str, str], out: int = 12, **load: Any) -> Profile:
    return Profile.model_validate(
        {
            "profile": {"name": "procs"},
            "endpoints": [{"name": n, "url": u, "precision": "bf16"} for n, u in endpoints.items()],
            "workload": {"input_tokens": {"mean": 24}, "output_tokens": {"mean": out}},
            "load": {"concurrency": 6, "duration_s": 120, "timeout_s": 60, **load},
            "slo": {"max_error_rate": 0.0},
        }
    )


async def snapshot(url: str) -> VllmSnapshot:
    async with httpx.AsyncClient() as http:
        snap, status = await scrape_once(http, f"{url}/metrics")
    assert snap is not None, status.detail
    return snap


def streaming_everywhere(run: LoadRun, name: str) -> asyncio.Event:
    """Set by the engine's own 1 s tick once every worker process has streamed tokens."""
    ready = asyncio.Event()

    def tick(_: Stats) -> None:
        pool = run.pool
        if pool is not None and all(c.get(name, 0) > 0 for c in pool.chunks):
            ready.set()

    run.on_second = tick
    return ready


@pytest.mark.parametrize(
    "load",
    [
        {"mode": "concurrency", "max_requests": 30},
        {"mode": "rate", "rate": 40.0, "arrival": "poisson", "max_requests": 30},
    ],
    ids=["closed", "open"],
)
async def test_two_processes_serve_exactly_what_the_server_counted(
    sim_demo: SimProcess, load: dict[str, Any]
) -> None:
    url = sim_demo.endpoints["bf16"]
    recs: list[RequestRecord] = []
    seconds: list[Stats] = []
    before = await snapshot(url)
    run = LoadRun(
        profile({"bf16": url}, **load),
        scrape=False, on_record=recs.append, on_second=seconds.append, processes=2,
    )  # fmt: skip
    res = (await run.run())["bf16"]
    after = await snapshot(url)
    assert run.processes == 2 and run.pool is not None
    assert all(c.get("bf16", 0) > 0 for c in run.pool.chunks)  # both processes streamed
    # no loss, no double count: 30 distinct requests, numbered 1..30 across the processes
    assert len(recs) == 30 and all(r.ok for r in recs), [r.error_detail for r in recs]
    assert sorted(int(r.request_id.rsplit("-", 1)[1]) for r in recs) == list(range(1, 31))
    cc = crosscheck(recs, before, after)
    assert cc.counts_agree, cc.to_dict()
    assert cc.requests_server == 30 and cc.tokens_server == cc.tokens_client == 30 * 12
    # merged into the same windows and cumulative stats as one process would
    assert sum(s.requests for s in seconds) == 30 and res.sent == 30
    assert res.summary is not None and res.summary.requests == 30
    assert res.summary.completion_tokens == 30 * 12
    assert len(run.health) == len(seconds) and run.worker_cpu_s > 0
    assert all(p.exitcode == 0 for p in run.pool.procs)


async def test_stop_cancels_in_flight_requests_in_every_process(sim_demo: SimProcess) -> None:
    url = sim_demo.endpoints["bf16"]
    recs: list[RequestRecord] = []
    run = LoadRun(
        profile({"bf16": url}, out=4000, concurrency=4, max_requests=100),
        scrape=False, on_record=recs.append, processes=2,
    )  # fmt: skip
    streaming = streaming_everywhere(run, "bf16")
    await run.start()
    await asyncio.wait_for(streaming.wait(), 60)
    assert run.pool is not None and [d["bf16"] for d in run.pool.in_flight] == [2, 2]
    res = (await asyncio.wait_for(run.stop(), 30))["bf16"]
    # every stream was cut short in both processes and still recorded, with what it received
    assert len(recs) == 4 and all(r.error_class == "cancelled" for r in recs)
    assert all(r.chunk_times for r in recs)
    assert res.summary is not None and res.summary.cancelled == 4 and res.sent == 4
    assert all(p.exitcode == 0 for p in run.pool.procs)


async def test_refused_endpoint_is_counted_with_its_reason_and_the_other_goes_on(
    sim_demo: SimProcess,
) -> None:
    events: list[tuple[str, str]] = []
    run = LoadRun(
        profile({"dead": refused_url(), "fp8": sim_demo.endpoints["fp8"]}, max_requests=12),
        scrape=False, processes=2, on_event=lambda k, m: events.append((k, m)),
    )  # fmt: skip
    res = await asyncio.wait_for(run.run(), 120)
    assert res["fp8"].summary is not None and res["fp8"].summary.requests == 12
    dead = res["dead"].summary
    assert dead is not None and dead.requests == 0 and dead.errors.get("connect", 0) > 0
    assert not res["dead"].levels[0].ok
    assert any("dead" in m and "unreachable" in m for _, m in events)


async def test_a_worker_process_that_dies_is_reported_and_the_other_finishes(
    sim_demo: SimProcess,
) -> None:
    url = sim_demo.endpoints["int4-awq"]
    recs: list[RequestRecord] = []
    events: list[str] = []
    run = LoadRun(
        profile({"int4-awq": url}, out=64, concurrency=4, max_requests=40),
        scrape=False, processes=2, on_record=recs.append, on_event=lambda k, m: events.append(m),
    )  # fmt: skip
    streaming = streaming_everywhere(run, "int4-awq")
    await run.start()
    await asyncio.wait_for(streaming.wait(), 60)
    assert run.pool is not None
    victim = run.pool.procs[1]
    os.kill(victim.pid, signal.SIGKILL)
    res = (await asyncio.wait_for(run.wait(), 120))["int4-awq"]
    exited = [m for m in events if "process 1 exited" in m]
    assert len(exited) == 1 and "; its 2 users of int4-awq moved to process 0; " in exited[0]
    # the survivor took the rest of the global request budget; only the victim's ≤ 2
    # in-flight requests (and what it had not yet sent back) are missing
    assert res.sent == 40 and all(r.ok for r in recs)
    assert 40 - 4 <= len(recs) <= 40 - 2
    assert run.pool.procs[0].exitcode == 0


async def test_sweep_and_warmup_work_across_processes(sim_demo: SimProcess) -> None:
    url = sim_demo.endpoints["bf16"]
    p = profile({"bf16": url}, out=8, mode="sweep", warmup_s=0.0)
    p.load.sweep.levels = [2.0, 4.0]
    p.load.sweep.step_duration_s = 1.0
    res = (await LoadRun(p, scrape=False, processes=2).run())["bf16"]
    assert [lv.level for lv in res.levels] == [2.0, 4.0] and all(lv.ok for lv in res.levels)
    assert res.capacity is not None and res.capacity.level == 4.0

    recs: list[RequestRecord] = []
    warm = profile({"bf16": url}, max_requests=10, warmup_s=3600)
    res = (await LoadRun(warm, scrape=False, processes=2, on_record=recs.append).run())["bf16"]
    assert len(recs) == 10 and all(r.phase == "warmup" for r in recs)
    assert res.summary is not None and res.summary.requests == 0


async def test_phases_follow_one_clock_across_processes(sim_demo: SimProcess) -> None:
    """Warm-up, measure and cool-down are decided in each worker from the parent's step bounds:
    sorted by send time, the phases of both processes' requests form three runs, in order."""
    url = sim_demo.endpoints["fp8"]
    recs: list[RequestRecord] = []
    p = profile({"fp8": url}, out=8, duration_s=2.0, warmup_s=0.5, cooldown_s=0.5)
    res = (await LoadRun(p, scrape=False, processes=2, on_record=recs.append).run())["fp8"]
    order = {"warmup": 0, "measure": 1, "cooldown": 2}
    first: dict[str, float] = {}
    last: dict[str, float] = {}
    for r in recs:
        first[r.phase] = min(first.get(r.phase, r.t_send), r.t_send)
        last[r.phase] = max(last.get(r.phase, r.t_send), r.t_send)
    assert set(first) == set(order)
    slack = 0.05  # a process may be preempted between deciding the phase and stamping t_send
    assert last["warmup"] <= first["measure"] + slack
    assert last["measure"] <= first["cooldown"] + slack
    measured = [r for r in recs if r.phase == "measure" and r.ok]
    assert res.summary is not None and res.summary.requests == len(measured) > 0
