"""summarize(): the whole quality picture from records, and its JSON form for the session."""

from __future__ import annotations

import json
import math

import pytest

from qtui.config.profile import QualityFloor
from qtui.quality.record import QualityRecord
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
    assert base.paired is None and base.agreement is None and base.verdict.status == "go"
    assert fp8.verdict.status == "no-go"  # 10 points below the baseline > 5
    assert fp8.paired is not None and fp8.paired.only_baseline == 1
    assert fp8.agreement is not None and fp8.agreement.flip_rate == pytest.approx(0.1)
    assert fp8.agreement.mean_first_divergence == 1.0
    assert int4.score.errors == 1 and int4.score.answered == 9
    assert int4.verdict.reason.startswith("no-go: success 55.6% < floor 80.0%")
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
    assert fp8["verdict"] in {"go", "no-go", "not-enough-data"}
    assert back["endpoints"][0]["paired"] is None
