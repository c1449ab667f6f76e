"""The KV cache a vLLM server states (`vllm:cache_config_info`), on a real capture."""

from __future__ import annotations

from pathlib import Path

from qtui.metrics.prom import parse_prometheus
from qtui.metrics.vllm import kv_cache_figures, server_second, snapshot

FIXTURES = Path(__file__).parents[1] / "fixtures" / "vllm"


def test_real_capture_states_its_kv_cache() -> None:
    snap = snapshot(parse_prometheus((FIXTURES / "metrics_before_8001.txt").read_text()), t=1.0)
    ss = server_second("fp8", None, snap)
    # the capture's labels: 21701 blocks of 16 tokens = 347216 tokens; 8e9 bytes; 169.54 requests
    assert ss.kv_blocks * ss.kv_block_size == ss.kv_cache_tokens == 347_216
    assert ss.kv_cache_bytes == 8_000_000_000
    assert ss.kv_cache_dtype == "auto"
    assert ss.kv_max_concurrency == 169.5390625


def test_absent_or_none_labels_are_unknown() -> None:
    figs = kv_cache_figures({"num_gpu_blocks": "None", "block_size": "16", "cache_dtype": "fp8"})
    assert figs["kv_blocks"] is None and figs["kv_block_size"] == 16
    assert figs["kv_cache_dtype"] == "fp8" and figs["kv_cache_tokens"] is None
    assert all(v is None for v in kv_cache_figures({}).values())
    assert kv_cache_figures({"kv_cache_size_tokens": "lots"})["kv_cache_tokens"] is None
