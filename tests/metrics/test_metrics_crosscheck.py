"""Client figures against the server's histograms: counts exact, latencies within a bucket."""

from __future__ import annotations

from qtui.evidence.records import RequestRecord
from qtui.metrics.crosscheck import bucket, cdf_gap, client_values, crosscheck
from qtui.metrics.vllm import Histogram, VllmSnapshot

INF = float("inf")
BOUNDS = (0.01, 0.025, 0.05, 0.1, INF)


def hist(values: list[float]) -> Histogram:
    counts = tuple(float(sum(v <= b for v in values)) for b in BOUNDS)
    return Histogram(BOUNDS, counts, sum(values))


def rec(i: int, chunks: list[float], tokens: int | None = None) -> RequestRecord:
    return RequestRecord(
        "e", f"e-{i}", chunk_times=chunks, completion_tokens=tokens or len(chunks), t_end=1.0
    )


def snap(ttft: list[float], tpot: list[float], requests: float, tokens: float) -> VllmSnapshot:
    return VllmSnapshot(
        t=0.0,
        request_success={"length": requests},
        generation_tokens=tokens,
        histograms={"ttft": hist(ttft), "tpot": hist(tpot)},
    )


def test_same_requests_agree_on_counts_and_quantiles() -> None:
    recs = [rec(i, [0.02 + 0.001 * i, 0.05 + 0.001 * i, 0.08 + 0.001 * i]) for i in range(10)]
    vals = client_values(recs)
    before = snap([0.5], [0.5], requests=1, tokens=3)  # an earlier request, subtracted
    after = snap([0.5, *vals["ttft"]], [0.5, *vals["tpot"]], requests=11, tokens=33)
    cc = crosscheck(recs, before, after)
    assert cc.counts_agree
    assert (cc.requests_client, cc.tokens_client) == (10, 30)
    assert cc.observations_server == {"ttft": 10, "tpot": 10}
    assert all(q.agrees for q in cc.quantiles)
    assert cc.cdf_gap["ttft"] == 0.0


def test_a_lost_request_or_a_slow_client_is_flagged() -> None:
    recs = [rec(i, [0.02, 0.05, 0.08]) for i in range(10)]
    served = snap([0.02] * 11, [0.03] * 11, requests=11, tokens=33)  # server saw one more
    cc = crosscheck(recs, snap([], [], 0, 0), served)
    assert not cc.counts_agree
    slow = [rec(i, [0.09, 0.12, 0.15]) for i in range(11)]  # client sees TTFT 90 ms, server 20
    cc = crosscheck(slow, snap([], [], 0, 0), served)
    assert cc.counts_agree
    ttft = [q for q in cc.quantiles if q.metric == "ttft"]
    assert ttft and not any(q.agrees for q in ttft)
    assert cc.cdf_gap["ttft"] == 1.0


def test_failed_requests_and_single_token_answers() -> None:
    bad = rec(0, [0.02])
    bad.error_class = "disconnect"
    one = rec(1, [0.03])
    vals = client_values([bad, one])
    assert vals["ttft"] == [0.03] and vals["tpot"] == [] and vals["itl"] == []


def test_bucket_and_cdf_gap() -> None:
    h = hist([0.02, 0.03, 0.04, 0.2])
    assert bucket(h, 0.5) == (0.025, 0.05)
    assert bucket(h, 0.99) == (0.1, INF)
    assert bucket(Histogram(BOUNDS, (0.0,) * 5), 0.5) is None
    assert cdf_gap([], Histogram(BOUNDS, (0.0,) * 5)) == 0.0
