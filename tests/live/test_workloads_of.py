"""The `w` key's workloads: the profile's own kind first, then synthetic and each file it names."""

from __future__ import annotations

from qtui.config.profile import Profile
from qtui.live.controller import workloads_of


def _profile(**workload: object) -> Profile:
    return Profile.model_validate(
        {
            "profile": {"name": "t"},
            "endpoints": [{"name": "e0", "url": "http://127.0.0.1:1", "precision": "bf16"}],
            "workload": workload,
        }
    )


def test_a_trace_file_is_a_workload_w_cycles_to() -> None:
    assert workloads_of(_profile()) == ("synthetic",)
    assert workloads_of(_profile(trace_file="day.jsonl")) == ("synthetic", "trace")
    assert workloads_of(_profile(kind="trace", trace_file="d.jsonl", golden_set="g.jsonl")) == (
        "trace",
        "synthetic",
        "golden",
    )


def test_sharegpt_conversations_are_offered_on_a_chat_profile_only() -> None:
    assert workloads_of(_profile(api="chat", conversations_file="sg.json")) == (
        "synthetic",
        "sharegpt",
    )
    assert workloads_of(_profile(conversations_file="sg.json")) == ("synthetic",)
