from qtui.commands.bench import PLAIN_EVERY_S, plain_due


def test_plain_progress_lines_come_at_a_steady_rate() -> None:
    assert plain_due(100.0, float("-inf"))  # the first line at once
    assert not plain_due(104.9, 100.0)
    assert plain_due(100.0 + PLAIN_EVERY_S, 100.0)
