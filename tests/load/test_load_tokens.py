"""Exact input lengths from the server's /tokenize (issue 21): the simulator's /tokenize, the
pool the prompts are drawn from, and a bench run whose every prompt has its exact length."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from benchrun import SMOL_BF16_FP8, bench_to_end
from fakevllm import FakeServer

from qtui.config.profile import Profile, Workload
from qtui.load.engine import LoadRun
from qtui.load.prefixes import SharedText
from qtui.load.tokens import (
    CHAT,
    DIFFERENT,
    EXACT,
    NO_TOKENIZE,
    POOL_TEXT,
    TEXT,
    TokenPool,
    fetch_pool,
    input_lengths,
)
from qtui.load.workload import SyntheticWorkload
from qtui.metrics.vllm import parse_vllm, prefix_cache_hit_rate
from qtui.session import load_session
from qtui.session.report import write_report
from qtui.sim.launcher import SimProcess, start_sim

PROFILE = (
    """
[profile]
name = "exact"

"""
    + SMOL_BF16_FP8
    + """
[workload]
input_tokens = { mean = 100, dist = "uniform", spread = 0.5 }
output_tokens = { mean = 4 }
prefix_count = 2
prefix_tokens = 64
seed = 5

[load]
concurrency = 2
max_requests = 12
"""
)


def bench(profile: Path, out: Path) -> dict[str, Any]:
    """`qtui bench` to its end; on a busy test machine it may call itself client-bound (exit 5)
    after writing everything, which is not what these tests check."""
    return bench_to_end(profile, out, show_progress=False)


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> SimProcess:
    path = tmp_path_factory.mktemp("tok") / "p.toml"
    path.write_text(PROFILE)
    with start_sim(path, seed=0) as s:
        yield s  # type: ignore[misc]


def test_which_workloads_get_exact_lengths() -> None:
    w = Workload()
    assert input_lengths(w, [(5, 6), (5, 6)]) == (EXACT, TokenPool((5, 6)))
    assert input_lengths(w, [(5, 6), None]) == (NO_TOKENIZE, None)
    assert input_lengths(w, [(5, 6), (5, 7)]) == (DIFFERENT, None)
    assert input_lengths(Workload(api="chat"), [(5, 6)]) == (CHAT, None)
    assert input_lengths(Workload(kind="jsonl", prompts_file="p.jsonl"), [(5,)]) == (TEXT, None)
    assert input_lengths(Workload(kind="trace", trace_file="t"), [(5,)], 3)[0] == (
        "input lengths exact (server /tokenize), but for 3 trace lines with prompt text (estimated)"
    )
    assert EXACT == "input lengths exact (server /tokenize)"
    assert NO_TOKENIZE == "input lengths estimated (no /tokenize)"


def test_prompts_from_a_pool_have_their_exact_length() -> None:
    pool = TokenPool(tuple(range(100, 200)))
    w = Workload(prefix_count=3, prefix_tokens=50)
    src = SyntheticWorkload(w, pool=pool)
    for _ in range(20):
        p = src.next()
        assert p.token_ids is not None and len(p.token_ids) == p.input_tokens == 50 + 512
        assert all(100 <= t < 200 for t in p.token_ids)
    a, b = SharedText(0, pool=pool), SharedText(0, pool=pool)
    assert a.prefix_ids(1, 50) == b.prefix_ids(1, 50) != a.prefix_ids(2, 50)  # seeded, shared
    ids = a.ids_from_blocks((7, 8), 700, np.random.default_rng(0))
    assert len(ids) == 700 and ids[:512] == a.block_ids(7) and ids[512:700] == a.block_ids(8)[:188]


def test_the_simulators_tokenize_counts_as_its_usage(sim: SimProcess) -> None:
    url = sim.endpoints["bf16"]
    text = "the quick brown fox jumps over the lazy dog " * 7  # 308 characters: 77 tokens
    t = httpx.post(f"{url}/tokenize", json={"prompt": text}).json()
    assert t["count"] == len(t["tokens"]) == 77 and t["max_model_len"] > 0
    body = {"prompt": text, "max_tokens": 2}
    assert httpx.post(f"{url}/v1/completions", json=body).json()["usage"]["prompt_tokens"] == 77
    ids = {"prompt": t["tokens"][:30], "max_tokens": 2}
    assert httpx.post(f"{url}/v1/completions", json=ids).json()["usage"]["prompt_tokens"] == 30
    msgs = [{"role": "user", "content": text}]
    chat = httpx.post(f"{url}/tokenize", json={"messages": msgs}).json()
    got = httpx.post(f"{url}/v1/chat/completions", json={"messages": msgs, "max_tokens": 2})
    assert chat["count"] == got.json()["usage"]["prompt_tokens"] == 77 + 4 + 3
    assert httpx.post(f"{url}/tokenize", json={"prompt": "x", "model": "other"}).status_code == 404


async def test_a_server_without_tokenize_is_estimated() -> None:
    async with FakeServer() as url:
        assert await fetch_pool(url, "fake-model", None) is None
        prof = Profile.model_validate(
            {
                "profile": {"name": "t"},
                "endpoints": [{"name": "e0", "url": url, "precision": "bf16"}],
                "load": {"max_requests": 2},
            }
        )
        said: list[tuple[str, str]] = []
        lr = LoadRun(prof, on_event=lambda k, m: said.append((k, m)), scrape=False)
        await lr.run()
    assert ("tokens", NO_TOKENIZE) in said and lr.token_pool is None


def test_bench_sends_exact_lengths_and_the_record_says_so(tmp_path: Path, sim: SimProcess) -> None:
    (tmp_path / "p.toml").write_text(PROFILE)
    bench(tmp_path / "p.toml", tmp_path / "out")
    (path,) = (tmp_path / "out").glob("*.qtsession")
    s = load_session(path)
    assert s.profile is not None
    rows = s.frame("request").to_dicts()
    # the pool as the simulator tokenizes the word list (the same model: the same ids)
    t = httpx.post(f"{sim.endpoints['bf16']}/tokenize", json={"prompt": POOL_TEXT}).json()
    pool = TokenPool(tuple(sorted(set(t["tokens"]))))
    for salt, ep in enumerate(("bf16", "fp8")):
        src = SyntheticWorkload(s.profile.workload, None, salt, pool=pool)
        drawn = [src.next().input_tokens for _ in range(12)]  # uniform 50..150, + 64 shared
        mine = sorted(
            (r for r in rows if r["endpoint"] == ep),
            key=lambda r: int(r["request_id"].split("-")[1]),
        )
        assert [r["prompt_tokens"] for r in mine] == drawn  # what the server counted: exact
        assert all(64 + 50 <= n <= 64 + 150 for n in drawn)
    (md, *_) = write_report([path], tmp_path / "rep")
    assert "- input lengths exact (server /tokenize)" in md.read_text()


def test_chat_messages_of_one_token_words() -> None:
    from qtui.load.tokens import CHAT_EXACT, WordPool, chat_lengths
    from qtui.sim.text import count_prompt_tokens

    words = tuple(f"w{i:02d}" for i in range(20))  # 3 characters: one simulated token each
    pool = WordPool(words)
    text = pool.text(np.random.default_rng(0), 37)
    assert text.startswith(" ") and len(text.split()) == 37 and count_prompt_tokens(text) == 37
    chat = Workload(api="chat")
    assert chat_lengths(chat, [words, words]) == (CHAT_EXACT, pool)
    assert chat_lengths(chat, [words, None])[0] == NO_TOKENIZE
    assert chat_lengths(chat, [words, words[:10]])[0] == CHAT  # too few one-token words
    assert chat_lengths(chat, [words, (*words[1:], "zzz")])[0] == DIFFERENT
    assert chat_lengths(Workload(api="chat", kind="jsonl", prompts_file="p"), [words])[0] == CHAT


async def test_the_simulators_one_token_words_are_its_three_letter_words(sim: SimProcess) -> None:
    from qtui.load.tokens import fetch_words
    from qtui.load.words import WORDS

    got = await fetch_words(sim.endpoints["bf16"], "", None)
    # " abc" is 4 characters, one simulated token; " ab ab ab ab" is 12: 3 tokens, not 4
    assert got == tuple(w for w in WORDS if len(w) == 3) and len(got) >= 16
    async with FakeServer() as url:
        assert await fetch_words(url, "fake-model", None) is None


async def test_chat_user_messages_are_exact_on_the_simulator(sim: SimProcess) -> None:
    from qtui.load.tokens import CHAT_EXACT

    prof = Profile.model_validate(
        {
            "profile": {"name": "t"},
            "endpoints": [{"name": "bf16", "url": sim.endpoints["bf16"], "precision": "bf16"}],
            "workload": {"api": "chat", "input_tokens": {"mean": 100, "dist": "uniform",
                         "spread": 0.5}, "output_tokens": {"mean": 2},
                         "prefix_count": 2, "prefix_tokens": 32},
            "load": {"concurrency": 2, "max_requests": 8},
        }
    )  # fmt: skip
    said: list[tuple[str, str]] = []
    recs: list[object] = []
    lr = LoadRun(prof, on_record=recs.append, on_event=lambda k, m: said.append((k, m)),
                 scrape=False)  # fmt: skip
    await lr.run()
    assert ("tokens", CHAT_EXACT) in said
    src = SyntheticWorkload(prof.workload, None, 0, pool=lr.token_pool)  # type: ignore[arg-type]
    drawn = [src.next().input_tokens for _ in range(8)]
    got = sorted(recs, key=lambda r: int(r.request_id.split("-")[1]))  # type: ignore[attr-defined]
    # the server counts the message's tokens, 4 for the message and 3 for the reply header
    assert [r.prompt_tokens for r in got] == [n + 4 + 3 for n in drawn]  # type: ignore[attr-defined]


async def test_a_rerun_sends_prompts_no_earlier_run_sent(sim: SimProcess) -> None:
    """The same profile run twice: the same lengths, but prompts the server's prefix cache has
    not seen (the same prompts again were 98 % cache hits on the simulator, 46 % on vLLM)."""
    url = sim.endpoints["bf16"]
    prof = Profile.model_validate(
        {
            "profile": {"name": "rerun"},
            "endpoints": [{"name": "bf16", "url": url, "precision": "bf16"}],
            "workload": {"input_tokens": {"mean": 96, "dist": "uniform", "spread": 0.5},
                         "output_tokens": {"mean": 2}, "seed": 3},
            "load": {"concurrency": 4, "max_requests": 24},
        }
    )  # fmt: skip

    async def once() -> tuple[list[int], float | None]:
        before = parse_vllm(httpx.get(f"{url}/metrics").text, 0.0)
        recs: list[Any] = []
        lr = LoadRun(prof, on_record=recs.append, scrape=False)
        await lr.run()
        after = parse_vllm(httpx.get(f"{url}/metrics").text, 1.0)
        assert lr.token_pool is not None and all(r.ok for r in recs)
        got = sorted(recs, key=lambda r: int(r.request_id.split("-")[1]))
        return [r.prompt_tokens for r in got], prefix_cache_hit_rate(before, after)

    first, _ = await once()
    again, hits = await once()
    assert again == first  # the seed's lengths, exact
    assert hits is not None and hits < 0.05
