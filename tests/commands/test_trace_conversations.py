"""A measured multi-turn day replayed (issue 21): `qtui bench` runs conversations against the real
simulator, `qtui trace from-session` writes them as turn lines, and `qtui bench` replays that
trace: each conversation's turns in order, each resending a longer history, TTFT per turn."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest
from benchrun import SMOL_BF16_FP8, bench_to_end

from qtui.commands.trace import convert, from_session
from qtui.evidence.turns import turn_text
from qtui.load.trace import read_trace
from qtui.session import load_session
from qtui.session.turns import session_turns

HEAD = '[profile]\nname = "day"\nbaseline = "bf16"\n' + SMOL_BF16_FP8
CHAT = (
    HEAD
    + """
[workload]
api = "chat"
turns = 3
think_time_s = 0.05
input_tokens = { mean = 200 }
output_tokens = { mean = 20 }

[load]
concurrency = 2
max_requests = 12
"""
)
REPLAY = HEAD + '\n[workload]\nkind = "trace"\ntrace_file = "day.jsonl"\napi = "chat"\n'


def conversations(rows: list[dict[str, object]]) -> dict[int, list[dict[str, object]]]:
    by: dict[int, list[dict[str, object]]] = {}
    for r in sorted(rows, key=lambda r: float(str(r["t_send"]))):
        by.setdefault(int(str(r["conversation"])), []).append(r)
    return by


def test_a_multi_turn_session_replays_as_conversations(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "chat.toml").write_text(CHAT)
    bench_to_end(tmp_path / "chat.toml", tmp_path / "day", show_progress=False)
    (day,) = (tmp_path / "day").glob("*.qtsession")
    said = from_session(day, tmp_path / "day.jsonl", None, 1.0, 1.0, 0)
    assert said.endswith("; 12 turns of 4 conversations (up to 3 turns)")
    trace = read_trace(tmp_path / "day.jsonl")
    recorded = [r for r in load_session(day).frame("request").to_dicts() if r["endpoint"] == "bf16"]
    row = {(r["conversation"], r["turn"]): r for r in recorded}
    convs: dict[object, list[int]] = {}
    for it in trace.items:
        convs.setdefault(it.conversation, []).append(it.turn)
        if it.turn > 1:  # the pause between the answer before it and its send, as recorded
            gap = (
                row[it.conversation, it.turn]["t_send"] - row[it.conversation, it.turn - 1]["t_end"]
            )
            assert it.think_s == round(gap, 6)
            assert it.think_s >= 0.049  # think_time_s, less at most uvloop's 1 ms timer grain
    assert sorted(convs) == sorted({int(r["conversation"]) for r in recorded})
    assert all(v == [1, 2, 3] for v in convs.values())
    later = [it.input_tokens for it in trace.items if it.turn > 1]  # the new message alone
    first = [it.input_tokens for it in trace.items if it.turn == 1]
    assert max(later) < min(first) + 20  # not the whole history, which would double it
    convert(tmp_path / "day.jsonl", tmp_path / "fast.jsonl", 2.0, 1.0, 0)  # --speed 2
    fast = read_trace(tmp_path / "fast.jsonl").items
    assert [(it.conversation, it.turn) for it in fast] == [
        (it.conversation, it.turn) for it in trace.items
    ]
    assert [it.think_s for it in fast if it.turn > 1] == pytest.approx(
        [it.think_s / 2 for it in trace.items if it.think_s is not None], abs=1e-6
    )  # thinking is trace time too

    (tmp_path / "replay.toml").write_text(REPLAY)
    capsys.readouterr()
    bench_to_end(tmp_path / "replay.toml", tmp_path / "replay", show_progress=False)
    out = capsys.readouterr().out
    (path,) = (tmp_path / "replay").glob("*.qtsession")
    s = load_session(path)
    rows = s.frame("request").to_dicts()
    for ep in ("bf16", "fp8"):
        mine = [r for r in rows if r["endpoint"] == ep]
        assert len(mine) == 12 and all(r["error_class"] == "none" for r in mine)
        by = conversations(mine)
        assert len(by) == 4
        for turns in by.values():
            assert [r["turn"] for r in turns] == [1, 2, 3]  # in order, one after another
            tokens = [int(str(r["prompt_tokens"])) for r in turns]
            assert tokens[0] < tokens[1] < tokens[2]  # each resends the longer history
            for a, b in pairwise(turns):
                assert float(str(b["t_send"])) >= float(str(a["t_end"]))  # after the answer
                # the history is the last turn's prompt and answer, then the new message
                assert int(str(b["prompt_tokens"])) > int(str(a["prompt_tokens"])) + int(
                    str(a["completion_tokens"])
                )
    turns = session_turns(s)
    for ep in ("bf16", "fp8"):
        assert [t.label for t in turns[ep]] == ["1", "2", "3", "2+"]
        assert [t.requests for t in turns[ep]] == [4, 4, 4, 8]
        assert f"{ep}: {turn_text(turns[ep])}" in out  # qtui bench's per-turn line
