from qtui.evidence.outages import Outage, OutageLog, live_text, outage_text, outages


def test_a_span_of_errors_between_successes_by_hand() -> None:
    reqs = [
        (0.0, 0.5, "none"),
        (1.0, 1.1, "disconnect"),  # the server died: first failed send at t = 1
        (1.2, 1.2, "connect"),
        (2.5, 2.5, "connect"),
        (3.0, 3.0, "cancelled"),  # qtui's own: neither
        (4.0, 4.6, "none"),  # answered again: sent at t = 4
        (5.0, 5.5, "none"),
    ]
    got = outages(reqs)
    assert got == [Outage(1.0, 4.0, 3, (("connect", 2), ("disconnect", 1)), True)]
    assert got[0].duration_s == 3.0


def test_blips_are_not_outages_and_an_unrecovered_one_ends_at_its_last_error() -> None:
    assert outages([(0.0, 0.1, "http"), (0.2, 0.3, "none")]) == []  # one error
    assert outages([(0.0, 0.1, "http"), (0.2, 0.3, "http"), (0.4, 0.5, "none")]) == []  # < 1 s
    tail = outages([(0.0, 0.1, "none"), (1.0, 1.5, "connect"), (2.0, 3.5, "connect")])
    assert tail == [Outage(1.0, 3.5, 2, (("connect", 2),), False)]


def test_the_records_words() -> None:
    o = Outage(1796220123.0, 1796220129.1, 12, (("connect", 12),))
    assert outage_text("b", o) == (
        "b: no request completed for 6.1 s (14:02:03–14:02:09 UTC): 12 errors (connect 12); "
        "measured again after"
    )


def test_the_live_log_finds_what_the_record_finds_and_stays_small() -> None:
    # 200 s at 10 req/s, the server down from t = 50 (first failed send) to t = 62.3 (answered
    # again), requests ending out of order of sending; then down again from t = 180 to the end
    reqs = [(i / 10, i / 10 + (0.35 if i % 3 else 0.05), "none") for i in range(2000)]
    reqs = [(t, e, "connect" if 50.0 <= t < 62.3 or t >= 180.0 else c) for t, e, c in reqs]
    reqs += [(100.0, 100.0, "cancelled")]
    log = OutageLog(horizon_s=5.0)
    for r in sorted(reqs, key=lambda r: r[1]):  # as they end
        log.add(*r)
        if int(r[1] * 10) % 10 == 0:
            log.spans(r[1])
    assert log.spans(200.0) == outages(reqs)
    assert [(o.start, o.recovered) for o in outages(reqs)] == [(50.0, True), (180.0, False)]
    assert len(log._kept) + len(log._recent) < 500  # not the 2,001 requests


def test_the_apps_words_by_hand() -> None:
    t0 = 1796220123.0  # 14:02:03 UTC
    down = Outage(t0, t0 + 4.0, 5, (("connect", 5),), False)
    assert live_text([], t0) == ""
    assert live_text([down], t0 + 12.4) == "down 12 s"  # now - first failed send
    assert live_text([down], t0 + 1.0) == "down 4 s"  # never less than its errors' span
    back = Outage(t0, t0 + 12.3, 5, (("connect", 5),), True)
    assert live_text([back], t0 + 99) == "outage 12.3 s at 14:02:03"
    assert live_text([back, down], t0 + 20) == "2 outages, last down 20 s"
