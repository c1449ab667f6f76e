from qtui.commands.bench import PLAIN_EVERY_S, plain_due


def test_plain_progress_lines_come_at_a_steady_rate() -> None:
    assert plain_due(100.0, float("-inf"))  # the first line at once
    assert not plain_due(104.9, 100.0)
    assert plain_due(100.0 + PLAIN_EVERY_S, 100.0)


def test_on_a_terminal_progress_is_a_rich_live_display() -> None:
    import io
    from types import SimpleNamespace

    from rich.console import Console

    from qtui.commands.bench_progress import LiveProgress
    from qtui.evidence.records import LatencyStats, Stats

    good = Stats("good", 0.0, 1.0, requests=9, rps=9.0, out_tps=36.0, in_flight=2,
                 ttft=LatencyStats(9, 0.02, 0.02, 0.03, 0.031, 0.04))  # fmt: skip
    bad = Stats("bad", 0.0, 1.0, errors={"http": 3}, backing_off=2)
    health = SimpleNamespace(client_bound=True)
    run = SimpleNamespace(
        latest={"good": good, "bad": bad}, eps={}, mode="concurrency", duration=8.0,
        health=[health],
    )  # fmt: skip
    buf = io.StringIO()
    live = LiveProgress(run, Console(file=buf, force_terminal=True, width=100))
    live.start()
    live.update()
    live.stop()
    import re

    raw = buf.getvalue()
    assert "\x1b[" in raw  # a terminal display (ANSI), not plain lines
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", raw)
    assert "qtui bench concurrency, 8 s" in text and "client-bound" in text
    assert "good" in text and "9.0" in text and "31 ms" in text
    assert "http 3; backing off (2 users)" in text
