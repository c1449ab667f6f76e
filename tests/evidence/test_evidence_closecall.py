"""The close-call rule: a p95 within its own noise of a limit, by batch quantiles (hand-checked)."""

from __future__ import annotations

import pytest

from qtui.config.profile import Slo
from qtui.evidence.closecall import close_call, extend_to, p95_interval
from qtui.evidence.records import RequestRecord


def steps(ttfts: list[float], gap: float = 0.0) -> list[RequestRecord]:
    """Successful requests sent one a second, TTFT as given, one more chunk ``gap`` later."""
    chunks = [[t, t + gap] if gap else [t] for t in ttfts]
    return [
        RequestRecord("e", f"r{i}", "measure", 8.0, t_send=float(i), chunk_times=c)
        for i, c in enumerate(chunks)
    ]


# five blocks of 20 in send order; block k holds 0.01 × (k + j), j = 0..19
BLOCKED = [0.01 * (k + j) for k in range(5) for j in range(20)]


def test_the_interval_is_the_p95_plus_minus_t_times_the_blocks_spread() -> None:
    """By hand: the p95 of all 100 is 0.21 s (sorted[94] = sorted[95] = 0.21); block k's p95 is
    0.1805 + 0.01 k, their sd 0.01 × √2.5 = 0.015811; 2.776 × 0.015811 / √5 = 0.019629 s."""
    iv = p95_interval(steps(BLOCKED), "ttft")
    assert iv is not None and iv.requests == 100
    assert iv.p95 == pytest.approx(0.21)
    assert (iv.low, iv.high) == (pytest.approx(0.21 - 0.019629, abs=1e-6),
                                 pytest.approx(0.21 + 0.019629, abs=1e-6))  # fmt: skip


def test_a_limit_inside_the_interval_is_a_close_call_and_says_why() -> None:
    recs = steps(BLOCKED)
    assert close_call(recs, Slo(ttft_p95_ms=200)) == (
        "ttft p95 210 ms (95 % 190–230 ms at 100 requests) holds the 200 ms limit"
    )
    assert close_call(recs, Slo(ttft_p95_ms=180)) == ""  # clearly broken
    assert close_call(recs, Slo(ttft_p95_ms=250)) == ""  # clearly met
    assert close_call(recs, Slo()) == ""  # no latency SLO


def test_every_latency_slo_is_checked_itl_and_e2e_from_the_chunks() -> None:
    """Each request: TTFT as above, a second chunk 0.05 s later (ITL 0.05 s exactly, e2e =
    TTFT + 0.05): e2e is a close call at 255 ms; ITL has no spread, so it never is."""
    recs = steps(BLOCKED, gap=0.05)
    assert close_call(recs, Slo(itl_p95_ms=50.001, e2e_p95_ms=255)) == (
        "e2e p95 260 ms (95 % 240–280 ms at 100 requests) holds the 255 ms limit"
    )


def test_too_few_requests_give_no_interval() -> None:
    assert p95_interval(steps(BLOCKED[:99]), "ttft") is None
    failed = [RequestRecord("e", "x", t_send=1.0, error_class="timeout")] * 200
    assert p95_interval(failed, "ttft") is None


@pytest.mark.parametrize(
    ("have", "first", "why", "more"),
    [(100, 100, "close", 200), (200, 100, "close", 400), (300, 100, "close", 400),
     (400, 100, "close", None), (150, 100, "", None)],
)  # fmt: skip
def test_a_close_call_runs_on_to_twice_its_requests_up_to_four_times(
    have: int, first: int, why: str, more: int | None
) -> None:
    assert extend_to(have, first, why) == more
