"""A session's TTFT by turn, overall and per sweep level, from its request rows (issue 21)."""

from __future__ import annotations

from pathlib import Path

from qtui.config.profile import Profile
from qtui.evidence.records import RequestRecord
from qtui.session.decision import decide
from qtui.session.reader import load_session
from qtui.session.report import turns_blocks
from qtui.session.turns import session_turns, session_turns_by_level
from qtui.session.writer import SessionWriter

T0 = 1_800_000_000.0


def _req(n: int, level: float, turn: int, ttft: float, error: str = "none") -> RequestRecord:
    r = RequestRecord("e0", f"e0-{n}", "measure", level)
    r.t_send, r.t_first_token, r.t_end = T0 + n, T0 + n + ttft, T0 + n + 1
    r.chunk_times, r.turn, r.conversation = [ttft, ttft + 0.1], turn, n
    r.prompt_tokens, r.completion_tokens, r.error_class = 10, 2, error  # type: ignore[assignment]
    return r


def test_turns_overall_and_at_each_level(tmp_path: Path) -> None:
    prof = Profile.model_validate(
        {
            "profile": {"name": "t"},
            "endpoints": [{"name": "e0", "url": "http://127.0.0.1:1", "precision": "bf16"}],
            "workload": {"api": "chat", "turns": 2},
        }
    )
    path = tmp_path / "t.qtsession"
    w = SessionWriter(path, profile=prof)
    rows = [(1.0, 1, 0.2), (1.0, 2, 0.1), (2.0, 1, 0.4), (2.0, 2, 0.3), (2.0, 2, 0.5)]
    for n, (level, turn, ttft) in enumerate(rows, 1):
        w.append("request", _req(n, level, turn, ttft))
    w.append("request", _req(9, 2.0, 2, 7.0, error="http"))  # failed: not a TTFT
    w.close()
    s = load_session(path)
    got = session_turns(s)["e0"]
    assert [(t.label, t.requests) for t in got] == [("1", 2), ("2", 3), ("2+", 3)]
    # median of 0.1, 0.3, 0.5 (TTFT = t_first_token - t_send: 1e-7 s from wall-clock floats)
    assert abs(got[1].p50 - 0.3) < 1e-6  # type: ignore[operator]
    by = session_turns_by_level(s)
    one = by[("e0", 1.0)]
    assert [(t.label, t.requests) for t in one] == [("1", 1), ("2", 1), ("2+", 1)]
    assert abs(one[0].p95 - 0.2) < 1e-6 and abs(one[1].p50 - 0.1) < 1e-6  # type: ignore[operator]
    two = by[("e0", 2.0)]
    assert two[1].requests == 2 and abs(two[1].p50 - 0.4) < 1e-6  # type: ignore[operator]
    items = turns_blocks(decide(s))[-1].items
    assert items[0].startswith("e0 at level 1: TTFT p50 / p95 by turn: 1: 200 / 200 ms")
