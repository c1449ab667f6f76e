"""Start a profile's `vllm serve` servers one after another, wait for /health, stop them on exit."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qtui.config.profile import Profile
from qtui.engines.server import ServerProcess, ServerSpec, spawn, wait_until_up
from qtui.errors import ConfigError
from qtui.launch.plan import VllmServer, fit_problem, plan

Log = Callable[[str], None]
LOG_DIR = Path("qtui-out") / "logs"  # one <endpoint>.log per launched server
STOP_GRACE_S = 30.0  # vLLM shuts its engine core down on SIGTERM; give it time before SIGKILL


def gpu_memory() -> tuple[dict[int, int], dict[int, int]] | None:
    """(total, free) bytes per GPU index from NVML, or None where NVML is not usable."""
    try:
        import pynvml

        pynvml.nvmlInit()
    except Exception:
        return None
    try:
        total: dict[int, int] = {}
        free: dict[int, int] = {}
        for i in range(pynvml.nvmlDeviceGetCount()):
            mem = pynvml.nvmlDeviceGetMemoryInfo(pynvml.nvmlDeviceGetHandleByIndex(i))
            total[i], free[i] = int(mem.total), int(mem.free)
        return total, free
    except Exception:
        return None
    finally:
        with contextlib.suppress(Exception):
            pynvml.nvmlShutdown()


def resolve(executable: str) -> str:
    """The vllm command's full path; a missing one is one line saying how to get it."""
    found = shutil.which(executable)
    if found is None:
        raise ConfigError(
            f"{executable!r} not found: install vLLM (pip install 'qtui[vllm]') on this GPU host, "
            "or set [endpoints.launch] executable to its path"
        )
    return found


# "(EngineCore pid=3557) INFO 11-23 22:30:30 [model_runner.py:747] " before vLLM's messages
VLLM_LOG_PREFIX = re.compile(
    r"^(?:\(\w+ pid=\d+\)\s*)?(?:DEBUG|INFO|WARNING|ERROR|CRITICAL)\s+"
    r"\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?\s+\[[^\]]*\]\s*"
)


def progress_text(log_text: str, width: int) -> str:
    """The last thing a starting server logged, without vLLM's prefix, cut to ``width``."""
    lines = [ln.split("\r")[-1].strip() for ln in log_text.replace("\r\n", "\n").split("\n")]
    lines = [ln for ln in lines if ln]
    if not lines:
        return "(no output yet)"
    text = VLLM_LOG_PREFIX.sub("", lines[-1])
    return text if len(text) <= width else text[: max(1, width - 1)] + "…"


def _last_line(server: ServerProcess, room: int) -> str:
    text = server.log_path.read_text(errors="replace") if server.log_path.exists() else ""
    return progress_text(text, room)


def wait_healthy(
    server: ServerProcess,
    timeout_s: float,
    log: Log,
    every_s: float = 10.0,
    poll_s: float = 1.0,
) -> float:
    """Poll GET /health until 200; print progress every ``every_s``; returns seconds taken."""
    shown = [0.0]

    def progress(waited: float) -> None:
        if waited - shown[0] >= every_s:
            shown[0] = waited
            head = f"  {server.spec.name}: starting, {waited:.0f} s: "
            room = max(20, shutil.get_terminal_size().columns - len(head) - 1)
            log(head + _last_line(server, room))

    return wait_until_up(
        server, "/health", what="vLLM server", state="healthy", timeout_s=timeout_s,
        poll_s=poll_s, log_lines=3, on_wait=progress,
    )  # fmt: skip


def start(server: VllmServer, log_dir: Path, env: Mapping[str, str]) -> ServerProcess:
    """Spawn one `vllm serve` in its own process group (its log: ``log_dir/<name>.log``)."""
    argv = (resolve(server.argv[0]), *server.argv[1:])
    spec = ServerSpec(name=server.name, model=Path(server.argv[2]), alias=server.served_model)
    return spawn(spec, server.port, argv, log_dir, {**env, **server.env})


def refuse_unfit(servers: list[VllmServer]) -> None:
    """Raise before anything starts when the memory fractions cannot fit the GPUs."""
    mem = gpu_memory()
    problem = fit_problem(servers, *(mem or (None, None)))
    if problem:
        raise ConfigError(f"--launch refused: {problem}")


@contextlib.contextmanager
def launch_servers(
    profile: Profile, log_dir: Path, log: Log = print
) -> Iterator[list[ServerProcess]]:
    """Start each planned server, waiting for its /health before the next; stop all on exit."""
    servers = plan(profile)
    refuse_unfit(servers)
    for s in servers:  # every executable must exist before the first server starts
        resolve(s.argv[0])
    started: list[ServerProcess] = []
    env = {**os.environ, "VLLM_NO_USAGE_STATS": "1", "DO_NOT_TRACK": "1"}
    previous = _exit_on_sigterm()
    try:
        log(f"qtui: server logs in {log_dir}/ (<endpoint>.log)")
        for i, s in enumerate(servers, 1):  # each line fits an 80-column terminal
            log(f"qtui: starting {s.name} ({i}/{len(servers)}) on {s.url}, GPU {s.gpu_index}, "
                f"memory {s.fraction:g}")  # fmt: skip
            proc = start(s, log_dir, env)
            started.append(proc)
            took = wait_healthy(proc, s.ready_timeout_s, log)
            log(f"qtui: {s.name} healthy after {took:.0f} s (pid {proc.proc.pid})")
        yield started
    finally:
        for proc in reversed(started):
            if proc.proc.poll() is None:
                log(f"qtui: stopping {proc.spec.name} (pid {proc.proc.pid})")
            proc.stop(STOP_GRACE_S)
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _exit_on_sigterm() -> Any:
    """SIGTERM → SystemExit, so `finally` stops the servers (default SIGTERM skips it)."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    return signal.signal(signal.SIGTERM, handler)


@dataclass(frozen=True, slots=True)
class Launched:
    """Where each endpoint answers (launched ones on 127.0.0.1, the rest as configured), and the
    root pid of each server qtui started (NVML maps its engine's GPU memory to it)."""

    urls: dict[str, str]
    pids: dict[str, int]
    servers: dict[str, ServerProcess]


@contextlib.contextmanager
def launched(profile: Profile, log_dir: Path, log: Log = print) -> Iterator[Launched]:
    """The profile's servers started (launch_servers), as URLs and pids by endpoint name."""
    with launch_servers(profile, log_dir, log) as servers:
        urls = {e.name: e.url for e in profile.endpoints if e.url}
        urls.update({s.spec.name: s.url for s in servers})
        yield Launched(
            urls, {s.spec.name: s.proc.pid for s in servers}, {s.spec.name: s for s in servers}
        )
