"""Where the memory goes and the fit check, against hand arithmetic and the H200 captures."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pytest

from qtui.data import model_shapes
from qtui.evidence.memory import (
    GIB,
    concurrency_line,
    fit,
    kv_bytes_needed,
    kv_cache,
    measured_context,
    memory,
    memory_line,
    shape_for,
    tokens_text,
    weights,
    workload_context,
)
from qtui.metrics.prom import parse_prometheus
from qtui.metrics.vllm import server_second, snapshot

H200 = Path(__file__).parents[1] / "fixtures" / "vllm-h200"


def _server(port: int) -> dict[str, object]:
    snap = snapshot(parse_prometheus((H200 / f"metrics_{port}.txt").read_text()), t=1.0)
    return asdict(server_second("x", None, snap))


def test_h200_fp8_kv_cache_holds_twice_the_tokens_in_the_same_bytes() -> None:
    bf16, kv8 = kv_cache(_server(8000)), kv_cache(_server(8002))
    # the servers' logs: "GPU KV cache size: 347,216 tokens" / "694,432 tokens";
    # "Maximum concurrency for 2,048 tokens per request: 169.54x" / "339.08x"
    assert (bf16.tokens, kv8.tokens) == (347_216, 694_432)
    assert bf16.bytes == kv8.bytes == 8_000_000_000
    assert (bf16.dtype, kv8.dtype) == ("auto", "fp8")
    assert round(bf16.max_concurrency, 2) == 169.54 and round(kv8.max_concurrency, 2) == 339.08
    assert bf16.blocks * bf16.block_size == 347_216


def test_memory_line_fits_a_column_and_says_what_is_estimated() -> None:
    m = memory(_server(8002), "/root/smol SmolLM2-135M-Instruct", "fp8")
    line = memory_line(m)
    # 0.1349e9 params × 1 B = 0.1349e9 B = 0.126 GiB
    assert line == "KV 694k tok fp8 · ≤339 req · wts ~0.13 GiB est."
    assert len(line) <= 80
    # 694432 tokens / (512 + 256) tokens per request = 904.2 requests
    assert m.concurrency_at(768) == pytest.approx(904.208, abs=1e-3)


def test_llama_cpp_without_cache_config_is_unknown_with_its_reason() -> None:
    m = memory({"status": "ok", "kv_cache_usage": 0.1}, "some-gguf", "q4_k_m")
    assert memory_line(m) == (
        "KV ? (server states no vllm:cache_config_info (not vLLM, or older)) · wts ?"
    )
    assert kv_cache({"status": "not_exposed"}).reason == "/metrics not_exposed"
    assert kv_cache(None).reason == "no /metrics reading yet"
    assert weights(None, "bf16").basis == "model not in qtui/data/models.toml"


def test_weights_estimate_is_params_times_bytes_per_weight() -> None:
    shape = model_shapes()["llama-3.1-8b"]
    assert weights(shape, "bf16").bytes == pytest.approx(16.06e9)  # 8.03e9 × 2
    assert weights(shape, "int4").bytes == pytest.approx(4.015e9)  # 8.03e9 × 0.5
    assert weights(shape, "bf16").basis == "estimated: 8.03 B params × 2 B (bf16)"
    assert shape_for("meta-llama/Llama-3.1-8B-Instruct") is shape


def test_fit_by_hand() -> None:
    shape = model_shapes()["llama-3.1-8b"]
    # KV per token bf16: 2 × 32 layers × 8 heads × 128 × 2 B = 131072 B; 8 × 4096 tokens → 4 GiB
    assert kv_bytes_needed(shape, 8, 4096, "auto") == 4 * GIB
    assert kv_bytes_needed(shape, 8, 4096, "fp8") == 2 * GIB
    w = 16.06e9
    ok = fit("L4", w, 4 * GIB, 0.9)
    # needs 16.06e9 + 4.295e9 = 20.355e9 B = 18.96 GiB; has 24e9 × 0.9 = 21.6e9 B = 20.12 GiB
    assert ok.fits and ok.text == "needs 19.0 GiB, L4 has 22.4 × 0.9 = 20.1 GiB"
    short = fit("L4", w, 8 * GIB, 0.9)
    # needs 16.06e9 + 8.59e9 = 24.65e9 B = 22.96 GiB; short by 3.05e9 B = 2.84 GiB
    assert not short.fits
    assert short.text == "needs 23.0 GiB, L4 has 22.4 × 0.9 = 20.1 GiB: 2.8 GiB short"


def test_unknown_gpu_names_itself_and_the_file() -> None:
    with pytest.raises(KeyError, match=r"GPU 'V100' is not in qtui/data/gpus.toml"):
        fit("V100", 1.0, 1.0, 0.9)


def test_workload_context_from_the_profile_or_the_measured_requests() -> None:
    assert workload_context(512, 128).tokens == 640
    assert workload_context(512, 128).basis == "profile: 512 in + 128 out tok"
    rows = [
        {"endpoint": "a", "prompt_tokens": 63, "completion_tokens": 256, "error_class": "none"},
        {"endpoint": "a", "prompt_tokens": 65, "completion_tokens": 256, "error_class": "none"},
        {"endpoint": "a", "prompt_tokens": 900, "completion_tokens": 0, "error_class": "http"},
        {"endpoint": "b", "prompt_tokens": 10, "completion_tokens": 10, "error_class": "none"},
    ]
    ctx = measured_context(rows, "a")
    assert ctx is not None and ctx.tokens == (63 + 256 + 65 + 256) / 2  # 320
    assert ctx.basis == "measured mean of 2 requests"
    assert measured_context(rows, "c") is None


def test_concurrency_at_the_workloads_length_and_at_max_model_len() -> None:
    m = memory(_server(8000), "SmolLM2-135M", "bf16", workload_context(64, 256))
    # 347,216 tokens / 320 = 1,085.05; max_model_len = 347,216 / 169.54 = 2,048
    assert m.workload_concurrency == pytest.approx(1085.05, abs=0.01)
    assert m.max_model_len == pytest.approx(2048, abs=0.5)
    assert concurrency_line(m, width=30) == "≤1085 req@320 ≤170@2k tok"
    assert concurrency_line(m, width=24) == "1085 req@320 170@2k tok"
    assert concurrency_line(m, width=10) == "≤1085 req@320 tok"
    assert memory_line(m).startswith("KV 347k tok model dtype · ≤1085 req at 320 tok, ≤170 at 2k")
    assert concurrency_line(memory(None, "x", "bf16")) == "max req ? (no /metrics reading yet)"
    assert (tokens_text(640), tokens_text(2048), tokens_text(131_072), tokens_text(1500)) == (
        "640", "2k", "128k", "1.5k"
    )  # fmt: skip


def test_server_log_weights_and_preemptions_over_the_session() -> None:
    from qtui.evidence.memory import preemptions, recorded_weights, stated_weights

    log = (H200.parent / "vllm-h200" / "server-log-lines.txt").read_text()
    w = stated_weights(log)  # the last "Model loading took" line: 0.18 GiB
    assert w is not None and w.bytes == pytest.approx(0.18 * GIB)
    assert w.basis == "server's log: Model loading took 0.18 GiB"
    assert stated_weights("no such line") is None
    ev = [
        {"kind": "launch", "key": "weights", "value": {"endpoint": "a", "bytes": 1.0, "basis": "b"}}
    ]
    assert recorded_weights(ev, "a") == type(w)(1.0, "b") and recorded_weights(ev, "x") is None
    m = memory(None, "SmolLM2-135M", "fp8", stated=w)
    assert memory_line(m).endswith("wts ~0.18 GiB")  # the server's figure says no "est."
    rows = [
        {"endpoint": "a", "t": 10.0, "preemptions_per_s": None},
        {"endpoint": "a", "t": 11.0, "preemptions_per_s": 2.0},
        {"endpoint": "a", "t": 13.0, "preemptions_per_s": 0.5},
        {"endpoint": "b", "t": 14.0, "preemptions_per_s": 9.0},
    ]
    assert preemptions(rows, "a") == 2.0 * 1 + 0.5 * 2  # 3 preemptions
    assert preemptions(rows, "b") is None
