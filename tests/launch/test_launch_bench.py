"""`qtui bench --launch` end to end: fake `vllm` executables serving qtui's simulator."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from qtui.commands import bench
from qtui.engines.server import free_port
from qtui.launch import vllm


def test_bench_launches_measures_and_stops(
    fake_vllm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vllm, "gpu_memory", lambda: None)
    monkeypatch.chdir(tmp_path)
    ports = [free_port(), free_port()]
    eps = "".join(
        f'[[endpoints]]\nname = "{n}"\nprecision = "{n}"\ntelemetry = "none"\n'
        f'[endpoints.launch]\nmodel = "sim"\nexecutable = "{fake_vllm}"\nport = {p}\n'
        for n, p in zip(("bf16", "fp8"), ports, strict=True)
    )
    prof = tmp_path / "p.toml"
    prof.write_text(
        f'[profile]\nname = "launch"\n{eps}'
        "[workload]\ninput_tokens = { mean = 32 }\noutput_tokens = { mean = 8 }\n"
        '[load]\nmode = "concurrency"\nconcurrency = 2\nduration_s = 30\n'
    )
    summary = bench.run(
        prof, out=tmp_path / "out", max_requests=6, launch=True, show_progress=False
    )
    assert set(summary["endpoints"]) == {"bf16", "fp8"}
    for name in ("bf16", "fp8"):
        assert summary["endpoints"][name]["summary"]["requests"] > 0
        assert (
            "fake vllm argv: serve sim" in (tmp_path / "qtui-out/logs" / f"{name}.log").read_text()
        )
    for port in ports:
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/health")
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["endpoints"]
