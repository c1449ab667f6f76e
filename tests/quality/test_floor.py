"""Floor → verdict: GO / NO-GO / NOT DECIDED (not measured, no floor set, not enough items), each
limit judged on its 95% interval, the reason in one line."""

from __future__ import annotations

import pytest

from qtui.config.profile import QualityFloor
from qtui.evidence.records import QualityRecord
from qtui.quality.floor import FLOOR_HINT, verdict, words
from qtui.quality.scores import compare, score_endpoint

DROP = QualityFloor(max_drop_vs_baseline=0.05, min_items=10)


def table(both: int, only_base: int, only_fp8: int, neither: int) -> list[QualityRecord]:
    """A paired 2×2 table as records: bf16 and fp8 answer the same items."""
    out, i = [], 0
    for base, fp8, n in ((1, 1, both), (1, 0, only_base), (0, 1, only_fp8), (0, 0, neither)):
        for _ in range(n):
            out.append(QualityRecord("bf16", f"i{i}", bool(base), "ok" if base else "wrong"))
            out.append(QualityRecord("fp8", f"i{i}", bool(fp8), "ok" if fp8 else "wrong"))
            i += 1
    return out


def judged(floor: QualityFloor, *cells: int, name: str = "fp8"):  # type: ignore[no-untyped-def]
    recs = table(*cells)
    paired = None if name == "bf16" else compare(name, "bf16", recs)
    return verdict(score_endpoint(name, recs), floor, paired)


def test_go_when_the_whole_interval_is_within_the_allowed_drop() -> None:
    v = judged(DROP, 180, 2, 2, 16)
    assert v.status == "go" and v.words == "GO" and v.undecided is None
    assert v.reason == (
        "GO: drop 0.0 pts vs bf16 on 200 paired items (95% CI -2.7 to 2.7 pts) within max 5.0 pts"
    )


def test_no_go_when_the_whole_interval_is_beyond_it() -> None:
    v = judged(DROP, 30, 15, 0, 5)
    assert v.status == "no-go" and v.words == "NO-GO"
    assert v.reason == (
        "NO-GO: drop 30.0 pts vs bf16 on 50 paired items (95% CI 16.3 to 43.0 pts) wholly "
        "beyond max 5.0 pts"
    )


def test_not_decided_when_it_straddles_says_how_many_items_would_decide() -> None:
    # the table of test_scores.test_paired_drop_interval_by_hand: CI −4.14 to 20.61 pts;
    # items: 7.8489 × (0.16 − 0.08²) / (0.05 − 0.08)² = 1339.5 → 1340
    v = judged(DROP, 40, 6, 2, 2)
    assert v.status == "not-decided" and v.undecided == "not enough items"
    assert v.words == "NOT DECIDED (not enough items)"
    assert v.items_needed == 1340
    assert v.reason == (
        "NOT DECIDED (not enough items): drop 8.0 pts vs bf16 on 50 paired items (95% CI -4.1 "
        "to 20.6 pts) straddles max 5.0 pts; about 1,340 items would decide a drop of 8.0 pts"
    )


def test_no_floor_set_is_not_decided_and_says_how_to_set_one() -> None:
    v = judged(QualityFloor(), 40, 6, 2, 2)
    assert v.status == "not-decided" and v.undecided == "no floor set"
    assert v.reason == (
        "NOT DECIDED (no floor set): success 84.0%; set a floor in the profile: " + FLOOR_HINT
    )
    # the old permissive default (anything passes) is gone: nothing is set unless written
    assert not QualityFloor().is_set and QualityFloor().max_drop_vs_baseline is None
    assert QualityFloor(min_success=0.0).is_set


def test_not_measured_and_not_enough_items() -> None:
    v = verdict(score_endpoint("fp8", []), DROP)
    assert (v.status, v.undecided) == ("not-decided", "not measured")
    recs = [QualityRecord("fp8", f"p{i}", True, "ok") for i in range(9)]
    recs += [QualityRecord("fp8", f"e{i}", False, "error") for i in range(30)]
    v = verdict(score_endpoint("fp8", recs), DROP)
    assert (v.status, v.undecided) == ("not-decided", "not enough items")
    assert v.reason == "NOT DECIDED (not enough items): 9 answered < min_items 10 (30 errors)"


def test_absolute_floors_on_wilson_intervals() -> None:
    # bf16 passes 46/50: Wilson 95% 81.2–96.8%
    base = QualityFloor(min_success=0.80)
    assert judged(base, 40, 6, 2, 2, name="bf16").status == "go"
    v = judged(QualityFloor(min_success=0.99), 40, 6, 2, 2, name="bf16")
    assert v.status == "no-go"
    assert v.reason == "NO-GO: success 92.0% (95% CI 81.2 to 96.8%) wholly below floor 99.0%"
    v = judged(QualityFloor(min_success=0.95), 40, 6, 2, 2, name="bf16")
    # 7.8489 × 0.92 × 0.08 / (0.92 − 0.95)² = 641.9 → 642
    assert (v.status, v.items_needed) == ("not-decided", 642)
    assert "about 642 items would decide success of 92.0%" in v.reason


def test_schema_failures_surely_broken_is_no_go_and_every_broken_limit_is_listed() -> None:
    floor = QualityFloor(min_success=0.95, max_drop_vs_baseline=0.01, max_schema_failure=0.05)
    recs = table(40, 8, 0, 2)
    recs += [
        QualityRecord(n, f"s{i}", n == "bf16", "ok" if n == "bf16" else "schema_failure",
                      check="json_schema")
        for i in range(20) for n in ("bf16", "fp8")
    ]  # fmt: skip
    v = verdict(score_endpoint("fp8", recs), floor, compare("fp8", "bf16", recs))
    assert v.status == "no-go"
    assert "success 57.1%" in v.reason and "wholly below floor 95.0%" in v.reason
    assert "drop 40.0 pts vs bf16" in v.reason and "wholly beyond max 1.0 pts" in v.reason
    assert "schema failures 100.0% (95% CI 83.9 to 100.0%) wholly above max 5.0%" in v.reason
    assert "\n" not in v.reason


@pytest.mark.parametrize(
    ("status", "undecided", "shown"),
    [
        ("go", None, "GO"),
        ("no-go", None, "NO-GO"),
        ("not-decided", "no floor set", "NOT DECIDED (no floor set)"),
        (None, None, "NOT DECIDED (not measured)"),
    ],
)
def test_words(status: str | None, undecided: str | None, shown: str) -> None:
    assert words(status, undecided) == shown
