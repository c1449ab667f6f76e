"""Start and stop llama.cpp OpenAI-compatible servers on 127.0.0.1, never leaving orphans."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from qtui.errors import QtuiError

HOST = "127.0.0.1"


@dataclass(frozen=True)
class ServerSpec:
    """One llama.cpp server: which file, under which model id, on which port."""

    name: str
    model: Path
    alias: str
    port: int = 0  # 0: pick a free port at start
    n_ctx: int = 2048
    n_threads: int = 1
    extra_args: tuple[str, ...] = ()


def server_command(python: Path, spec: ServerSpec, port: int) -> list[str]:
    """The `python -m llama_cpp.server` command line for a spec (pure)."""
    return [
        str(python), "-m", "llama_cpp.server",
        "--model", str(spec.model),
        "--model_alias", spec.alias,
        "--host", HOST,
        "--port", str(port),
        "--n_ctx", str(spec.n_ctx),
        "--n_threads", str(spec.n_threads),
        "--n_threads_batch", str(spec.n_threads),
        # The default (True) ends a stream early with [DONE] whenever another request waits:
        # under concurrent load that truncates nearly every response. Off, requests queue.
        "--interrupt_requests", "False",
        *spec.extra_args,
    ]  # fmt: skip


def free_port() -> int:
    """A port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:
    """In the child: get SIGTERM if the test process dies, even by SIGKILL (Linux only)."""
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class ServerProcess:
    """A started server: its URL, its process, and where its output went."""

    spec: ServerSpec
    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path
    _log: object = field(repr=False, default=None)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def log_tail(self, lines: int = 5) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return " | ".join(text.strip().splitlines()[-lines:])

    def stop(self, grace_s: float = 10.0) -> None:
        """SIGTERM the server's process group, SIGKILL it after `grace_s`; idempotent."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=grace_s)
        close = getattr(self._log, "close", None)
        if close is not None:
            close()


def spawn(
    spec: ServerSpec, port: int, argv: Sequence[str], log_dir: Path, env: Mapping[str, str]
) -> ServerProcess:
    """Run ``argv`` in its own process group, output to ``log_dir/<name>.log``; returns at once."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{spec.name}.log"
    log = log_path.open("wb")
    try:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env),
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
    except OSError:
        log.close()
        raise
    return ServerProcess(spec, port, proc, log_path, log)


def start_server(python: Path, spec: ServerSpec, log_dir: Path) -> ServerProcess:
    """Launch a server in its own process group; returns before it is ready."""
    port = spec.port or free_port()
    env = {k: v for k, v in os.environ.items() if k.upper() not in _SETTINGS_ENV}
    return spawn(spec, port, server_command(python, spec, port), log_dir, env)


# llama_cpp.server reads its settings from the environment too (pydantic-settings): a stray
# PORT or MODEL in CI must not change what we started.
_SETTINGS_ENV = frozenset(
    [
        "HOST",
        "PORT",
        "MODEL",
        "MODEL_ALIAS",
        "N_CTX",
        "N_THREADS",
        "N_THREADS_BATCH",
        "N_GPU_LAYERS",
        "CHAT_FORMAT",
        "CONFIG_FILE",
        "API_KEY",
        "SEED",
        "VERBOSE",
        "INTERRUPT_REQUESTS",
        "LOGITS_ALL",
    ]
)


def wait_until_up(
    server: ServerProcess,
    path: str,
    *,
    what: str,
    state: str,
    timeout_s: float,
    poll_s: float,
    log_lines: int = 5,
    on_wait: Callable[[float], None] | None = None,
) -> float:
    """Poll GET ``path`` until 200; seconds taken. A server that exits first, or is not up
    after ``timeout_s``, is one QtuiError naming it, its URL and the end of its log.
    ``on_wait(seconds so far)`` runs after each failed poll (progress lines)."""
    t0 = time.monotonic()
    name = f"{what} {server.spec.name!r}"
    with httpx.Client(timeout=2.0) as client:
        while True:
            if server.proc.poll() is not None:
                raise QtuiError(
                    f"{name} exited with {server.proc.returncode} before it was {state}; "
                    f"see {server.log_path}: {server.log_tail(log_lines)}"
                )
            with contextlib.suppress(httpx.HTTPError):
                if client.get(f"{server.url}{path}").status_code == 200:
                    return time.monotonic() - t0
            waited = time.monotonic() - t0
            if waited > timeout_s:
                raise QtuiError(
                    f"{name} not {state} after {timeout_s:.0f} s on {server.url}; "
                    f"see {server.log_path}: {server.log_tail(log_lines)}"
                )
            if on_wait is not None:
                on_wait(waited)
            time.sleep(poll_s)


def wait_ready(server: ServerProcess, timeout_s: float = 120.0, poll_s: float = 0.2) -> None:
    """Block until GET /v1/models answers 200; a server that exits or stalls is one clear line."""
    wait_until_up(
        server, "/v1/models", what="llama.cpp server", state="ready", timeout_s=timeout_s,
        poll_s=poll_s,
    )  # fmt: skip


@contextlib.contextmanager
def running_servers(
    python: Path, specs: Sequence[ServerSpec], log_dir: Path, ready_timeout_s: float = 120.0
) -> Iterator[list[ServerProcess]]:
    """Start all servers, wait for each, yield them; stop every one on exit, even on error."""
    started: list[ServerProcess] = []
    try:
        for spec in specs:
            started.append(start_server(python, spec, log_dir))
        for server in started:
            wait_ready(server, ready_timeout_s)
        yield started
    finally:
        for server in started:
            server.stop()
