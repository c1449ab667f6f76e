"""Evidence from records: held levels by median, cancelled requests apart, power at a level."""

from __future__ import annotations

from typing import Any

import pytest

from qtui.config.load import load_model
from qtui.config.paths import demo_profile
from qtui.config.profile import Profile
from qtui.evidence.accounting import Counts, error_rate, is_error
from qtui.evidence.accumulate import Evidence
from qtui.evidence.levels import held_point


@pytest.fixture
def profile() -> Profile:
    return load_model(demo_profile(), Profile)


def second(name: str, t: float, rps: float, e2e: float, **kw: Any) -> dict[str, Any]:
    row = {"endpoint": name, "t": t, "duration_s": 1.0, "requests": int(rps), "rps": rps,
           "in_tps": rps * 100, "out_tps": rps * 10, "ttft_p95": 0.1, "itl_p95": 0.01,
           "e2e_p95": e2e, "error_rate": 0.0, "cancelled": 0}  # fmt: skip
    row.update(kw)
    return row


def test_cancelled_at_stop_is_never_an_error() -> None:
    assert not is_error("cancelled") and not is_error("none") and not is_error(None)
    assert is_error("timeout") and is_error("disconnect")
    c = Counts().plus(97, {"http": 2, "cancelled": 8}, 8).plus(1, {"timeout": 1}, 0)
    assert (c.successes, c.errors, c.cancelled) == (98, 3, 8)
    assert c.by_class == (("http", 2), ("timeout", 1))
    assert c.error_rate == pytest.approx(3 / 101)  # 8 cancelled are in neither count
    assert error_rate(0, 0) is None


def test_a_held_levels_rate_is_its_requests_over_its_seconds_not_a_median() -> None:
    # 8 users finishing in lockstep: 8, 8, 0, 8 requests a second is 24 ÷ 4 s = 6 req/s
    secs = [second("a", t, n, 1.0) for t, n in ((1, 8), (2, 8), (3, 0), (4, 8))]
    p = held_point(8.0, secs)
    assert p is not None and p.rps == 6.0 and p.output_tps == 60.0  # 10 tokens per request


def test_tokens_of_requests_that_failed_later_come_out_of_the_levels_rate_by_hand() -> None:
    # 10, 10, 10, 0 tokens counted as they streamed; in the last second requests failed that
    # had streamed 25 of them: that second takes out what it can (nothing: it delivered 0) and
    # leaves 25 unpaid, so the level delivered 30 - 25 = 5 tokens over 4 s
    secs = [second("a", t, 1, 1.0, out_tps=o, unpaid_tokens=u)
            for t, o, u in ((1, 10, 0), (2, 10, 0), (3, 10, 0), (4, 0, 25))]  # fmt: skip
    p = held_point(8.0, secs)
    assert p is not None and p.output_tps == 5 / 4
    # a server that stalled every stream: nothing delivered, never less than nothing
    stalled = [{**s, "unpaid_tokens": 40} if s["t"] == 4 else s for s in secs]
    p = held_point(8.0, stalled)
    assert p is not None and p.output_tps == 0.0


def test_a_held_level_is_the_median_of_its_seconds() -> None:
    secs = [second("a", t, rps, e2e) for t, rps, e2e in ((1, 2, 1.0), (2, 4, 3.0), (3, 3, 2.0))]
    p = held_point(8.0, secs)
    assert p is not None and p.held
    assert (p.rps, p.output_tps, p.e2e_p95_s, p.requests) == (3.0, 30.0, 2.0, 9)
    assert held_point(8.0, secs[:2]) is None  # under 3 seconds: not a point yet
    bound = held_point(8.0, [{**s, "client_bound": True} for s in secs])
    assert bound is not None and bound.client_bound


def test_held_levels_count_only_while_measuring_and_by_the_driven_level(profile: Profile) -> None:
    ev = Evidence(profile, measuring=False)
    name = profile.endpoints[0].name
    ev.ingest("client_second", second(name, 0, 9, 1.0))  # before the load is measured
    ev.ingest("event", {"kind": "load", "key": "measuring", "value": True})
    ev.ingest("event", {"kind": "load", "key": "level", "value": 4})
    for t in range(1, 4):
        ev.ingest("client_second", second(name, t, 2, 1.0))
    ev.ingest("event", {"kind": "load", "key": "level", "value": 16})
    for t in range(4, 8):
        ev.ingest("client_second", second(name, t, 6, 2.0, err_http=1, cancelled=2))
    pts = ev.points(name)
    assert [(p.level, p.rps, p.unit) for p in pts] == [(4.0, 2.0, "users"), (16.0, 6.0, "users")]
    counts = ev.eps[name].counts
    assert (counts.successes, counts.errors, counts.cancelled) == (9 + 6 + 24, 4, 8)
    cap = ev.capacity(name)
    assert cap.level == 16 and cap.lower_bound and cap.source == "held at 16 users"


