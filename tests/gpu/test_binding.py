"""Endpoint attribution: real process tree from /proc, profile GPU indices, and the factory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from qtui.config.profile import Endpoint
from qtui.errors import ConfigError
from qtui.gpu.binding import (
    EndpointBinding,
    attribute_gpu,
    endpoint_of_pid,
    proc_parent,
)
from qtui.gpu.dcgm import PrometheusSource
from qtui.gpu.factory import LOCAL_KEY, build_sources
from qtui.gpu.nvml import NvmlSource
from qtui.gpu.source import NoTelemetry

needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="no /proc here")


@needs_proc
def test_a_child_process_maps_to_the_endpoint_of_its_parent() -> None:
    # Like a vLLM engine core under its API server: grandchild of this test process.
    code = (
        "import subprocess, sys\n"
        "p = subprocess.Popen([sys.executable, '-c', 'input()'], stdin=sys.stdin)\n"
        "print(p.pid, flush=True)\n"
        "p.wait()\n"
    )
    outer = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert outer.stdout is not None
        engine = int(outer.stdout.readline())
        assert proc_parent(engine) == outer.pid
        binding = EndpointBinding("bf16", pids=frozenset({os.getpid()}))
        assert endpoint_of_pid(engine, [binding]) == "bf16"
        assert endpoint_of_pid(engine, [EndpointBinding("x", pids=frozenset({1 << 22}))]) is None
    finally:
        assert outer.stdin is not None
        outer.stdin.close()
        outer.wait(timeout=30)


def test_proc_parent_of_a_missing_process_is_none(tmp_path: Path) -> None:
    (tmp_path / "5").mkdir()
    (tmp_path / "5" / "stat").write_text("5 (odd (name) x) S 42 5 5 0")
    assert proc_parent(5, tmp_path) == 42  # comm with spaces and parentheses
    assert proc_parent(6, tmp_path) is None


def test_gpu_attribution_rules() -> None:
    bs = [EndpointBinding("a", gpu_indices=(0, 1)), EndpointBinding("b", gpu_indices=(1,))]
    assert attribute_gpu(0, [], bs) == "a"
    assert attribute_gpu(1, [], bs) is None  # claimed twice: ambiguous, not guessed
    assert attribute_gpu(2, ["b", None], bs) == "b"  # from its processes
    assert attribute_gpu(3, ["a", "b"], bs) is None
    assert attribute_gpu(5, [], [EndpointBinding("only")]) == "only"


def ep(name: str, **kw: object) -> Endpoint:
    return Endpoint(name=name, url="http://127.0.0.1:8000", precision="bf16", **kw)  # type: ignore[arg-type]


def test_build_sources_per_telemetry_mode() -> None:
    sources = build_sources(
        [
            ep("cpu", gpu="cpu"),
            ep("off", telemetry="none"),
            ep("remote", telemetry="dcgm", telemetry_url="http://10.0.0.2:9400/metrics"),
            ep("sim", telemetry="dcgm"),
            ep("l0", telemetry="nvml", gpu_indices=[0]),
            ep("l1", gpu_indices=[1]),
        ],
        pids={"l0": 1234},
        exporter_urls={"sim": "http://127.0.0.1:9999/dcgm/metrics"},
    )
    assert isinstance(sources["cpu"], NoTelemetry) and isinstance(sources["off"], NoTelemetry)
    assert isinstance(sources["remote"], PrometheusSource)
    sim = sources["sim"]
    assert isinstance(sim, PrometheusSource) and sim.url.endswith("/dcgm/metrics")
    assert isinstance(sources[LOCAL_KEY], NvmlSource)
    assert set(sources) == {"cpu", "off", "remote", "sim", LOCAL_KEY}  # l0, l1 share NVML
    for s in sources.values():
        s.close()


def test_dcgm_without_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="telemetry_url"):
        build_sources([ep("x", telemetry="dcgm")])
