from qtui.client.retry_after import retry_after_s


def test_delay_seconds_and_http_dates() -> None:
    assert retry_after_s("2", 0.0) == 2.0
    assert retry_after_s(" 120 ", 0.0) == 120.0
    # Wed, 02 Dec 2026 14:00:10 GMT is 10 s after 14:00:00 UTC (epoch 1796220000)
    assert retry_after_s("Wed, 02 Dec 2026 14:00:10 GMT", 1796220000.0) == 10.0
    assert retry_after_s("Wed, 02 Dec 2026 13:00:00 GMT", 1796220000.0) == 0.0  # past: now


def test_absent_or_unreadable_is_none() -> None:
    assert retry_after_s(None, 0.0) is None
    assert retry_after_s("", 0.0) is None
    assert retry_after_s("soon", 0.0) is None
    assert retry_after_s("-3", 0.0) is None
