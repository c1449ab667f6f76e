"""A server qtui started that dies while measured is one line: endpoint, exit status, log file."""

from __future__ import annotations

import sys
from pathlib import Path

from qtui.engines.server import ServerProcess, ServerSpec, spawn
from qtui.launch.watch import ServerWatch, exit_status, server_exit_line

SEGFAULT = "import os, signal; print('dying', flush=True); os.kill(os.getpid(), signal.SIGSEGV)"


def test_exit_status_names_the_code_or_the_signal() -> None:
    assert exit_status(1) == "exit code 1"
    assert exit_status(0) == "exit code 0"
    assert exit_status(-11) == "signal 11 (SIGSEGV)"
    assert exit_status(-9) == "signal 9 (SIGKILL)"
    assert exit_status(139) == "exit code 139 (signal 11 by the shell's convention)"
    assert exit_status(None) == "an unknown status"


def test_the_line_names_endpoint_status_and_log() -> None:
    line = server_exit_line("int4", -11, Path("qtui-out/logs/int4.log"))
    assert line == (
        "endpoint int4: server exited with signal 11 (SIGSEGV) while measured; "
        "see qtui-out/logs/int4.log"
    )


def _server(tmp_path: Path, name: str, code: str) -> ServerProcess:
    spec = ServerSpec(name, Path("/m"), name)
    return spawn(spec, 0, [sys.executable, "-c", code], tmp_path, {})


def test_a_server_that_crashes_is_reported_once_and_one_stopped_by_qtui_is_not(
    tmp_path: Path,
) -> None:
    crashed = _server(tmp_path, "int4", SEGFAULT)
    alive = _server(tmp_path, "bf16", "import time; time.sleep(600)")
    seen: list[tuple[str, str]] = []
    watch = ServerWatch({"int4": crashed, "bf16": alive}, lambda n, line: seen.append((n, line)))
    watch.start()
    crashed.proc.wait(timeout=60)
    watch.stop()  # the last check sees the crash even if the thread has not yet
    alive.stop()
    crashed.stop()
    assert seen == [
        ("int4", f"endpoint int4: server exited with signal 11 (SIGSEGV) while measured; "
                 f"see {tmp_path / 'int4.log'}")
    ]  # fmt: skip
    assert watch.exited == {"int4": seen[0][1]}
    assert "dying" in (tmp_path / "int4.log").read_text()


def test_no_servers_no_thread() -> None:
    watch = ServerWatch({}, lambda n, line: None).start()
    watch.stop()
    assert watch.exited == {}
