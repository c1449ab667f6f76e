"""qtui's load engine against the simulator's own /metrics for the same requests (real HTTP)."""

from __future__ import annotations

import dataclasses

import httpx
import pytest
from fakevllm import Behaviour, FakeServer

from qtui.config.profile import Profile
from qtui.evidence.records import RequestRecord
from qtui.load.engine import LoadRun
from qtui.load.scraper import scrape_once
from qtui.metrics.crosscheck import crosscheck
from qtui.metrics.stats import streamed_tokens, tokens_per_byte, tokens_per_chunk
from qtui.sim.launcher import SimProcess
from qtui.sim.testing import running_sim


async def test_counts_and_histogram_observations_match_the_server(sim_demo: SimProcess) -> None:
    name, url = next(iter(sim_demo.endpoints.items()))
    prof = Profile.model_validate(
        {
            "profile": {"name": "crosscheck"},
            "endpoints": [{"name": name, "url": url, "precision": "bf16"}],
            "workload": {"input_tokens": {"mean": 24}, "output_tokens": {"mean": 12}},
            "load": {"concurrency": 6, "duration_s": 120, "max_requests": 30, "timeout_s": 60},
            "slo": {"max_error_rate": 0.0},
        }
    )
    recs: list[RequestRecord] = []
    async with httpx.AsyncClient() as http:
        before, status = await scrape_once(http, f"{url}/metrics")
        assert before is not None, status.detail
        await LoadRun(prof, scrape=False, on_record=recs.append).run()
        after, status = await scrape_once(http, f"{url}/metrics")
        assert after is not None, status.detail
    assert len(recs) == 30 and all(r.ok for r in recs)
    cc = crosscheck(recs, before, after)
    assert cc.counts_agree, cc.to_dict()
    assert cc.tokens_client == 30 * 12
    # every request's TTFT, TPOT and e2e observed once on each side; the server counts every
    # token gap, the client every chunk gap (a chunk may carry several tokens)
    assert cc.observations_server["itl"] == 30 * 11 >= cc.observations_client["itl"]


async def test_a_window_cut_mid_stream_counts_the_tokens_the_server_sent() -> None:
    """Several tokens per chunk (the simulator's pacer merges them as vLLM's frontend does under
    load) and a duration window that cuts every stream still running: those streams' chunks count
    the finished requests' tokens per chunk, so the window's tokens match the server's counter.
    Counting each cut chunk as one token read 15 % low at 256 streams and 61 % at 1,024."""
    # its pacer at a fixed cost per write: the same chunks on any machine
    with running_sim(write_cost_us=1000) as sim:
        url = next(iter(sim.endpoints.values()))
        prof = Profile.model_validate(
            {
                "profile": {"name": "cut"},
                "endpoints": [{"name": "s", "url": url, "precision": "bf16"}],
                "workload": {
                    "input_tokens": {"mean": 32},
                    "output_tokens": {"mean": 160, "dist": "uniform", "spread": 0.8},
                },
                "load": {"concurrency": 24, "duration_s": 3, "warmup_s": 0, "timeout_s": 60},
            }
        )
        recs: list[RequestRecord] = []
        async with httpx.AsyncClient() as http:
            before, status = await scrape_once(http, f"{url}/metrics")
            assert before is not None, status.detail
            res = (await LoadRun(prof, scrape=False, on_record=recs.append).run())["s"]
            after, status = await scrape_once(http, f"{url}/metrics")
            assert after is not None, status.detail
    cut = [r for r in recs if r.error_class == "cancelled" and r.chunk_times]
    finished = [r for r in recs if r.ok]
    assert cut and finished and tokens_per_chunk(recs) > 1.5  # the case this test is about
    assert res.summary is not None and before.generation_tokens is not None
    assert after.generation_tokens is not None
    streamed = res.summary.out_tps * res.summary.duration_s
    server = after.generation_tokens - before.generation_tokens
    one_each = sum(r.completion_tokens or 0 for r in finished)
    one_each += sum(len(r.chunk_times) for r in cut)
    assert abs(streamed - server) <= 0.05 * server
    assert one_each < 0.9 * server  # what one token per cut chunk would have said


@pytest.mark.parametrize("processes", [1, 2])
async def test_a_cut_stream_is_worth_its_bytes_when_the_finished_answers_came_merged(
    processes: int,
) -> None:
    """The H200 at 512 streams (benchmarks/gpu/results/h200-2026-12-04b.md): the answers that
    finished came from a saturated frontend, many tokens to a chunk (some whole answers in one),
    while the streams cut at the stop came a token a chunk. Their chunks at the finished ones'
    tokens per chunk read the window 16 % high there; their text bytes at the finished ones'
    tokens per byte read what the server sent. Here: the first 12 answers at once, 8 tokens to a
    chunk; every later one a token a chunk, too slowly to finish in the window."""
    b = Behaviour(merge_first=12, merge_k=8, token_text=" tk", token_delay_s=0.05)
    async with FakeServer(b) as url:
        prof = Profile.model_validate(
            {
                "profile": {"name": "merged"},
                "endpoints": [{"name": "s", "url": url, "precision": "bf16"}],
                "workload": {"input_tokens": {"mean": 8}, "output_tokens": {"mean": 64}},
                "load": {"concurrency": 6, "duration_s": 1, "warmup_s": 0, "timeout_s": 60},
            }
        )
        recs: list[RequestRecord] = []
        run = LoadRun(prof, scrape=False, on_record=recs.append, processes=processes)
        res = (await run.run())["s"]
    finished = [r for r in recs if r.ok]
    cut = [r for r in recs if r.error_class == "cancelled" and r.chunk_times]
    assert len(finished) == 12 and len(cut) == 6 and run.processes == processes
    assert tokens_per_chunk(recs) == 8 and tokens_per_byte(recs) == 1 / 3
    # what the server sent in the window: the finished answers, and a token per cut chunk
    sent = 12 * 64 + sum(len(r.chunk_times) for r in cut)
    assert res.summary is not None
    # (a cut stream's chunk that came between the window's end and the cancel is not in it)
    assert sent - len(cut) <= res.summary.out_tps * res.summary.duration_s <= sent + 1e-6
    # the same records without their bytes (sessions from before): by tokens per chunk
    t0 = min(r.t_send for r in recs)
    by_chunk = streamed_tokens([dataclasses.replace(r, text_bytes=None) for r in recs], t0, 1e12)
    assert by_chunk == 12 * 64 + 8 * (sent - 12 * 64)
