"""`qtui bench` with multi-turn conversations against the real simulator: each turn recorded
with its position, TTFT by turn printed, in summary.json and in the decision record (issue 21)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from benchrun import bench_to_end

from qtui.evidence.turns import ttft_by_turn, turn_text
from qtui.live.replay import ReplayFeed
from qtui.session import load_session
from qtui.session.report import write_report
from qtui.session.turns import session_turns

PROFILE = """
[profile]
name = "chat turns"

[[endpoints]]
name = "bf16"
precision = "bf16"
telemetry = "none"
[endpoints.simulate]
model = "smollm2-135m"

[[endpoints]]
name = "fp8"
precision = "fp8"
telemetry = "none"
[endpoints.simulate]
model = "smollm2-135m"
kv_cache_dtype = "fp8"

[workload]
api = "chat"
turns = 3
think_time_s = 0.01
input_tokens = { mean = 200 }
output_tokens = { mean = 20 }

[load]
concurrency = 2
max_requests = 12
"""


def bench(profile: Path, out: Path) -> dict[str, Any]:
    """`qtui bench` to its end (tests/benchrun.py)."""
    return bench_to_end(profile, out, show_progress=False)


def test_bench_records_and_reports_ttft_per_turn(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "p.toml").write_text(PROFILE)
    summary = bench(tmp_path / "p.toml", tmp_path / "out")
    (path,) = (tmp_path / "out").glob("*.qtsession")
    s = load_session(path)
    assert s.profile is not None and (
        s.profile.workload.turns,
        s.profile.workload.think_time_s,
    ) == (3, 0.01)
    reqs = s.frame("request").sort("t_send")
    for ep in ("bf16", "fp8"):
        rows = [r for r in reqs.to_dicts() if r["endpoint"] == ep]
        assert sorted(r["turn"] for r in rows) == [1] * 4 + [2] * 4 + [3] * 4
        by_conv: dict[int, list[dict[str, object]]] = {}
        for r in rows:
            by_conv.setdefault(int(r["conversation"]), []).append(r)
        assert len(by_conv) == 4
        for turns in by_conv.values():  # the history grows: each turn's prompt is longer
            tokens = [int(str(r["prompt_tokens"])) for r in sorted(turns, key=lambda r: r["turn"])]
            assert tokens[0] < tokens[1] < tokens[2]
    turns = session_turns(s)
    assert [t.label for t in turns["bf16"]] == ["1", "2", "3", "2+"]
    assert [t.requests for t in turns["fp8"]] == [4, 4, 4, 8]
    # the same figure as the pure function over the session's own rows
    bf = [r for r in reqs.to_dicts() if r["endpoint"] == "bf16"]
    assert turns["bf16"] == ttft_by_turn((r["turn"], r["t_first_token"] - r["t_send"]) for r in bf)
    out = capsys.readouterr().out
    assert f"bf16: {turn_text(turns['bf16'])}" in out
    doc = summary["decision"]["endpoints"]["fp8"]["ttft_by_turn"]
    assert [d["turn"] for d in doc] == ["1", "2", "3", "2+"] and doc[3]["requests"] == 8
    (md, *_) = write_report([path], tmp_path / "rep")
    text = md.read_text()
    assert "## TTFT per turn position" in text
    assert f"fp8: {turn_text(turns['fp8'])}" in text
    assert "synthetic conversations of 3 turns" in text
    json.dumps(summary)  # summary.json's content stays JSON
    notes = ReplayFeed(load_session(path)).notes  # the app replaying it says the same
    assert f"bf16: {turn_text(turns['bf16'])}" in notes
