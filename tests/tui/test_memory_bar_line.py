"""The GPU memory bar line carries the KV cache the server states, within a 24-cell column."""

from __future__ import annotations

from qtui.evidence.memory import KvCache, Memory, Weights, workload_context
from qtui.live.model import EndpointView, GpuMem
from qtui.tui.widgets.endpoints.lines import BAR_WIDTH, concurrency, memory_bar


def _view(kv: KvCache, shared: bool = False) -> EndpointView:
    return EndpointView(
        name="fp8-kv8",
        precision="fp8",
        gpu_mem=GpuMem(used=60e9, total=150e9, reserved=10e9, source="nvml", shared=shared),
        memory=Memory(Weights(None, "n/a"), kv, workload_context(512, 128)),
    )


def test_kv_tokens_on_the_bar_line_and_concurrency_at_both_lengths_below() -> None:
    view = _view(KvCache(tokens=694_432, max_concurrency=339.078125))
    line = memory_bar(view)
    assert line.endswith(" KV 694k tok")
    assert len(line) == BAR_WIDTH
    # 694,432 / 640 = 1,085 requests of the profile's 512 + 128 tokens; vLLM's 339 at
    # max_model_len = 694,432 / 339.08 = 2,048 tokens; with the ≤ signs it is 25 > 24 cells
    assert concurrency(view) == "1085 req@640 339@2k tok"


def test_the_simulators_128k_max_model_len_next_to_the_workloads_length() -> None:
    # the demo's bf16: 412k tokens, vLLM says ≤3 at 131,072 tokens; 8 users of 640 fit 643 times
    view = _view(KvCache(tokens=411_648, max_concurrency=411_648 / 131_072))
    assert concurrency(view) == "≤643 req@640 ≤3@128k tok"


def test_a_shared_gpu_still_says_the_kv_tokens() -> None:
    line = memory_bar(_view(KvCache(tokens=694_432, max_concurrency=339.1), shared=True))
    assert line.endswith("[dim]shared, KV 694k tok[/]")


def test_unknown_kv_cache_keeps_the_reserved_amount() -> None:
    line = memory_bar(_view(KvCache(reason="server states no vllm:cache_config_info")))
    assert line.endswith("rsv")