def test_a_steps_warm_up_and_cool_down_seconds_are_not_its_evidence(profile: Profile) -> None:
    # the ramp (1 and 3 req/s) and the drain (2 req/s) would pull a 6 req/s level down to
    # (1 + 3 + 6 × 3 + 2) / 6 = 4 req/s; the three measured seconds alone say 6
    ev = Evidence(profile)
    name = profile.endpoints[0].name
    rows = ((1, 1, "warmup"), (2, 3, "warmup"), (3, 6, "measure"), (4, 6, "measure"),
            (5, 6, "measure"), (6, 2, "cooldown"))  # fmt: skip
    for t, rps, phase in rows:
        ev.ingest("client_second", second(name, t, rps, 1.0, phase=phase))
    (p,) = ev.points(name)
    assert (p.rps, p.output_tps, p.requests) == (6.0, 60.0, 18)
    # a record from before seconds had a phase: every second is measured, as it was read then
    old = Evidence(profile)
    for t, rps, _ in rows:
        old.ingest("client_second", second(name, t, rps, 1.0))
    (q,) = old.points(name)
    assert q.rps == 4.0


def test_a_knee_search_stopped_before_its_first_verdict_has_no_held_capacity(
    profile: Profile,
) -> None:
    # qtui bench records a sweep's seconds too (no measuring events): a search that stopped
    # before its first verdict kept no step, and its seconds are no load "held at" 8 users
    ev = Evidence(profile, measuring=True)
    name = profile.endpoints[0].name
    for t in range(6):
        ev.ingest("client_second", second(name, t, 3, 0.5, level=4.0))
    assert ev.capacity(name).source == "held at 8 users"  # what it read before the search failed
    why = "at 4 users, 92 < 100 in 30 s, no SLO broken so far"
    failed = {"endpoint": name, "why": why, "what": "too few requests to judge"}
    ev.ingest("event", {"kind": "load", "key": "search_failed", "value": failed})
    cap = ev.capacity(name)
    assert cap.rps is None and "held at" not in cap.source
    detail = f"mid-search ({why}); no step before it"
    assert (cap.reason, cap.detail) == ("too few requests to judge", detail)


def test_a_sweep_level_record_makes_the_endpoint_swept(profile: Profile) -> None:
    ev = Evidence(profile)
    name = profile.endpoints[0].name
    for t in range(3):
        ev.ingest("client_second", second(name, t, 50, 0.5))
    ev.ingest("sweep_level", {"endpoint": name, "level": 2.0, "rps": 1.5, "in_tps": 150,
                              "out_tps": 15, "ttft_p95": 0.1, "itl_p95": 0.01, "e2e_p95": 1.0,
                              "error_rate": 0.0, "requests": 30, "t_end": 10.0,
                              "duration_s": 5.0})  # fmt: skip
    assert [p.held for p in ev.points(name)] == [False]
    assert ev.capacity(name).rps == 1.5


def test_power_at_the_held_capacity_level(profile: Profile) -> None:
    ev = Evidence(profile)
    name = profile.endpoints[0].name
    ev.ingest("event", {"kind": "load", "key": "level", "value": 8})
    for t, w in ((1.0, 300.0), (2.0, 500.0)):
        ev.ingest("gpu_sample", {"endpoint": name, "gpu": 0, "t": t, "power_w": w})
    assert ev.power(name, 8.0) == (400.0, "at load level 8")
    watts, basis = ev.power(name, 2.0)
    assert watts == 400.0 and basis == "mean of the last 60 s; none measured at load level 2"


def test_server_seconds_give_peak_kv_use_and_preemptions() -> None:
    from qtui.session.synth import synth_profile

    ev = Evidence(synth_profile(2))
    for t, use, rate in ((1.0, 0.1, None), (2.0, 0.6, 2.0), (4.0, 0.3, 0.5)):
        ev.ingest("server_second", {"endpoint": "bf16", "t": t, "kv_cache_usage": use,
                                    "preemptions_per_s": rate})  # fmt: skip
    ep = ev.eps["bf16"]
    # 2 /s × 1 s + 0.5 /s × 2 s = 3 preemptions; the highest use 60 %
    assert (ep.peak_kv_usage, ep.preemptions, ep.preemptions_seen) == (0.6, 3.0, True)
    assert not ev.eps["fp8"].preemptions_seen
