import asyncio
from pathlib import Path

from fakevllm import Behaviour, FakeServer, refused_url

from qtui.config.profile import Profile
from qtui.evidence.records import RequestRecord, ServerSecond, Stats
from qtui.load.engine import LoadRun


def profile(n: int = 1, **load: object) -> Profile:
    return Profile.model_validate(
        {
            "profile": {"name": "t"},
            "endpoints": [
                {"name": f"e{i}", "url": "http://127.0.0.1:1", "precision": "bf16"}
                for i in range(n)
            ],
            "workload": {"input_tokens": {"mean": 16}, "output_tokens": {"mean": 6}},
            "load": {"concurrency": 4, "duration_s": 60, **load},
            "slo": {"max_error_rate": 0.0},
        }
    )


async def test_closed_loop_counts_equal_server_counters() -> None:
    served = Behaviour()
    recs: list[RequestRecord] = []
    async with FakeServer(served) as url:
        run = LoadRun(profile(max_requests=40), {"e0": url}, on_record=recs.append)
        res = (await run.run())["e0"]
    assert run.processes == 1 and run.pool is None  # a small load stays on this event loop
    assert len(recs) == 40 and all(r.ok for r in recs)
    assert len({r.request_id for r in recs}) == 40  # no double count
    assert sum(r.completion_tokens or 0 for r in recs) == served.served["generation"] == 240
    assert sum(r.prompt_tokens or 0 for r in recs) == served.served["prompt"]
    assert res.summary is not None and res.summary.requests == 40
    assert res.summary.completion_tokens == 240 and res.sent == 40
    assert res.levels[0].ok and res.capacity is not None and res.capacity.level == 4


async def test_open_loop_constant_rate_and_live_windows() -> None:
    seconds: list[Stats] = []
    servers: list[ServerSecond] = []
    async with FakeServer() as url:
        run = LoadRun(
            profile(mode="rate", rate=200.0, arrival="constant", max_requests=30),
            {"e0": url}, on_second=seconds.append, on_server=servers.append,
        )  # fmt: skip
        res = (await run.run())["e0"]
    assert res.sent == 30 and res.summary is not None and res.summary.requests == 30
    assert sum(s.requests for s in seconds) == 30  # every request in exactly one window
    assert servers and servers[0].status == "ok"


async def test_dead_endpoint_does_not_stop_the_other() -> None:
    events: list[tuple[str, str]] = []
    async with FakeServer() as url:
        run = LoadRun(
            profile(2, max_requests=12, duration_s=3),
            {"e0": refused_url(), "e1": url},
            on_event=lambda k, m: events.append((k, m)),
        )
        res = await run.run()
    assert res["e1"].summary is not None and res["e1"].summary.requests == 12
    dead = res["e0"].summary
    assert dead is not None and dead.requests == 0 and dead.errors.get("connect", 0) > 0
    assert any("e0" in m and "unreachable" in m for _, m in events)
    assert not res["e0"].levels[0].ok


async def test_500s_for_a_while_are_counted_then_recover() -> None:
    async with FakeServer(Behaviour(fail_first=5)) as url:
        res = (await LoadRun(profile(max_requests=25), {"e0": url}).run())["e0"]
    s = res.summary
    assert s is not None and s.errors == {"http": 5} and s.requests == 20


async def test_stop_cancels_in_flight_and_records_them() -> None:
    recs: list[RequestRecord] = []
    b = Behaviour(stream="stall", stall_target=4)
    async with FakeServer(b) as url:
        run = LoadRun(profile(), {"e0": url}, on_record=recs.append, scrape=False)
        await run.start()
        await asyncio.wait_for(b.all_stalled.wait(), 10)
        res = await asyncio.wait_for(run.stop(), 5)
    assert len(recs) == 4 and all(r.error_class == "cancelled" for r in recs)
    assert len(recs[0].chunk_times) == 2  # what arrived before the stop is kept
    assert res["e0"].summary is not None and res["e0"].summary.cancelled == 4


