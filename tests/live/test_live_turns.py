"""The app's TTFT by turn: the measurement process's status line for multi-turn load."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

from qtui.config.profile import Profile
from qtui.evidence.records import RequestRecord, Stats
from qtui.live.worker import LiveWorker, WorkerConfig


def _rec(turn: int, ttft: float, phase: str = "measure", error: str = "none") -> RequestRecord:
    r = RequestRecord("e0", f"e0-{turn}", phase, 1.0)  # type: ignore[arg-type]
    r.turn, r.chunk_times, r.error_class = turn, [ttft, ttft + 0.01], error  # type: ignore[assignment]
    return r


def test_the_status_line_says_turn_1_against_the_later_turns() -> None:
    prof = Profile.model_validate(
        {
            "profile": {"name": "t"},
            "endpoints": [{"name": "e0", "url": "http://127.0.0.1:1", "precision": "bf16"}],
            "workload": {"api": "chat", "turns": 2},
        }
    )
    read, write = mp.Pipe(duplex=False)
    w = LiveWorker(WorkerConfig(prof, {}, {"e0": "http://127.0.0.1:1"}, Path("p.toml")), write)
    for r in [
        _rec(1, 0.5),
        _rec(2, 0.1),
        _rec(2, 0.1),
        _rec(1, 9.0, "warmup"),
        _rec(2, 9.0, error="http"),
    ]:
        w._on_record(r)
    # only measured, successful turns: turn 1 [0.5], turns 2+ [0.1, 0.1]
    assert w.turns_message() == "TTFT by turn: e0 turn 1 500 ms, 2+ 100 ms p95"
    w._on_second(Stats("e0", 1.0, 1.0))
    msgs = []
    while read.poll():
        msgs.append(read.recv())
    assert msgs[-1][0] == "status" and msgs[-1][1]["message"] == w.turns_message()
