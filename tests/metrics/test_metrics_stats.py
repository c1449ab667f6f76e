import numpy as np
import pytest

from qtui.evidence.records import RequestRecord
from qtui.metrics.stats import Cumulative, LogHistogram, latency_stats, summarize


def rec(chunks: list[float], ct: int = 0, pt: int = 10, err: str = "none") -> RequestRecord:
    return RequestRecord(
        "e", "r", chunk_times=chunks, completion_tokens=ct, prompt_tokens=pt,
        error_class=err,  # type: ignore[arg-type]
    )  # fmt: skip


def test_vllm_bench_definitions_by_hand() -> None:
    r = rec([0.2, 0.3, 0.5, 0.6], ct=7)
    assert r.ttft == 0.2 and r.e2e == 0.6
    assert r.itl() == pytest.approx([0.1, 0.2, 0.1])
    assert r.tpot == pytest.approx((0.6 - 0.2) / 6)  # (e2e - ttft) / (tokens - 1)
    assert rec([0.2], ct=1).tpot is None


def test_window_summary_by_hand() -> None:
    recs = [
        rec([0.1, 0.2, 0.4], ct=3, pt=100),
        rec([0.3, 0.4, 0.5], ct=3, pt=50),
        rec([], err="http"),
        rec([], err="cancelled"),
    ]
    s = summarize("e", recs, t_end=5.0, duration_s=2.0, in_flight=7, chunks=6)
    assert s.requests == 2 and s.rps == 1.0
    assert s.out_tps == 3.0 and s.in_tps == 75.0  # 6 tokens / 2 s, 150 / 2 s
    assert s.errors == {"http": 1} and s.cancelled == 1
    assert s.error_rate == pytest.approx(1 / 3)  # cancelled is ours, not an error
    assert s.ttft.p50 == pytest.approx(0.2)  # median of 0.1, 0.3
    assert s.itl.n == 4 and s.itl.p50 == pytest.approx(0.1)  # 0.1 0.2 0.1 0.1
    assert s.e2e.p99 == pytest.approx(0.4 + 0.99 * 0.1)  # numpy linear between 0.4 and 0.5
    assert s.in_flight == 7 and s.chunks_per_s == 3.0
    flat = s.flat()
    assert flat["ttft_p50"] == s.ttft.p50 and flat["err_http"] == 1


def test_empty_window_has_no_percentiles() -> None:
    s = summarize("e", [], t_end=1.0, duration_s=1.0)
    assert s.requests == 0 and s.ttft.p50 is None and s.error_rate == 0.0


def test_sketch_quantiles_within_one_percent() -> None:
    v = np.random.default_rng(1).lognormal(-3, 1.2, 50_000)
    h = LogHistogram(0.01)
    h.add(v[:20_000])
    other = LogHistogram(0.01)
    other.add(v[20_000:])
    h.merge(other)
    assert h.n == 50_000
    for q in (0.5, 0.9, 0.95, 0.99):
        exact = float(np.quantile(v, q, method="lower"))
        assert h.quantile(q) == pytest.approx(exact, rel=0.021)


def test_cumulative_counts_match_exact_summary() -> None:
    recs = [rec([0.1, 0.2 + i / 100], ct=2, pt=i) for i in range(50)] + [rec([], err="timeout")]
    c = Cumulative("e")
    c.add(recs[:20])
    c.add(recs[20:])
    a, b = c.stats(9.0, 10.0), summarize("e", recs, 9.0, 10.0)
    assert (a.requests, a.prompt_tokens, a.completion_tokens, a.errors) == (
        b.requests, b.prompt_tokens, b.completion_tokens, b.errors,
    )  # fmt: skip
    assert a.e2e.p50 == pytest.approx(b.e2e.p50, rel=0.03)  # sketch: ≤1 % + one rank
    assert latency_stats([]).n == 0
