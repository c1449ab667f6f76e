"""Per-tag verdicts: the same rule on each tag's items (issue 18)."""

from __future__ import annotations

from qtui.config.profile import QualityFloor
from qtui.evidence.records import QualityRecord
from qtui.quality.summary import summarize, tag_verdicts


def _items(endpoint: str, tag: str, n: int, wrong: int) -> list[QualityRecord]:
    return [
        QualityRecord(
            endpoint,
            f"{tag}-{i}",
            i >= wrong,
            "wrong" if i < wrong else "ok",
            output_text=str(i),
            tags=[tag],
        )
        for i in range(n)
    ]


def _records() -> list[QualityRecord]:
    # low risk: fp8 answers as the baseline on 400 items; high risk: fp8 misses 40 of 400
    return (
        _items("bf16", "risk:low", 400, 0)
        + _items("fp8", "risk:low", 400, 0)
        + _items("bf16", "risk:high", 400, 0)
        + _items("fp8", "risk:high", 400, 40)
    )


FLOOR = QualityFloor(max_drop_vs_baseline=0.02, min_items=10)


def test_a_precision_can_be_go_for_low_risk_and_no_go_for_high_risk() -> None:
    v = tag_verdicts(_records(), ["bf16", "fp8"], "bf16", FLOOR)
    assert v["risk:low"]["fp8"].status == "go"  # drop 0, paired CI well inside 2 points
    assert v["risk:high"]["fp8"].status == "no-go"  # drop 10 points, CI wholly beyond 2
    assert v["risk:high"]["bf16"].status == "go"


def test_summary_records_per_tag_verdicts() -> None:
    d = summarize(_records(), ["bf16", "fp8"], "bf16", FLOOR).to_dict()
    fp8 = d["endpoints"][1]["by_tag_verdict"]
    assert fp8["risk:low"]["verdict"] == "go" and fp8["risk:high"]["verdict"] == "no-go"
    assert d["endpoints"][1]["verdict"] == "no-go"  # overall: 5-point drop, beyond the floor


def test_no_floor_set_is_not_decided_per_tag_too() -> None:
    v = tag_verdicts(_records(), ["bf16", "fp8"], "bf16", QualityFloor())
    assert {v[t]["fp8"].status for t in v} == {"not-decided"}
    assert v["risk:low"]["fp8"].undecided == "no floor set"
