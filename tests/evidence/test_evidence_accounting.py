"""Requests open at the stop, split in two, and partial tokens (qtui.evidence.accounting)."""

from __future__ import annotations

from qtui.evidence.accounting import (
    Counts,
    is_partial,
    partial_text,
    silent_at_stop_s,
    stop_detail,
    stop_text,
)
from qtui.evidence.records import RequestRecord
from qtui.metrics.stats import partial_tokens, stop_split, streamed_tokens, summarize


def test_stop_detail_says_silence_from_two_seconds_or_the_stall_limit() -> None:
    assert stop_detail(None) == "stopped by qtui"
    assert stop_detail(1.9) == "stopped by qtui"
    assert stop_detail(2.0) == "stopped by qtui; silent for 2.0 s"
    assert stop_detail(42.4) == "stopped by qtui; silent for 42 s"
    assert stop_detail(1.2, stall_timeout_s=1.0) == "stopped by qtui; silent for 1.2 s"


def test_silence_is_read_back_from_the_record() -> None:
    assert silent_at_stop_s("cancelled", "stopped by qtui; silent for 6.5 s") == 6.5
    assert silent_at_stop_s("cancelled", "stopped by qtui") is None
    assert silent_at_stop_s("stall", "no byte for 2.0 s after 2 token chunks") is None
    assert is_partial("stall", "") and is_partial("cancelled", "stopped by qtui; silent for 3 s")
    assert not is_partial("cancelled", "stopped by qtui") and not is_partial("none", "")


def test_the_words_every_view_uses() -> None:
    assert stop_text(0, 0) == ""
    assert stop_text(3, 0) == "3 cancelled at stop"
    assert stop_text(3, 1, 4.0) == "2 cancelled at stop, 1 silent for 4 s"
    assert stop_text(2, 2, 6.6) == "2 silent for up to 7 s"
    assert partial_text(0) == "" and partial_text(12) == "12 partial tokens (not throughput)"


def _rec(cls: str, detail: str, chunks: int) -> RequestRecord:
    r = RequestRecord("e", "r", t_send=100.0, error_class=cls, error_detail=detail)  # type: ignore[arg-type]
    r.chunk_times = [0.1 * (i + 1) for i in range(chunks)]
    return r


def test_by_hand_alive_tokens_count_silent_and_failed_ones_are_partial() -> None:
    alive = _rec("cancelled", "stopped by qtui", 3)
    silent = _rec("cancelled", "stopped by qtui; silent for 5.0 s", 2)
    failed = _rec("disconnect", "stream ended after 1 chunks", 1)
    recs = [alive, silent, failed]
    assert streamed_tokens(recs, 100.0, 110.0) == 3  # the alive one's 3 chunks only
    assert partial_tokens(recs) == 2 + 1
    assert stop_split(recs) == (1, 5.0)
    st = summarize("e", recs, 110.0, 10.0)
    assert (st.cancelled, st.silent_at_stop, st.silent_max_s, st.partial_tokens) == (2, 1, 5.0, 3)
    c = Counts().plus(0, {"disconnect": 1}, 2, 1, 5.0, 3).plus(0, {}, 1, 1, 7.0, 2)
    assert (c.cancelled, c.silent, c.silent_max_s, c.partial_tokens) == (3, 2, 7.0, 5)
    assert c.stop_text == "1 cancelled at stop, 2 silent for up to 7 s"
