"""What a fixed-length request asks the server for: ignore_eos, and min_tokens only where needed."""

from __future__ import annotations

import pytest
from fakevllm import Behaviour, FakeServer

from qtui.config.profile import Profile
from qtui.load.engine import LoadRun


def profile(url: str) -> Profile:
    return Profile.model_validate(
        {
            "profile": {"name": "body"},
            "endpoints": [{"name": "e", "url": url, "precision": "bf16"}],
            "workload": {"input_tokens": {"mean": 16}, "output_tokens": {"mean": 8}},
            "load": {"concurrency": 2, "duration_s": 60, "max_requests": 4, "timeout_s": 30},
        }
    )


@pytest.mark.parametrize("processes", [1, 2])
async def test_vllm_gets_ignore_eos_alone_other_servers_min_tokens_too(processes: int) -> None:
    # vLLM (it answers /version) runs to max_tokens on ignore_eos; min_tokens would add a
    # logits processor to every engine step that real traffic does not have
    vllm, other = Behaviour(), Behaviour(version=False)  # other: llama-cpp-python's 404
    for b in (vllm, other):
        async with FakeServer(b) as url:
            run = LoadRun(profile(url), scrape=False, processes=processes)
            res = (await run.run())["e"]
        assert run.processes == processes  # the worker processes' bodies too
        assert res.summary is not None and res.summary.requests == 4
        assert len(b.bodies) == 4
        assert all(x["ignore_eos"] and x["max_tokens"] == 8 for x in b.bodies)
    assert not any("min_tokens" in x for x in vllm.bodies)
    assert all(x["min_tokens"] == 8 for x in other.bodies)
