"""summarize(): the whole quality picture from records, and its JSON form for the session."""

from __future__ import annotations

import json
import math

import pytest

from qtui.config.profile import QualityFloor
from qtui.evidence.records import QualityRecord
from qtui.quality.summary import summarize

FLOOR = QualityFloor(
    min_success=0.8, max_drop_vs_baseline=0.05, max_schema_failure=0.1, min_items=5
)


def recs(endpoint: str, outcomes: str) -> list[QualityRecord]:
    """'P' pass, 'W' wrong, 'E' error; same token list unless the outcome differs from 'P'."""
    out = []
    for i, o in enumerate(outcomes):
        reason = {"P": "ok", "W": "wrong", "E": "error"}[o]
        tokens = ["a", "b"] if o == "P" else ["a", "z"]
        out.append(
            QualityRecord(
                endpoint, f"i{i}", o == "P", reason,  # type: ignore[arg-type]
                output_text=" ".join(tokens) if o != "E" else None,
                tokens=tokens if o != "E" else [],
                top_logprobs=[{"a": 0.0}, {"b": math.log(0.9)} if o == "P" else {"z": 0.0}],
            )
        )  # fmt: skip
    return out


def test_summarize_baseline_and_candidates() -> None:
    records = recs("bf16", "PPPPPPPPPP") + recs("fp8", "PPPPPPPPPW") + recs("int4", "PPPPPWWWWE")
    s = summarize(records, ["bf16", "fp8", "int4"], "bf16", FLOOR)
    base, fp8, int4 = s.endpoints
    assert base.paired is None and base.agreement is None
    # 10/10: Wilson 72.2–100% straddles the 80% floor; p kept 1/10 from 1:
    # 7.8489 × 0.9 × 0.1 / (1.0 − 0.8)² = 17.7 → 18 items
    assert base.verdict.status == "not-decided" and base.verdict.items_needed == 18
    # 10 points below the baseline on 10 pairs: 95% CI −7.7 to 40.4 pts straddles max 5
    assert fp8.verdict.status == "not-decided" and fp8.verdict.undecided == "not enough items"
    assert fp8.paired is not None and fp8.paired.only_baseline == 1
    assert fp8.agreement is not None and fp8.agreement.flip_rate == pytest.approx(0.1)
    assert fp8.agreement.mean_first_divergence == 1.0
    assert int4.score.errors == 1 and int4.score.answered == 9
    # 4 of 9 pairs lost: the drop's interval 5.1–73.3 pts is wholly beyond 5 (success 5/9,
    # Wilson 26.7–81.1%, only straddles the 80% floor, so it is not named as broken)
    assert int4.verdict.reason == (
        "NO-GO: drop 44.4 pts vs bf16 on 9 paired items (95% CI 5.1 to 73.3 pts) wholly beyond "
        "max 5.0 pts"
    )
    assert s.get("int4") is int4


def test_to_dict_is_json_ready() -> None:
    records = recs("bf16", "PPPPP") + recs("fp8", "PPPPW")
    d = summarize(records, ["bf16", "fp8"], "bf16", FLOOR).to_dict()
    text = json.dumps(d)
    back = json.loads(text)
    assert back["kind"] == "quality_summary" and back["baseline"] == "bf16"
    fp8 = back["endpoints"][1]
    assert fp8["success"] == 0.8 and fp8["passed"] == 4 and fp8["answered"] == 5
    assert fp8["success_ci95"][0] < 0.8 < fp8["success_ci95"][1]
    assert fp8["paired"]["p_value"] == 1.0
    assert fp8["agreement"]["flip_rate"] == pytest.approx(0.2)
    assert fp8["verdict"] in {"go", "no-go", "not-decided"}
    assert fp8["verdict_words"].startswith(("GO", "NO-GO", "NOT DECIDED"))
    lo, hi = fp8["drop_ci95"]
    assert lo < 0.2 < hi  # the paired drop, one of five items
    assert back["endpoints"][0]["paired"] is None
