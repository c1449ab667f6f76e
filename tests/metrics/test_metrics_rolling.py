import pytest

from qtui.evidence.records import RequestRecord
from qtui.metrics.rolling import RollingLatency


def rec(ttft: float, gaps: list[float], **kw: object) -> RequestRecord:
    times = [ttft]
    for g in gaps:
        times.append(times[-1] + g)
    return RequestRecord(endpoint="a", request_id="r", chunk_times=times, **kw)  # type: ignore[arg-type]


def test_window_keeps_figures_through_seconds_without_a_finished_request() -> None:
    r = RollingLatency(window_s=3)
    r.add(rec(0.2, [0.01, 0.01]))  # e2e 0.22 s
    first = r.roll()
    assert first["win_s"] == 1.0
    assert first["win_ttft_p50"] == pytest.approx(0.2, rel=0.01)
    assert first["win_e2e_p50"] == pytest.approx(0.22, rel=0.01)
    assert first["win_itl_p95"] == pytest.approx(0.01, rel=0.01)
    quiet = r.roll()  # nothing finished in this second: the last 3 s still hold one request
    assert quiet["win_ttft_p50"] == pytest.approx(0.2, rel=0.01)
    r.roll()
    gone = r.roll()  # the request's second has left the 3 s window
    assert gone["win_ttft_p50"] is None and gone["win_s"] == 3.0
    assert quiet["win_rps"] == 1 / 2 and gone["win_rps"] == 0.0


def test_percentiles_over_every_request_in_the_window() -> None:
    r = RollingLatency(window_s=10)
    for second in range(5):  # 20 requests, TTFT 0.1 .. 2.0 s, 4 per second
        for k in range(4):
            r.add(rec(0.1 * (second * 4 + k + 1), [0.02]))
        out = r.roll()
    # 20 values 0.1..2.0: rank 0.5·19 = 9.5 → the 10th/11th value (1.0, 1.1); p95 rank 18.05 → 1.9
    assert out["win_ttft_p50"] == pytest.approx(1.0, rel=0.02)
    assert out["win_ttft_p95"] == pytest.approx(1.9, rel=0.02)
    assert out["win_rps"] == 20 / 5  # 20 finished requests over the 5 s seen so far


def test_failures_and_warmup_are_left_out() -> None:
    r = RollingLatency()
    r.add(rec(5.0, [0.5], error_class="disconnect"))
    r.add(rec(5.0, [0.5], phase="warmup"))
    r.add(RequestRecord(endpoint="a", request_id="x"))  # no chunk at all
    assert r.roll()["win_ttft_p50"] is None
