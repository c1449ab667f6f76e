"""TTFT per turn position, against hand values (issue 21)."""

from qtui.evidence.turns import TurnTtft, first_vs_later, ttft_by_turn, turn_text


def test_each_position_then_the_later_turns_together() -> None:
    samples = [(1, 0.4), (1, 0.6), (2, 0.1), (2, 0.3), (3, 0.2), (0, 9.0)]  # turn 0: not a turn
    rows = ttft_by_turn(samples)
    assert [r.label for r in rows] == ["1", "2", "3", "2+"]
    # numpy linear percentiles: turn 1 of [0.4, 0.6]: p50 0.5, p95 0.4 + 0.95 * 0.2 = 0.59
    assert rows[0].requests == 2 and abs(rows[0].p50 - 0.5) < 1e-12  # type: ignore[operator]
    assert abs(rows[0].p95 - 0.59) < 1e-12  # type: ignore[operator]
    # 2+ of [0.1, 0.3, 0.2] sorted [0.1, 0.2, 0.3]: p50 0.2, p95 at rank 1.9: 0.2 + 0.9 * 0.1
    assert rows[3].requests == 3 and abs(rows[3].p50 - 0.2) < 1e-12  # type: ignore[operator]
    assert abs(rows[3].p95 - 0.29) < 1e-12  # type: ignore[operator]


def test_one_turn_only_has_no_later_row() -> None:
    assert [r.label for r in ttft_by_turn([(1, 0.2)])] == ["1"]
    assert ttft_by_turn([]) == []


def test_the_words() -> None:
    rows = [
        TurnTtft("1", 40, 0.412, 0.530),
        TurnTtft("2", 40, 0.12, 0.21),
        TurnTtft("2+", 40, 0.12, 0.21),
    ]
    assert turn_text(rows) == (
        "TTFT p50 / p95 by turn: 1: 412 / 530 ms (40 requests); 2: 120 / 210 ms (40 requests); "
        "2+: 120 / 210 ms (40 requests)"
    )
    assert first_vs_later(rows) == "turn 1 530 ms, 2+ 210 ms p95"
    assert turn_text([]) == "TTFT by turn: no completed conversation turn"
