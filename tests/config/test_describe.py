"""The workload in words, as the decision record and the app state it."""

from __future__ import annotations

from qtui.config.describe import workload_text
from qtui.config.profile import LengthDist, Workload


def test_each_kind_in_words() -> None:
    w = Workload(input_tokens=LengthDist(mean=512), output_tokens=LengthDist(mean=128))
    assert workload_text(w) == "synthetic prompts: input 512 tokens, output 128 tokens"
    w = Workload(
        input_tokens=LengthDist(mean=100, dist="normal", spread=10),
        prefix_count=8,
        prefix_tokens=2048,
        trace_file="day.jsonl",
        speed=2.0,
        rate_scale=0.5,
        golden_set="g.jsonl",
    )
    assert workload_text(w) == (
        "synthetic prompts: input 100 tokens mean (normal), output 128 tokens, "
        "behind 8 shared prefixes of 2048 tokens"
    )
    assert workload_text(w, "trace") == (
        "trace day.jsonl replayed at its times, speed 2×, rate 0.5× (seed 0); "
        "512 tokens per hash id"
    )
    assert workload_text(w, "golden") == "golden set g.jsonl"


def test_conversations_in_words() -> None:
    w = Workload(api="chat", turns=4, think_time_s=2.0, input_tokens=LengthDist(mean=100))
    assert workload_text(w) == (
        "synthetic conversations of 4 turns: input 100 tokens, output 128 tokens; each turn "
        "resends the history and the answers; think time 2 s (seed 0)"
    )
    w = Workload(
        api="chat", kind="sharegpt", conversations_file="sg.json", turns=8, think_time_s=1.5,
        think_dist="exponential",
    )  # fmt: skip
    assert workload_text(w) == (
        "ShareGPT conversations sg.json, up to 8 turns each, output the recorded answers' "
        "lengths; each turn resends the history and the answers; think time 1.5 s mean "
        "(exponential) (seed 0)"
    )
