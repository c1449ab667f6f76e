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
