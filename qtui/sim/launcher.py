"""Start the simulator as a child process and know when every endpoint is up (demo, tests)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType

from qtui.errors import QtuiError
from qtui.sim.server import READY


class SimProcess:
    """A running ``python -m qtui.sim``; ``.endpoints`` maps endpoint name → base URL."""

    def __init__(self, proc: subprocess.Popen[str], ready: dict[str, object]) -> None:
        self.proc = proc
        self.pid = proc.pid
        self.endpoints: dict[str, str] = dict(ready["endpoints"])  # type: ignore[call-overload]
        self.dcgm_urls: dict[str, str] = dict(ready["dcgm"])  # type: ignore[call-overload]
        self.golden: str | None = ready.get("golden")  # type: ignore[assignment]

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM, wait, SIGKILL if it hangs; returns the exit code. Safe to call twice."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout)
        return self.proc.returncode

    def __enter__(self) -> SimProcess:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def start_sim(
    profile_path: Path,
    seed: int = 0,
    golden: Path | None = None,
    port: int = 0,
    timeout: float = 30.0,
    write_cost_us: float | None = None,
) -> SimProcess:
    """Spawn the simulator and return once it printed its readiness line (every port listening).

    ``write_cost_us``: a fixed CPU cost per stream write for its pacer (see ``qtui.sim.pacing``)."""
    cmd = [
        sys.executable,
        "-m",
        "qtui.sim",
        "--profile",
        str(profile_path),
        "--seed",
        str(seed),
        "--port",
        str(port),
    ]
    if golden is not None:
        cmd += ["--golden", str(golden)]
    if write_cost_us is not None:
        cmd += ["--write-cost-us", f"{write_cost_us:g}"]
    err = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (outlives this function with the child)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True, env=env)
    assert proc.stdout is not None
    found: list[dict[str, object]] = []
    done = threading.Event()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:  # keeps draining after READY so the child never blocks
            if line.startswith(READY) and not found:
                found.append(json.loads(line[len(READY) :]))
                done.set()
        done.set()

    threading.Thread(target=pump, name="qtui-sim-stdout", daemon=True).start()
    deadline = time.monotonic() + timeout
    done.wait(timeout)
    if not found:
        if proc.poll() is None and time.monotonic() >= deadline:
            proc.kill()
            proc.wait()
            raise QtuiError(f"simulator did not come up within {timeout:.0f} s")
        proc.wait()
        err.seek(0)
        lines = [ln for ln in err.read().splitlines() if ln.strip()]
        why = lines[-1].removeprefix("error: ") if lines else f"exit code {proc.returncode}"
        raise QtuiError(f"simulator failed to start: {why}")
    return SimProcess(proc, found[0])
