from qtui.evidence.records import RequestRecord
from qtui.metrics.stats import streamed_tokens, tokens_per_chunk


def rec(t_send: float, chunks: list[float], tokens: int | None) -> RequestRecord:
    r = RequestRecord(endpoint="e", request_id="r")
    r.t_send, r.chunk_times, r.completion_tokens = t_send, chunks, tokens
    return r


def test_streamed_tokens_counts_only_chunks_inside_the_window_by_hand() -> None:
    # window [100, 110): chunks at 99, 101, 105, 112 → two inside; 8 tokens over 4 chunks = 2 each
    a = rec(98.0, [1.0, 3.0, 7.0, 14.0], 8)
    # still streaming (no usage yet): the finished one's 2 tokens per chunk; 109.5 inside,
    # 110.0 outside
    b = rec(109.0, [0.5, 1.0], None)
    # never produced a token
    c = rec(100.0, [], None)
    assert streamed_tokens([a, b, c], 100.0, 110.0) == 2 * 2 + 2
    # with no finished request to go by, a chunk without a count is one token
    assert streamed_tokens([b, c], 100.0, 110.0) == 1


def test_a_request_cut_at_the_stop_is_worth_the_finished_ones_tokens_per_chunk_by_hand() -> None:
    # vLLM under load: 30 tokens in 10 chunks and 50 in 15 → 80 / 25 = 3.2 tokens per chunk
    done = [rec(100.0, [0.1 * (i + 1) for i in range(10)], 30),
            rec(100.0, [0.1 * (i + 1) for i in range(15)], 50)]  # fmt: skip
    cut = rec(100.0, [0.1 * (i + 1) for i in range(5)], None)
    cut.error_class = "cancelled"  # qtui's stop, while it streamed: no usage chunk came
    assert tokens_per_chunk([*done, cut]) == 80 / 25
    assert streamed_tokens([*done, cut], 100.0, 110.0) == 30 + 50 + 5 * 3.2
    # a failed request's count is not a finished one's: it moves neither figure
    bad = rec(100.0, [0.1, 0.2], 40)
    bad.error_class = "disconnect"
    assert tokens_per_chunk([*done, bad]) == 80 / 25
    # counted usage (a server without usage: one token per chunk) weighs in as it was counted
    counted = rec(100.0, [0.1, 0.2, 0.3, 0.4, 0.5], 5)
    assert tokens_per_chunk([*done, counted]) == 85 / 30
    assert tokens_per_chunk([cut]) == 1.0


def test_tokens_of_failed_requests_are_not_throughput_but_cancelled_ones_count() -> None:
    from qtui.metrics.stats import delivered_chunks, partial_tokens

    ok = rec(100.0, [1.0, 2.0], 4)  # 2 chunks × 2 tokens inside [100, 110)
    cut = rec(100.0, [1.0, 2.0, 3.0], None)
    cut.error_class = "disconnect"  # the server closed mid-stream: its 3 chunks are partial
    stalled = rec(100.0, [0.5], None)
    stalled.error_class = "stall"
    stopped = rec(105.0, [1.0], None)
    stopped.error_class = "cancelled"  # qtui's own stop: delivered, so counted (1 chunk × 2)
    recs = [ok, cut, stalled, stopped]
    assert streamed_tokens(recs, 100.0, 110.0) == 4 + 2
    assert partial_tokens(recs) == 3 + 1
    # a second that counted 7 chunks live, in which the two failures ended: 7 - 4 = 3
    assert delivered_chunks(7, recs) == 3
    assert delivered_chunks(2, [cut]) == 0  # never below zero


def test_with_none_finished_the_last_known_tokens_per_chunk_is_used() -> None:
    # long answers, a short window: nothing finished in it, so nothing in it says how many
    # tokens a chunk holds; the endpoint's last known figure (2.5) does, not one per chunk
    cut = rec(100.0, [0.5, 1.0, 1.5, 2.0], None)
    cut.error_class = "cancelled"
    assert tokens_per_chunk([cut], none_finished=2.5) == 2.5
    assert streamed_tokens([cut], 100.0, 110.0, none_finished=2.5) == 4 * 2.5
    assert streamed_tokens([cut], 100.0, 110.0) == 4  # nothing known at all: one each


def with_bytes(r: RequestRecord, nbytes: int) -> RequestRecord:
    r.text_bytes = nbytes
    return r


def test_a_cut_stream_is_worth_its_text_bytes_at_the_finished_ones_tokens_per_byte_by_hand() -> (
    None
):
    # A saturated frontend (the H200 at 512 streams): the finished answers came merged, 100
    # tokens (400 bytes) in 4 chunks and 60 (240 bytes) in 2 → 25 tokens a chunk; the stream cut
    # at the stop came a token a chunk: 10 chunks of 40 bytes. 160 / 640 = 0.25 tokens a byte.
    done = [with_bytes(rec(100.0, [1.0, 2.0, 3.0, 4.0], 100), 400),
            with_bytes(rec(100.0, [1.5, 2.5], 60), 240)]  # fmt: skip
    cut = with_bytes(rec(100.0, [0.5 * (i + 1) for i in range(10)], None), 40)
    cut.error_class = "cancelled"
    from qtui.metrics.stats import tokens_per_byte

    assert tokens_per_byte([*done, cut]) == 160 / 640
    assert streamed_tokens([*done, cut], 100.0, 110.0) == 100 + 60 + 40 * 0.25  # 170
    # by chunks it would read 100 + 60 + 10 × 160 / 6: 426.7, 2.5 times the tokens sent
    assert tokens_per_chunk([*done, cut]) == 160 / 6
    # half its chunks inside the window: half its bytes' worth
    # (the first finished one: 2 of its 4 chunks, 50 tokens; the second: both, 60)
    assert streamed_tokens([*done, cut], 100.0, 103.0) == 50 + 60 + 5 * 1.0
    # none finished with bytes (records from before bytes were measured, or none finished):
    # the last known tokens per byte, else tokens per chunk as before
    assert tokens_per_byte([cut]) is None
    assert streamed_tokens([cut], 100.0, 110.0, per_byte=0.5) == 40 * 0.5
    assert streamed_tokens([cut], 100.0, 110.0, none_finished=2.0) == 10 * 2.0
    # a failed request's bytes move no figure
    bad = with_bytes(rec(100.0, [0.1], 50), 1000)
    bad.error_class = "disconnect"
    assert tokens_per_byte([*done, bad]) == 160 / 640


def test_the_live_second_takes_failed_requests_bytes_out_by_hand() -> None:
    from qtui.metrics.stats import delivered_bytes

    broken = with_bytes(rec(100.0, [1.0, 2.0], None), 300)
    broken.error_class = "disconnect"
    stopped = with_bytes(rec(100.0, [1.0], None), 80)
    stopped.error_class = "cancelled"  # qtui's stop, delivered: its bytes stay
    assert delivered_bytes(1000, [broken, stopped]) == 700
    assert delivered_bytes(100, [broken]) == 0  # never below zero
