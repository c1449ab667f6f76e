"""Floor → verdict: go / no-go / not-enough-data, reason in one line."""

from __future__ import annotations

from qtui.config.profile import QualityFloor
from qtui.quality.floor import verdict
from qtui.quality.record import QualityRecord
from qtui.quality.scores import Paired, score_endpoint

FLOOR = QualityFloor(
    min_success=0.89, max_drop_vs_baseline=0.01, max_schema_failure=0.005, min_items=10
)


def records(
    endpoint: str, passed: int, failed: int, errors: int = 0, schema_fail: int = 0
) -> list[QualityRecord]:
    out = [QualityRecord(endpoint, f"p{i}", True, "ok") for i in range(passed)]
    out += [QualityRecord(endpoint, f"f{i}", False, "wrong") for i in range(failed)]
    out += [QualityRecord(endpoint, f"e{i}", False, "error") for i in range(errors)]
    out += [
        QualityRecord(endpoint, f"s{i}", False, "schema_failure", check="json_schema")
        for i in range(schema_fail)
    ]
    return out


def paired(delta: float, p: float = 0.07) -> Paired:
    return Paired("fp8", "bf16", 100, 80, 7, 1, delta, p)


def test_go_reason_lists_the_figures() -> None:
    v = verdict(score_endpoint("fp8", records("fp8", 95, 5)), FLOOR, paired(-0.005))
    assert v.status == "go"
    assert v.reason == "go: success 95.0% ≥ floor 89.0%, -0.5 pts vs bf16"


def test_no_go_below_floor() -> None:
    v = verdict(score_endpoint("bf16", records("bf16", 81, 19)), FLOOR)
    assert v.status == "no-go"
    assert v.reason == "no-go: success 81.0% < floor 89.0%"


def test_no_go_on_drop_vs_baseline_quotes_mcnemar() -> None:
    v = verdict(score_endpoint("fp8", records("fp8", 92, 8)), FLOOR, paired(-0.06, 0.0703))
    assert v.status == "no-go"
    assert v.reason == "no-go: 6.0 pts below bf16 > max 1.0 pts (McNemar p=0.070)"


def test_drop_exactly_at_the_limit_is_go() -> None:
    v = verdict(score_endpoint("fp8", records("fp8", 95, 5)), FLOOR, paired(-0.01))
    assert v.status == "go"


def test_no_go_on_schema_failures_and_several_reasons_on_one_line() -> None:
    v = verdict(score_endpoint("fp8", records("fp8", 80, 18, schema_fail=2)), FLOOR, paired(-0.1))
    assert v.status == "no-go"
    assert "success 80.0% < floor 89.0%" in v.reason
    assert "10.0 pts below bf16" in v.reason
    assert "schema failures 100.0% > max 0.5%" in v.reason
    assert "\n" not in v.reason


def test_not_enough_data_counts_answered_items_only() -> None:
    v = verdict(score_endpoint("fp8", records("fp8", 9, 0, errors=30)), FLOOR)
    assert v.status == "not-enough-data"
    assert v.reason == "not-enough-data: 9 answered items < min 10 (30 errors)"
    v = verdict(score_endpoint("fp8", []), FLOOR)
    assert v.status == "not-enough-data"
