"""Trace replay, shared prefixes and multi-turn conversations against the real llama.cpp server
(issue 21): every workload runs on a real engine, not only on the simulator.

Written while the engine could not be built here (issue 21's session): first run with the
integration suite, `python -m pytest -q tests/integration/test_llamacpp_workloads.py`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import live_profile

from qtui.config.profile import Profile
from qtui.engines.server import ServerProcess
from qtui.evidence.records import RequestRecord
from qtui.load.engine import LoadRun
from qtui.load.tokens import NO_TOKENIZE

pytestmark = pytest.mark.llamacpp

OUTPUTS = [3, 1, 4, 1, 5, 2]


def one_endpoint(profile: Profile, servers: dict[str, ServerProcess], **workload: Any) -> Profile:
    """The reference endpoint alone, pointed at its server, with this workload."""
    data = live_profile(profile, servers).model_dump()
    data["endpoints"] = [e for e in data["endpoints"] if e["name"] == profile.baseline.name]
    data["workload"] = {**data["workload"], "golden_set": None, **workload}
    data["load"] = {**data["load"], "mode": "concurrency", "concurrency": 1, "duration_s": 120}
    return Profile.model_validate(data)


async def drive(prof: Profile, base_dir: Path, **kw: Any) -> tuple[list[RequestRecord], list[str]]:
    recs: list[RequestRecord] = []
    said: list[str] = []
    run = LoadRun(
        prof, on_record=recs.append, on_event=lambda _k, m: said.append(m), base_dir=base_dir,
        scrape=False, **kw,
    )  # fmt: skip
    await run.run()
    return sorted(recs, key=lambda r: int(r.request_id.rsplit("-", 1)[1])), said


async def test_a_mooncake_trace_is_replayed_in_order_with_its_lengths(
    llama_profile: Profile, llama_servers: dict[str, ServerProcess], tmp_path: Path
) -> None:
    lines = [
        {"timestamp": 200 * i, "input_length": 40 + i, "output_length": n, "hash_ids": [7, 100 + i]}
        for i, n in enumerate(OUTPUTS)
    ]
    (tmp_path / "day.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    prof = one_endpoint(
        llama_profile, llama_servers, kind="trace", trace_file="day.jsonl", speed=4.0,
        trace_block_size=16,
    )  # fmt: skip
    recs, said = await drive(prof, tmp_path)
    assert [r.request_id for r in recs] == [f"q4_1-{i}" for i in range(1, 7)]
    assert all(r.ok for r in recs), [r.error_detail for r in recs]
    # llama.cpp honours min_tokens: each answer has the trace's output length (counted)
    assert [r.completion_tokens for r in recs] == OUTPUTS
    assert NO_TOKENIZE in said  # llama-cpp-python's server has no /tokenize: estimated
    sends = [r.t_send for r in recs]
    assert sends == sorted(sends)  # in the trace's order


async def test_shared_prefixes_are_sent_and_answered(
    llama_profile: Profile, llama_servers: dict[str, ServerProcess], tmp_path: Path
) -> None:
    prof = one_endpoint(
        llama_profile, llama_servers, input_tokens={"mean": 8}, output_tokens={"mean": 2},
        prefix_count=2, prefix_tokens=96,
    )  # fmt: skip
    recs, said = await drive(prof, tmp_path, max_requests=4)
    assert len(recs) == 4 and all(r.ok for r in recs), [r.error_detail for r in recs]
    assert [r.completion_tokens for r in recs] == [2, 2, 2, 2]
    # no usage from llama.cpp: the prompt's own length (96 shared + 8 unique words) is kept
    assert [r.prompt_tokens for r in recs] == [104] * 4
    assert NO_TOKENIZE in said


async def test_a_conversation_resends_its_history_over_chat(
    llama_profile: Profile, llama_servers: dict[str, ServerProcess], tmp_path: Path
) -> None:
    prof = one_endpoint(
        llama_profile, llama_servers, api="chat", turns=2, input_tokens={"mean": 12},
        output_tokens={"mean": 6},
    )  # fmt: skip
    recs, said = await drive(prof, tmp_path, max_requests=4)
    assert all(r.ok for r in recs), [r.error_detail for r in recs]
    assert [(r.turn, r.conversation) for r in recs] == [(1, 1), (2, 1), (1, 3), (2, 3)]
    # (min_tokens is honoured on /v1/completions, as the campaign checks; on chat only the limit)
    assert all(1 <= (r.completion_tokens or 0) <= 6 for r in recs), [
        (r.completion_tokens, r.usage_source) for r in recs
    ]
    # turn 2's estimate counts turn 1's message and its answer: more than turn 1's
    assert recs[1].prompt_tokens is not None and recs[0].prompt_tokens is not None
    assert recs[1].prompt_tokens > recs[0].prompt_tokens + 6
    assert NO_TOKENIZE in said  # no /tokenize: the words cannot be checked, estimated
