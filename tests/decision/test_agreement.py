"""One truth: replaying a session into the app's view and writing its decision record give the
same replicas, $/1M tokens, $/month, Δ vs baseline, quality verdict and go/no-go per endpoint,
and the same recommendation — for every shipped session and one recorded here per load mode."""

from __future__ import annotations

from pathlib import Path

import pytest

from qtui.commands import bench
from qtui.live.replay import ReplayFeed
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


def assert_agree(path: Path) -> None:
    """The replay's final view and the decision record state the same decision."""
    session = load_session(path)
    record = decide(session)
    now = [0.0]
    feed = ReplayFeed(session, speed=60, clock=lambda: now[0])
    now[0] = 1e9  # past the end: every record fed
    snap = feed.snapshot()
    assert snap.run.replay is not None and snap.run.replay.position_s == feed.duration
    assert snap.recommended == record.recommended, path.name
    assert snap.recommendation == record.why
    assert snap.savings_month_usd == record.savings.value
    for row in record.rows:
        name = row.summary.endpoint
        view, fin = snap.endpoint(name), row.finance
        assert view.cost.replicas == fin.sizing.replicas, name
        assert view.cost.usd_per_1m == fin.usd_per_m_output.value, name
        assert view.cost.monthly_usd == fin.monthly.value, name
        assert view.cost.delta_monthly_usd == fin.delta_month.value, name
        assert view.go == row.go and view.go_reasons == tuple(row.reasons), name
        shown = {"go": "go", "no-go": "no-go"}.get(row.judgement.quality or "", "n/a")
        assert view.quality.verdict == shown, name
        assert view.capacity in row.reasons[0] or not row.capacity.usable


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
    bench.run(prof, out=tmp_path / "out", show_progress=False, session=session)
    d = decide(load_session(session))
    cap = d.row("bf16").capacity
    assert cap.usable, d.row("bf16").reasons
    assert cap.lower_bound == (mode != "sweep") or "highest level met" in cap.bound_why
    assert_agree(session)
