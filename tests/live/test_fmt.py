"""Formatting: every figure carries its unit; values checked by hand."""

from __future__ import annotations

from qtui.live import fmt, ladder


def test_ms_units() -> None:
    assert fmt.ms(0.0123) == "12.3 ms"
    assert fmt.ms(0.123) == "123 ms"
    assert fmt.ms(1.234) == "1.23 s"
    assert fmt.ms(12.34) == "12.3 s"
    assert fmt.ms(None) == "—"


def test_gib_pct_tps_rps() -> None:
    assert fmt.gib(80 * 1024**3) == "80.0 GiB"
    assert fmt.pct(0.256) == "26%"
    assert fmt.pct(0.0012, 1) == "0.1%"
    assert fmt.tps(1234.4) == "1,234 tok/s"
    assert fmt.tps(12_345) == "12.3k tok/s"
    assert fmt.rps(4.25) == "4.2 req/s"


def test_money() -> None:
    # an A100 at $3.20/h for 730 h is $2,336/month (seed article)
    assert fmt.usd(3.20 * 730, "/mo") == "$2,336/mo"
    assert fmt.usd(1.3097) == "$1.31"
    assert fmt.signed_usd(-5022.4, "/mo") == "−$5,022/mo"
    assert fmt.signed_pct(-0.25) == "−25%"
    assert fmt.signed_pct(0.1) == "+10%"


def test_duration_and_bar() -> None:
    assert fmt.duration(75) == "1:15"
    assert fmt.duration(3725) == "1:02:05"
    assert fmt.bar(40, 80, 8, 10) == "█████▒░░░░"
    assert fmt.bar(None, 80, None, 4) == "░░░░"


def test_ladder_steps_and_ends() -> None:
    assert ladder.step("concurrency", 16, 1) == 32
    assert ladder.step("concurrency", 16, -1) == 8
    assert ladder.step("concurrency", 1, -1) == 1
    assert ladder.step("concurrency", 1024, 1) == 1024
    assert ladder.step("rate", 4, 1) == 8
    assert ladder.step("rate", 3, 1) == 4  # off-ladder values snap to the next rung
    assert ladder.step("rate", 3, -1) == 2
