"""Notice a server qtui started dying while it is measured, and say so in one line.

A thread checks each server process twice a second (``Popen.poll``, a non-blocking waitpid) and
once more when qtui stops; a server that exited before qtui stops it gets ``on_exit(endpoint,
line)`` once, with a line naming the endpoint, the exit code or signal, and the server's log
file. qtui's own stop of the servers comes after ``stop()`` and is not reported.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Mapping
from pathlib import Path

from qtui.engines.server import ServerProcess

OnExit = Callable[[str, str], None]


def exit_status(returncode: int | None) -> str:
    """'exit code 1', 'signal 11 (SIGSEGV)', or 'an unknown status' (pure)."""
    if returncode is None:
        return "an unknown status"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            return f"signal {-returncode}"
        return f"signal {-returncode} ({name})"
    if returncode > 128 and returncode - 128 in signal.valid_signals():  # a shell's 128+N
        return f"exit code {returncode} (signal {returncode - 128} by the shell's convention)"
    return f"exit code {returncode}"


def server_exit_line(endpoint: str, returncode: int | None, log_path: Path | None) -> str:
    """The one line a server that died mid-run gets, live, in `qtui bench` and in the session."""
    where = f"; see {log_path}" if log_path is not None else ""
    status = exit_status(returncode)
    return f"endpoint {endpoint}: server exited with {status} while measured{where}"


class ServerWatch:
    """Reports any started server that exits before ``stop()`` is called, once."""

    def __init__(
        self, servers: Mapping[str, ServerProcess], on_exit: OnExit, every_s: float = 0.5
    ) -> None:
        self._servers = dict(servers)
        self._on_exit = on_exit
        self._every_s = every_s
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.exited: dict[str, str] = {}  # endpoint → its line, for whoever asks at the end

    def start(self) -> ServerWatch:
        if self._servers:
            self._thread = threading.Thread(target=self._loop, name="qtui-watch", daemon=True)
            self._thread.start()
        return self

    def check(self) -> None:
        """Report each server that has exited since the last check (any thread)."""
        with self._lock:
            for name, server in self._servers.items():
                code = server.proc.poll()
                if code is None or name in self.exited:
                    continue
                line = server_exit_line(name, code, server.log_path)
                self.exited[name] = line
                self._on_exit(name, line)

    def stop(self) -> None:
        """A last check; then qtui stops the servers itself, and that exit is not reported."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
        self.check()
        self._servers.clear()

    def _loop(self) -> None:
        while not self._stopping.wait(self._every_s):
            self.check()
