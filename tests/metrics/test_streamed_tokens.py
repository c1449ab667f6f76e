from qtui.evidence.records import RequestRecord
from qtui.metrics.stats import streamed_tokens


def rec(t_send: float, chunks: list[float], tokens: int | None) -> RequestRecord:
    r = RequestRecord(endpoint="e", request_id="r")
    r.t_send, r.chunk_times, r.completion_tokens = t_send, chunks, tokens
    return r


def test_streamed_tokens_counts_only_chunks_inside_the_window_by_hand() -> None:
    # window [100, 110): chunks at 99, 101, 105, 112 → two inside; 8 tokens over 4 chunks = 2 each
    a = rec(98.0, [1.0, 3.0, 7.0, 14.0], 8)
    # still streaming (no usage yet): one token per chunk; 109.5 inside, 110.0 outside
    b = rec(109.0, [0.5, 1.0], None)
    # never produced a token
    c = rec(100.0, [], None)
    assert streamed_tokens([a, b, c], 100.0, 110.0) == 2 * 2 + 1


def test_tokens_of_failed_requests_are_not_throughput_but_cancelled_ones_count() -> None:
    from qtui.metrics.stats import delivered_chunks, partial_tokens

    ok = rec(100.0, [1.0, 2.0], 4)  # 2 chunks × 2 tokens inside [100, 110)
    cut = rec(100.0, [1.0, 2.0, 3.0], None)
    cut.error_class = "disconnect"  # the server closed mid-stream: its 3 chunks are partial
    stalled = rec(100.0, [0.5], None)
    stalled.error_class = "stall"
    stopped = rec(105.0, [1.0], None)
    stopped.error_class = "cancelled"  # qtui's own stop: delivered, so counted (1 chunk)
    recs = [ok, cut, stalled, stopped]
    assert streamed_tokens(recs, 100.0, 110.0) == 4 + 1
    assert partial_tokens(recs) == 3 + 1
    # a second that counted 7 chunks live, in which the two failures ended: 7 - 4 = 3
    assert delivered_chunks(7, recs) == 3
    assert delivered_chunks(2, [cut]) == 0  # never below zero