async def test_sweep_stops_at_first_slo_break() -> None:
    # 20 ms per token: ITL p95 ≈ 20 ms, under a 15 ms SLO it breaks at the first level
    p = profile(mode="sweep", max_requests=200)
    p.load.sweep.levels = [1.0, 2.0]
    p.load.sweep.step_duration_s = 0.5
    p.slo.itl_p95_ms = 15
    async with FakeServer(Behaviour(token_delay_s=0.02)) as url:
        res = (await LoadRun(p, {"e0": url}, scrape=False).run())["e0"]
    assert len(res.levels) == 1 and not res.levels[0].ok
    assert "itl p95" in res.levels[0].breaches[0] and res.capacity is None


async def test_sweep_reports_capacity_of_best_level() -> None:
    p = profile(mode="sweep")
    p.load.sweep.levels = [1.0, 2.0]
    p.load.sweep.step_duration_s = 0.3
    async with FakeServer() as url:
        res = (await LoadRun(p, {"e0": url}, scrape=False).run())["e0"]
    assert [lv.level for lv in res.levels] == [1.0, 2.0] and all(lv.ok for lv in res.levels)
    cap = res.capacity
    # both levels met every SLO: the capacity is the one that delivered most req/s
    best = max(res.levels, key=lambda lv: (lv.stats.rps, lv.level))
    assert cap is not None and cap.level == best.level and cap.rps == best.stats.rps > 0


async def test_warmup_requests_are_excluded_from_stats() -> None:
    recs: list[RequestRecord] = []
    async with FakeServer() as url:
        res = (
            await LoadRun(
                profile(max_requests=20, warmup_s=3600), {"e0": url}, on_record=recs.append
            ).run()
        )["e0"]
    assert len(recs) == 20 and all(r.phase == "warmup" for r in recs)
    assert res.summary is not None and res.summary.requests == 0


def test_profile_paths_are_relative(tmp_path: Path) -> None:
    assert profile().load.concurrency == 4


async def test_throughput_counts_tokens_of_requests_still_streaming_at_the_end() -> None:
    """Requests longer than the run: none completes, yet the server delivered tokens all along."""
    served = Behaviour(token_delay_s=0.05)
    p = profile(duration_s=1.5, warmup_s=0, cooldown_s=0)
    out = p.workload.output_tokens.model_copy(update={"mean": 1000})
    p = p.model_copy(update={"workload": p.workload.model_copy(update={"output_tokens": out})})
    recs: list[RequestRecord] = []
    async with FakeServer(served) as url:
        res = (await LoadRun(p, {"e0": url}, on_record=recs.append).run())["e0"]
    lv = res.levels[0].stats
    assert lv.requests == 0 and lv.cancelled == 4  # every request was cut off by the end
    chunks = sum(len(r.chunk_times) for r in recs)
    assert chunks > 0
    # what streamed inside the window: all of it but what arrived between the end and the cancel
    assert 0.5 * chunks <= lv.out_tps * lv.duration_s <= chunks
    assert res.summary is not None and res.summary.out_tps == lv.out_tps


def test_a_live_second_has_the_phase_of_the_step_it_falls_in_by_hand() -> None:
    from qtui.load.engine import _Endpoint

    ep = object.__new__(_Endpoint)
    assert ep.phase_of(0.0, 1.0) == "measure"  # no step yet: a load held without steps
    # a step from 100 s to 105 s, warm-up 2 s, cool-down 1 s; each second by its middle
    ep.step_start, ep.warmup, ep.cooldown, ep.step_end = 100.0, 2.0, 1.0, 105.0
    assert ep.phase_of(100.0, 101.0) == "warmup"
    assert ep.phase_of(100.6, 101.6) == "warmup"  # middle 101.1
    assert ep.phase_of(101.6, 102.6) == "measure"  # middle 102.1
    assert ep.phase_of(103.0, 104.0) == "measure"
    assert ep.phase_of(104.0, 105.0) == "cooldown"
    assert ep.phase_of(105.0, 106.0) == "measure"  # past the step
    ep.cooldown = 0.0
    assert ep.phase_of(104.0, 105.0) == "measure"


async def test_seconds_of_a_warm_up_say_so() -> None:
    seconds: list[Stats] = []
    async with FakeServer(Behaviour(token_delay_s=0.05)) as url:
        run = LoadRun(
            profile(max_requests=24, warmup_s=3600), {"e0": url}, on_second=seconds.append
        )
        await run.run()
    assert seconds and all(s.phase == "warmup" for s in seconds)
    assert seconds[0].flat()["phase"] == "warmup"  # as the session records it
