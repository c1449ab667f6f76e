"""A server that dies (kill -9 of its process) and comes back on the same port while `qtui bench`
runs (a real process too): it is measured again without restarting qtui, and the outage is a
span of errors with its length in the bench's output and the decision record's notes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import polars as pl
from badhttp import free_port
from benchrun import FINISHED

from qtui.session import load_session
from qtui.session.decision import decide

HERE = Path(__file__).resolve().parent
DEADLINE_S = 60.0


@contextmanager
def server(port: int) -> Iterator[subprocess.Popen[str]]:
    p = subprocess.Popen(
        [sys.executable, str(HERE / "badhttp.py"), str(port)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert p.stdout is not None
        assert p.stdout.readline().strip() == "ready"
        yield p
    finally:
        p.kill()
        p.wait(10)


def _lines_until(out: IO[str], n: int) -> None:
    """Read the server's 'request N' lines until the n-th (its requests, as they come)."""
    for line in out:
        if line.strip() == f"request {n}":
            return
    raise AssertionError(f"server ended before request {n}")


def _journal_has_error(out_dir: Path, name: str) -> bool:
    for path in out_dir.glob("*.qtsession"):
        for line in path.read_text(errors="replace").splitlines():
            if f'"endpoint":"{name}"' in line and '"error_class":"connect"' in line:
                return True
    return False


def test_a_server_killed_and_restarted_is_measured_again_and_the_outage_is_said(
    tmp_path: Path,
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    prof = tmp_path / "p.toml"
    prof.write_text(
        f'[profile]\nname = "recovery"\n[[endpoints]]\nname = "b"\nurl = "{url}"\n'
        'precision = "bf16"\n[workload]\ninput_tokens = { mean = 8 }\n'
        "output_tokens = { mean = 4 }\n[load]\nconcurrency = 2\nduration_s = 120\n"
    )
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(HERE.parents[1])}
    with server(port) as first:
        bench = subprocess.Popen(
            [sys.executable, "-m", "qtui", "bench", str(prof), "--out", str(out),
             "--max-requests", "60"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        assert first.stdout is not None
        _lines_until(first.stdout, 10)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    t0 = time.monotonic()  # wait for qtui to have seen the outage (its journal says so)
    while not _journal_has_error(out, "b"):
        assert time.monotonic() - t0 < DEADLINE_S and bench.poll() is None
        time.sleep(0.05)
    with server(port):
        stdout, stderr = bench.communicate(timeout=DEADLINE_S)
    assert bench.returncode in FINISHED, stdout + stderr
    s = load_session(next(out.glob("*.qtsession")))
    req = s.frame("request").sort("t_send")
    assert req.height == 60  # every request sent is recorded
    errors = req.filter(pl.col("error_class").is_in(["connect", "disconnect"]))
    ok_after = req.filter(
        (pl.col("error_class") == "none") & (pl.col("t_send") > errors["t_end"].max())
    )
    assert errors.height >= 2 and ok_after.height >= 10  # measured again, same URL, same run
    notes = [n for n in decide(s).notes if "no request completed for" in n]
    assert len(notes) == 1 and notes[0].startswith("b: no request completed for ")
    assert notes[0].endswith("; measured again after")
    assert f"note: {notes[0]}" in stdout  # qtui bench says it too
    summary = json.loads((out / "summary.json").read_text())
    ok = req.filter(pl.col("error_class") == "none").height
    assert summary["endpoints"]["b"]["summary"]["requests"] == ok  # before and after the outage
