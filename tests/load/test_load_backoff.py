from qtui.load.backoff import BASE_S, CAP_S, backoff_s


def test_no_failure_no_wait() -> None:
    assert backoff_s(0, 0.7) == 0.0


def test_exponential_steps_by_hand() -> None:
    # u = 0 gives half the step, u → 1 the whole step: 0.25 s · 2^(f-1)
    assert backoff_s(1, 0.0) == 0.125 and backoff_s(1, 0.999) < 0.25
    assert backoff_s(2, 0.0) == 0.25
    assert backoff_s(3, 0.5) == 1.0 * 0.75  # step 1.0 s, factor 0.75


def test_capped_and_never_overflows() -> None:
    assert backoff_s(6, 0.0) == CAP_S / 2  # 0.25 · 32 = 8 s, capped at 5 s
    assert backoff_s(10_000, 0.999) < CAP_S
    assert BASE_S == 0.25


def test_a_failing_user_sends_at_most_a_few_requests_a_second() -> None:
    # after the first failure the waits add up: at most 1 / 0.125 = 8 requests in the first
    # second, and from the fourth failure on at most 1 per second
    assert 1 / backoff_s(1, 0.0) == 8.0
    assert backoff_s(4, 0.0) == 1.0


def test_retry_after_makes_the_wait_at_least_what_it_asks_capped() -> None:
    from qtui.load.backoff import RETRY_AFTER_CAP_S

    assert backoff_s(1, 0.0, retry_after=3.0) == 3.0  # 0.125 s back-off < 3 s asked
    assert backoff_s(6, 0.999, retry_after=0.5) == backoff_s(6, 0.999)  # back-off longer
    assert backoff_s(1, 0.0, retry_after=3600.0) == RETRY_AFTER_CAP_S == 10.0
    assert backoff_s(1, 0.0, retry_after=-5.0) == 0.125
