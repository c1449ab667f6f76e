"""The GPU memory bar line carries the KV cache the server states, within a 24-cell column."""

from __future__ import annotations

from qtui.evidence.memory import KvCache, Memory, Weights
from qtui.live.model import EndpointView, GpuMem
from qtui.tui.widgets.endpoints.lines import BAR_WIDTH, memory_bar


def _view(kv: KvCache) -> EndpointView:
    return EndpointView(
        name="fp8-kv8",
        precision="fp8",
        gpu_mem=GpuMem(used=60e9, total=150e9, reserved=10e9, source="nvml"),
        memory=Memory(Weights(None, "n/a"), kv),
    )


def test_kv_tokens_and_max_concurrency_on_the_bar_line() -> None:
    line = memory_bar(_view(KvCache(tokens=694_432, max_concurrency=339.078125)))
    assert line.endswith(" 694k tok ≤339 req")
    assert len(line) == BAR_WIDTH


def test_unknown_kv_cache_keeps_the_reserved_amount() -> None:
    line = memory_bar(_view(KvCache(reason="server states no vllm:cache_config_info")))
    assert line.endswith("rsv")
