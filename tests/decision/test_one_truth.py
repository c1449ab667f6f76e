"""One truth: replaying a session into the app's view and writing its decision record give the
same replicas, $/1M tokens, $/month, Δ vs baseline, quality verdict and go/no-go per endpoint,
and the same recommendation — for every shipped session and one recorded here per load mode."""

from __future__ import annotations

from pathlib import Path

import pytest
from agreement import assert_agree
from benchrun import bench_to_end

from qtui.session.decision import decide
from qtui.session.reader import load_session
from qtui.session.synth import write_synthetic_session

SESSIONS = Path(__file__).resolve().parents[2] / "sessions"
SHIPPED = sorted(SESSIONS.glob("*.qtsession"))

PROFILE = """
[profile]
name = "agreement {mode}"
baseline = "bf16"

[[endpoints]]
name = "bf16"
precision = "bf16"
telemetry = "dcgm"
[endpoints.simulate]
model = "llama-3.1-8b"

[[endpoints]]
name = "fp8"
precision = "fp8"
telemetry = "dcgm"
[endpoints.simulate]
model = "llama-3.1-8b"
weights = "fp8"

[workload]
input_tokens = {{ mean = 64 }}
output_tokens = {{ mean = 8 }}

[load]
mode = "{mode}"
concurrency = 4
rate = 8.0
duration_s = 4
sweep = {{ levels = [1, 4], step_duration_s = 3 }}

[cost]
peak_rps = 20
"""


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_every_shipped_session_agrees(path: Path) -> None:
    assert_agree(path)


def test_a_synthetic_session_agrees(tmp_path: Path) -> None:
    assert_agree(write_synthetic_session(tmp_path / "synth.qtsession", endpoints=3, minutes=1))


@pytest.mark.parametrize("mode", ["concurrency", "rate", "sweep"])
def test_a_bench_session_agrees_in_every_mode(tmp_path: Path, mode: str) -> None:
    prof = tmp_path / "p.toml"
    prof.write_text(PROFILE.format(mode=mode))
    session = tmp_path / f"{mode}.qtsession"
    bench_to_end(prof, tmp_path / "out", show_progress=False, session=session)
    d = decide(load_session(session))
    cap = d.row("bf16").capacity
    assert cap.usable, d.row("bf16").reasons
    assert cap.lower_bound == (mode != "sweep") or "highest level met" in cap.bound_why
    assert_agree(session)


def test_bench_summary_states_the_decisions_capacity_only(tmp_path: Path) -> None:
    import json

    prof = tmp_path / "p.toml"
    prof.write_text(PROFILE.format(mode="concurrency"))
    bench_to_end(prof, tmp_path / "out", show_progress=False, session=tmp_path / "s.qtsession")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    for name, ep in summary["endpoints"].items():
        assert ep["capacity"]["capacity"] == summary["decision"]["endpoints"][name]["capacity"]


def test_bench_summary_states_the_records_verdicts(tmp_path: Path) -> None:
    """summary.json says GO / NO-GO / NOT DECIDED in the decision record's words (issue 18)."""
    import json

    from qtui.session.decision import decide
    from qtui.session.reader import load_session
    from qtui.session.report import summary_frame

    prof = tmp_path / "p.toml"
    prof.write_text(PROFILE.format(mode="concurrency"))
    spath = tmp_path / "s.qtsession"
    bench_to_end(prof, tmp_path / "out", show_progress=False, session=spath)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())["decision"]
    d = decide(load_session(spath))
    csv = {r["endpoint"]: r for r in summary_frame(d).to_dicts()}
    for row in d.rows:
        j, got = row.judgement, summary["endpoints"][row.summary.endpoint]
        assert got["verdict"] == j.verdict
        assert got["decision"] == j.status == csv[row.summary.endpoint]["decision"]
        assert got["decision_undecided"] == j.undecided
        assert got["verdict"].split(" (")[0] in ("GO", "NO-GO", "NOT DECIDED")


@pytest.mark.parametrize("mode", ["concurrency", "rate"])
def test_a_bench_level_from_the_command_line_labels_the_capacity(tmp_path: Path, mode: str) -> None:
    """`qtui bench --level N` holds N users (or N req/s), not the file's 4 users / 8 req/s: the
    record and summary.json say the level that ran."""
    import json

    prof = tmp_path / "p.toml"
    prof.write_text(PROFILE.format(mode=mode))
    session = tmp_path / f"{mode}.qtsession"
    out = tmp_path / "out"
    bench_to_end(prof, out, level=3.0, show_progress=False, session=session)
    row = decide(load_session(session)).row("bf16")
    cap = row.capacity
    held = "held at 3 users" if mode == "concurrency" else "held at 3 req/s"
    assert cap.source == held, cap.source
    # one throughput: "output tok/s per replica" and "Measured under load" of a held run
    assert row.finance.output_tps.value == pytest.approx(row.summary.out_tps)
    summary = json.loads((out / "summary.json").read_text())
    assert held in summary["endpoints"]["bf16"]["capacity"]["capacity"]
    assert_agree(session)
