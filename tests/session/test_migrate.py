"""Version-1 sessions read in the current shape: a held bench load's `sweep_level` row is not a
sweep (its capacity is the seconds', a lower bound); a version-1 sweep keeps its levels."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qtui.session.decision import decide
from qtui.session.reader import load_session
from qtui.session.synth import synth_profile
from qtui.session.writer import SessionWriter


def _v1_bench_session(path: Path, mode: str) -> Path:
    prof = synth_profile(1)
    with SessionWriter(path, profile=prof, meta={"command": "qtui bench"}) as w:
        for t in range(5):
            w.append("client_second", {"endpoint": "bf16", "t": 100.0 + t, "duration_s": 1.0,
                                       "requests": 4, "rps": 4.0, "in_tps": 2048.0,
                                       "out_tps": 512.0, "ttft_p95": 0.1, "itl_p95": 0.02,
                                       "e2e_p95": 2.0, "error_rate": 0.0, "cancelled": 0,
                                       "level": None})  # fmt: skip
        w.append("sweep_level", {"endpoint": "bf16", "level": 8.0, "t_end": 105.0,
                                 "duration_s": 5.0, "requests": 20, "rps": 9.0, "in_tps": 1.0,
                                 "out_tps": 9.0, "ttft_p95": 0.1, "itl_p95": 0.02,
                                 "e2e_p95": 2.0, "error_rate": 0.0})  # fmt: skip
        w.append("meta", {"t": 106.0, "mode": mode})
        w.close(finalise=False)
    lines = path.read_text().splitlines()
    header = json.loads(lines[0])
    header["version"] = 1  # as qtui wrote it before format version 2
    path.write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n")
    return path


def test_a_held_v1_bench_load_is_read_as_held(tmp_path: Path) -> None:
    s = load_session(_v1_bench_session(tmp_path / "held.qtsession", "concurrency"))
    assert "sweep_level" not in s.tables
    cap = decide(s).row("bf16").capacity
    assert cap.lower_bound and cap.rps == 4.0 and cap.source.startswith("held at ")


def test_a_v1_sweep_keeps_its_levels(tmp_path: Path) -> None:
    s = load_session(_v1_bench_session(tmp_path / "sweep.qtsession", "sweep"))
    assert "sweep_level" in s.tables
    assert decide(s).row("bf16").capacity.rps == pytest.approx(9.0)
