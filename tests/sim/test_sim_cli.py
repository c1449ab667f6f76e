"""`qtui sim` as a user runs it: flags reach the simulator; bad flags are one line."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from qtui.config.paths import demo_profile
from qtui.sim.launcher import SimProcess, start_sim
from qtui.sim.server import READY

SMOKE = demo_profile().parent / "golden" / "smoke.jsonl"


def test_golden_flag_reaches_the_simulator() -> None:
    cmd = [sys.executable, "-m", "qtui", "sim", "--golden", str(SMOKE), "--seed", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        ready = None
        for line in proc.stdout:
            if line.startswith(READY):
                ready = json.loads(line[len(READY) :])
                break
        assert ready is not None, proc.stderr.read() if proc.stderr else ""
        assert Path(ready["golden"]) == SMOKE
        url = next(iter(ready["endpoints"].values()))
        assert httpx.get(f"{url}/health", timeout=5).status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0


def test_missing_golden_file_is_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "nope.jsonl"
    proc = subprocess.run(
        [sys.executable, "-m", "qtui", "sim", "--golden", str(missing)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert str(missing) in proc.stderr
    assert "Traceback" not in proc.stderr


def test_session_fixture_serves_the_demo(sim_demo: SimProcess) -> None:
    """The shared ``sim_demo`` fixture (tests/conftest.py) is a live simulator of the demo."""
    assert sim_demo.proc.poll() is None
    for url in sim_demo.endpoints.values():
        assert httpx.get(f"{url}/v1/models", timeout=5).json()["data"]


def test_a_fixed_write_cost_starts_the_simulator() -> None:
    with start_sim(demo_profile(), write_cost_us=5) as sim:
        url = next(iter(sim.endpoints.values()))
        assert httpx.get(f"{url}/health", timeout=5).status_code == 200


def test_a_bad_write_cost_is_named() -> None:
    cmd = [sys.executable, "-m", "qtui.sim", "--profile", str(demo_profile())]
    proc = subprocess.run([*cmd, "--write-cost-us", "fast"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "--write-cost-us: 'fast': expected microseconds per write > 0" in proc.stderr
    assert "Traceback" not in proc.stderr
