from qtui.evidence.outages import Outage, outage_text, outages


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
