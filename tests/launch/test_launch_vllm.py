"""--launch against a fake `vllm` executable: real processes, real sockets, real log files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from qtui.config.profile import Profile
from qtui.engines.server import free_port
from qtui.errors import ConfigError, QtuiError
from qtui.launch import vllm
from qtui.launch.vllm import launch_servers, launched


def distinct_ports(k: int) -> list[int]:
    """k free ports, all different (free_port may hand out a port it just gave: the socket
    that found it is closed, and the OS can pick it again; then two endpoints share a port)."""
    ports: list[int] = []
    while len(ports) < k:
        if (port := free_port()) not in ports:
            ports.append(port)
    return ports


def profile(exe: Path, *eps: tuple[str, str, float, int]) -> Profile:
    ports = distinct_ports(len(eps))
    endpoints: list[dict[str, Any]] = [
        {
            "name": name,
            "precision": "bf16",
            "launch": {
                "model": model,
                "executable": str(exe),
                "port": port,
                "gpu_memory_utilization": frac,
                "gpu_index": gpu,
                "args": ["--dtype", "bfloat16"],
            },
        }
        for (name, model, frac, gpu), port in zip(eps, ports, strict=True)
    ]
    endpoints.append({"name": "remote", "precision": "fp8", "url": "http://10.1.2.3:8000"})
    return Profile.model_validate({"profile": {"name": "t"}, "endpoints": endpoints})


@pytest.fixture(autouse=True)
def no_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fit check uses fractions only, as on a host without NVML."""
    monkeypatch.setattr(vllm, "gpu_memory", lambda: None)


def test_servers_start_in_turn_answer_and_stop(fake_vllm: Path, tmp_path: Path) -> None:
    prof = profile(fake_vllm, ("bf16", "/m", 0.3, 0), ("fp8", "/m", 0.4, 1))
    lines: list[str] = []
    with launched(prof, tmp_path / "logs", lines.append) as up:
        urls = up.urls
        assert set(up.pids) == {"bf16", "fp8"} and all(pid > 0 for pid in up.pids.values())
        assert urls["remote"] == "http://10.1.2.3:8000"
        for name in ("bf16", "fp8"):
            assert httpx.get(f"{urls[name]}/health").status_code == 200
            models = httpx.get(f"{urls[name]}/v1/models").json()["data"]
            assert models[0]["id"] == name
        from qtui.evidence.memory import GIB
        from qtui.launch.logs import launch_weights

        # each server's own log: "Model loading took 0.26 GiB" (healthy means it has loaded)
        assert launch_weights(up.servers) == [
            {
                "endpoint": n,
                "bytes": 0.26 * GIB,
                "basis": "server's log: Model loading took 0.26 GiB",
            }
            for n in ("bf16", "fp8")
        ]
    fp8_log = (tmp_path / "logs" / "fp8.log").read_text()
    assert "--gpu-memory-utilization 0.4 --served-model-name fp8 --dtype bfloat16" in fp8_log
    assert "CUDA_VISIBLE_DEVICES: 1" in fp8_log
    starts = [ln for ln in lines if "starting" in ln or "healthy" in ln]
    assert [ln.split()[1] for ln in starts] == ["starting", "bf16", "starting", "fp8"]
    assert all(len(ln) <= 80 for ln in starts)  # an 80x24 terminal over SSH: no wrapped lines
    assert any(str(tmp_path / "logs") in ln for ln in lines)  # where the logs are, said once
    for name in ("bf16", "fp8"):
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{urls[name]}/health")


def test_a_server_that_dies_stops_the_others(fake_vllm: Path, tmp_path: Path) -> None:
    prof = profile(fake_vllm, ("bf16", "/m", 0.3, 0), ("bad", "broken", 0.3, 0))
    with (
        pytest.raises(QtuiError, match=r"'bad' exited with 1 .*bad\.log.*Free memory on device"),
        launch_servers(prof, tmp_path, lambda _: None) as servers,
    ):
        pytest.fail(f"should not get here: {servers}")
    first = prof.endpoints[0].launch
    assert first is not None
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{first.port}/health")


def test_unfit_fractions_are_refused_before_anything_starts(
    fake_vllm: Path, tmp_path: Path
) -> None:
    prof = profile(fake_vllm, ("a", "/m", 0.6, 0), ("b", "/m", 0.6, 0))
    with (
        pytest.raises(ConfigError, match=r"--launch refused: GPU 0: .* adds up to 1\.20"),
        launch_servers(prof, tmp_path / "logs", lambda _: None),
    ):
        pass
    assert not (tmp_path / "logs").exists()


def test_a_missing_vllm_is_one_line(tmp_path: Path) -> None:
    prof = profile(tmp_path / "nope" / "vllm", ("a", "/m", 0.3, 0))
    with (
        pytest.raises(ConfigError, match=r"not found: install vLLM \(pip install 'qtui\[vllm\]'\)"),
        launch_servers(prof, tmp_path, lambda _: None),
    ):
        pass


def test_progress_shows_vllm_message_without_prefix_cut_to_width() -> None:
    log = (
        "(APIServer pid=951) WARNING 11-23 22:17:13 [system_utils.py:299] Found ulimit\n"
        "(EngineCore pid=3557) INFO 11-23 22:30:30 [model_runner.py:747] Graph capturing "
        "finished in 4 secs, took 0.39 GiB\n\n"
    )
    assert vllm.progress_text(log, 80) == "Graph capturing finished in 4 secs, took 0.39 GiB"
    assert vllm.progress_text(log, 20) == "Graph capturing fin…"
    bar = "Capturing CUDA graphs:  12%|█ | 6/51\rCapturing CUDA graphs:  71%|███ | 36/51\r\n"
    assert vllm.progress_text(bar, 80) == "Capturing CUDA graphs:  71%|███ | 36/51"
    assert vllm.progress_text("", 80) == "(no output yet)"
