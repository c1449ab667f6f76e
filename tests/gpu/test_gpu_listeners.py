"""Servers started by hand: their pids come from the sockets listening on the endpoints' ports."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from qtui.config.profile import Profile
from qtui.gpu.factory import build_sources
from qtui.gpu.listeners import Listener, server_pids
from qtui.gpu.nvml import NvmlSource
from qtui.session.rows import gpu_samples
from tests.gpu.fake_nvml import MIB, FakeGpu, FakeNvml

LISTEN = (
    "import socket, sys; s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen();"
    "print(s.getsockname()[1], flush=True); sys.stdin.read()"
)


@pytest.fixture
def servers() -> Iterator[list[tuple[int, int]]]:
    """Two real processes listening on 127.0.0.1, as (pid, port); they exit when stdin closes."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", LISTEN], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    try:
        yield [(p.pid, int(p.stdout.readline())) for p in procs if p.stdout is not None]
    finally:
        for p in procs:
            if p.stdin is not None:
                p.stdin.close()
            p.wait(timeout=10)


def test_pid_of_a_real_listening_process(servers: list[tuple[int, int]]) -> None:
    (pid_a, port_a), (pid_b, port_b) = servers
    urls = {"a": f"http://127.0.0.1:{port_a}", "b": f"http://localhost:{port_b}/"}
    assert server_pids(urls) == {"a": pid_a, "b": pid_b}


def test_remote_hosts_are_not_matched_and_own_addresses_are() -> None:
    found = [Listener("0.0.0.0", 8000, 42), Listener("0.0.0.0", 8001, None)]
    urls = {"remote": "http://10.1.2.3:8000", "unreadable": "http://127.0.0.1:8001"}
    assert server_pids(urls, found=lambda: found, own=lambda: ["10.9.9.9"]) == {}
    assert server_pids(urls, found=lambda: found, own=lambda: ["10.1.2.3"]) == {"remote": 42}


def test_two_servers_on_one_gpu_each_get_their_own_memory(servers: list[tuple[int, int]]) -> None:
    """The usual precision comparison: two hand-started servers on GPU 0, the profile says [0]."""
    (pid_a, port_a), (pid_b, port_b) = servers
    prof = Profile.model_validate(
        {
            "profile": {"name": "t"},
            "endpoints": [
                {"name": n, "precision": n, "url": f"http://127.0.0.1:{port}", "telemetry": "nvml",
                 "gpu_indices": [0]}
                for n, port in (("bf16", port_a), ("fp8", port_b))
            ],
        }
    )  # fmt: skip
    src = build_sources(prof.endpoints, urls={e.name: e.url or "" for e in prof.endpoints})["nvml"]
    assert isinstance(src, NvmlSource)
    gpu = FakeGpu(procs=[(pid_a, 9610 * MIB), (pid_b, 9482 * MIB), (999_999, 100 * MIB)])
    snap = NvmlSource(src.bindings, nvml=FakeNvml([gpu])).sample()
    rows = {r["endpoint"]: r for r in gpu_samples(snap, ["bf16", "fp8"])}
    assert rows["bf16"]["state"] == rows["fp8"]["state"] == "shared"
    assert (rows["bf16"]["memory_used"], rows["fp8"]["memory_used"]) == (9610 * MIB, 9482 * MIB)


def test_known_pids_win_and_exporter_endpoints_are_not_looked_up() -> None:
    prof = Profile.model_validate(
        {
            "profile": {"name": "t"},
            "endpoints": [
                {"name": "launched", "precision": "bf16", "url": "http://127.0.0.1:8000"},
                {"name": "by-hand", "precision": "fp8", "url": "http://127.0.0.1:8001"},
                {"name": "dcgm", "precision": "int4", "url": "http://127.0.0.1:8002",
                 "telemetry_url": "http://127.0.0.1:9400/metrics"},
            ],
        }
    )  # fmt: skip
    asked: list[dict[str, str]] = []

    def find(urls: dict[str, str]) -> dict[str, int]:
        asked.append(dict(urls))
        return dict.fromkeys(urls, 7)

    sources = build_sources(prof.endpoints, pids={"launched": 5}, find_pids=find)
    assert asked == [{"by-hand": "http://127.0.0.1:8001"}]
    nvml = sources["nvml"]
    assert isinstance(nvml, NvmlSource)
    assert {b.name: set(b.pids) for b in nvml.bindings} == {"launched": {5}, "by-hand": {7}}
