"""qtui's load engine against the simulator's own /metrics for the same requests (real HTTP)."""

from __future__ import annotations

import httpx

from qtui.config.profile import Profile
from qtui.evidence.records import RequestRecord
from qtui.load.engine import LoadRun
from qtui.load.scraper import scrape_once
from qtui.metrics.crosscheck import crosscheck
from qtui.sim.launcher import SimProcess


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
