import math
from pathlib import Path

import pytest

from qtui.metrics.vllm import (
    Histogram,
    VllmSnapshot,
    counter_rate,
    histogram_quantile,
    parse_vllm,
    prefix_cache_hit_rate,
    server_second,
)

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "vllm"
INF = math.inf


def _snap(port: int) -> VllmSnapshot:
    return parse_vllm((FIX / f"metrics_before_{port}.txt").read_text(), t=100.0)


def test_snapshot_of_real_bf16_capture() -> None:
    s = _snap(8000)
    assert s.model_names == ("smol-bf16",)
    assert (s.running, s.waiting, s.kv_cache_usage, s.preemptions) == (0.0, 0.0, 0.0, 0.0)
    assert s.prompt_tokens == 7152.0 and s.generation_tokens == 110650.0
    assert s.request_success["length"] == 430.0 and s.request_success["stop"] == 0.0
    assert (s.prefix_cache_queries, s.prefix_cache_hits) == (7904.0, 0.0)
    assert s.cache_config["block_size"] == "16" and s.cache_config["num_gpu_blocks"] == "21701"
    assert set(s.histograms) == {"ttft", "itl", "tpot", "e2e", "queue"}
    ttft = s.histograms["ttft"]
    assert ttft.count == 447.0 and ttft.total == pytest.approx(92.02617740631104)
    assert ttft.bounds[-1] == INF and ttft.bounds[0] == 0.001


def test_snapshot_of_real_fp8_capture_names_its_model() -> None:
    s = _snap(8001)
    assert s.model_names == ("smol-fp8",)
    assert s.generation_tokens is not None and s.histograms["e2e"].count == 0.0


def test_ttft_median_of_capture_by_hand() -> None:
    # rank 0.5*447 = 223.5 falls in (0.1, 0.25] holding 188→266: 0.1 + 0.15*(35.5/78)
    assert histogram_quantile(0.5, _snap(8000).histograms["ttft"]) == pytest.approx(
        0.1 + 0.15 * 35.5 / 78
    )


def test_quantile_follows_prometheus_edge_rules() -> None:
    h = Histogram((1.0, 2.0, INF), (0.0, 10.0, 12.0))
    assert histogram_quantile(0.5, h) == pytest.approx(1.6)  # rank 6 in (1,2]: 1 + 1*6/10
    assert histogram_quantile(0.99, h) == 2.0  # +Inf bucket → highest finite bound
    first = Histogram((1.0, INF), (4.0, 4.0))
    assert histogram_quantile(0.5, first) == pytest.approx(0.5)  # first bucket starts at 0
    assert histogram_quantile(0.5, Histogram((1.0, INF), (0.0, 0.0))) is None


def test_window_quantiles_use_bucket_deltas() -> None:
    old = VllmSnapshot(t=10.0, histograms={"ttft": Histogram((0.1, 0.2, INF), (100, 100, 100))})
    new = VllmSnapshot(t=11.0, histograms={"ttft": Histogram((0.1, 0.2, INF), (100, 110, 110))})
    s = server_second("e", old, new)
    # all 10 new observations are in (0.1, 0.2]: p50 = 0.1 + 0.1*5/10, p95 = 0.1 + 0.1*9.5/10
    assert s.ttft_p50 == pytest.approx(0.15) and s.ttft_p95 == pytest.approx(0.195)


def test_rates_and_hit_rate_between_scrapes() -> None:
    old = VllmSnapshot(
        t=0.0, generation_tokens=1000, prompt_tokens=50, prefix_cache_queries=100,
        prefix_cache_hits=10, preemptions=1,
    )  # fmt: skip
    new = VllmSnapshot(
        t=2.0, generation_tokens=1600, prompt_tokens=250, prefix_cache_queries=300,
        prefix_cache_hits=160, preemptions=3, running=4, waiting=1, kv_cache_usage=0.25,
    )  # fmt: skip
    s = server_second("bf16", old, new)
    assert s.generation_tps == 300.0 and s.prompt_tps == 100.0  # 600/2, 200/2
    assert s.preemptions_per_s == 1.0
    assert s.prefix_cache_hit_rate == pytest.approx(150 / 200)
    assert (s.running, s.waiting, s.kv_cache_usage, s.status) == (4, 1, 0.25, "ok")
    assert prefix_cache_hit_rate(old, old) is None


def test_counter_reset_counts_new_total() -> None:
    assert counter_rate(1000.0, 30.0, 1.0) == 30.0
    h_old = Histogram((1.0, INF), (50.0, 60.0))
    h_new = Histogram((1.0, INF), (2.0, 3.0))
    assert h_new.minus(h_old) == h_new


def test_two_real_scrapes_rates() -> None:
    a = _snap(8000)
    b = parse_vllm(
        (FIX / "metrics_before_8000.txt")
        .read_text()
        .replace(
            'vllm:generation_tokens_total{engine="0",model_name="smol-bf16"} 110650.0',
            'vllm:generation_tokens_total{engine="0",model_name="smol-bf16"} 110850.0',
        ),
        t=102.0,
    )
    assert server_second("bf16", a, b).generation_tps == 100.0
    assert server_second("bf16", None, b).generation_tps is None
