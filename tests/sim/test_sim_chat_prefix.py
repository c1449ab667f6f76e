"""The simulator keys a chat's prefix cache on the whole templated history, answers included,
so a conversation's next turn hits its earlier blocks (a real child process, real sockets)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from qtui.sim.launcher import SimProcess, start_sim
from qtui.sim.text import chat_text

PROFILE = """
[profile]
name = "chat prefix"

[[endpoints]]
name = "bf16"
precision = "bf16"
telemetry = "none"
[endpoints.simulate]
model = "smollm2-135m"
"""


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimProcess]:
    path = tmp_path_factory.mktemp("chatprefix") / "p.toml"
    path.write_text(PROFILE)
    with start_sim(Path(path), seed=0) as s:
        yield s


def hits(url: str) -> float:
    for fam in text_string_to_metric_families(httpx.get(url + "/metrics").text):
        for s in fam.samples:
            if s.name == "vllm:prefix_cache_hits_total":
                return float(s.value)
    raise AssertionError("no vllm:prefix_cache_hits_total")


def chat(url: str, messages: list[dict[str, str]]) -> tuple[str, int]:
    body: dict[str, Any] = {
        "messages": messages, "max_tokens": 20, "min_tokens": 20, "ignore_eos": True,
        "temperature": 0,
    }  # fmt: skip
    r = httpx.post(url + "/v1/chat/completions", json=body, timeout=30).json()
    return r["choices"][0]["message"]["content"], r["usage"]["prompt_tokens"]


def test_the_next_turn_hits_the_history_and_its_answer(sim: SimProcess) -> None:
    url = sim.endpoints["bf16"]
    u1, u2 = "alpha " * 50, "beta " * 40  # 300 and 200 characters
    a1, p1 = chat(url, [{"role": "user", "content": u1}])
    assert p1 == 75 + 4 + 3  # 300 / 4 tokens, 4 per message, 3 for the reply header
    assert hits(url) == 0
    turn2 = [
        {"role": "user", "content": u1},
        {"role": "assistant", "content": a1},
        {"role": "user", "content": u2},
    ]
    _, p2 = chat(url, turn2)
    assert p2 == (75 + 4) + (len(a1) // 4 + 4) + (50 + 4) + 3
    # turn 1 as templated: "<|user|>\n" (9) + 300 + "\n" (1) + "<|assistant|>\n" (14) = 324
    # characters; with its answer it is the head of turn 2's text, so turn 2 hits its whole
    # 16-token (64-character) blocks: (324 + len(a1)) // 64 of them
    assert len(chat_text(["user"], [u1])) == 324
    assert hits(url) == (324 + len(a1)) // 64 * 16
    assert len(a1) == 100 and hits(url) == 96  # this seed's answer: 424 // 64 = 6 blocks


def test_a_new_last_message_alone_no_longer_hits(sim: SimProcess) -> None:
    """The old key (the last user message only) hit on any conversation ending the same way;
    the history key does not: a different first turn, the same last message, no hit."""
    url = sim.endpoints["bf16"]
    last = "gamma " * 30
    chat(url, [{"role": "user", "content": "delta " * 30}, {"role": "assistant", "content": "x"},
               {"role": "user", "content": last}])  # fmt: skip
    before = hits(url)
    chat(url, [{"role": "user", "content": "omega " * 30}, {"role": "assistant", "content": "y"},
               {"role": "user", "content": last}])  # fmt: skip
    assert hits(url) == before
