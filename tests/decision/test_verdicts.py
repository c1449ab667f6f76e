"""Three verdicts everywhere: GO, NO-GO, NOT DECIDED (not measured, no floor set, not enough
items). Only GO precisions are recommended; NOT DECIDED is never NO-GO."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from qtui.cli import cli
from qtui.config.profile import QualityFloor
from qtui.cost.whatif import WhatIf
from qtui.decision import decide as decide_outcome
from qtui.evidence.accumulate import Evidence
from qtui.quality.floor import FLOOR_HINT
from qtui.session.decision import _tables, decide
from qtui.session.reader import Session, load_session
from qtui.session.report import build_document, to_markdown
from qtui.session.synth import write_synthetic_session
from qtui.session.timeline import session_records


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("verdicts") / "synth.qtsession"
    return write_synthetic_session(path, endpoints=3, minutes=1)


def _session(path: Path, floor: QualityFloor | None = None) -> Session:
    s = load_session(path)
    assert s.profile is not None
    if floor is not None:
        s.profile.slo.quality = floor
    return s


def test_every_precision_go_when_the_floor_is_decided(synth: Path) -> None:
    d = decide(_session(synth))  # the synthetic floor: within 10 points, success ≥ 70%
    assert [r.judgement.verdict for r in d.rows] == ["GO", "GO", "GO"]
    assert d.recommended is not None and d.recommended != "bf16"


def test_no_floor_set_is_not_decided_not_no_go_and_says_how_to_set_one(synth: Path) -> None:
    d = decide(_session(synth, QualityFloor()))
    base, *others = d.rows
    assert base.judgement.status == "go"  # the baseline is what runs today
    for r in others:
        j = r.judgement
        assert (j.status, j.undecided, j.go) == ("not-decided", "no floor set", False)
        assert j.verdict == "NOT DECIDED (no floor set)"
        assert any(FLOOR_HINT in reason for reason in j.reasons)
    assert d.recommended == "bf16"  # only GO precisions are recommended
    assert "not decided, so not recommended: fp8 (no floor set)" in d.why
    md = to_markdown(build_document(d))
    assert "NO-GO" not in md
    assert "**fp8: NOT DECIDED (no floor set)**" in md
    assert (
        f"quality: no floor set, so no precision's quality can be decided; add `{FLOOR_HINT}`"
        in (md)
    )


def test_not_enough_items_when_the_interval_straddles_the_floor(synth: Path) -> None:
    d = decide(_session(synth, QualityFloor(max_drop_vs_baseline=0.02, min_items=20)))
    fp8 = d.row("fp8").judgement  # 3 points below on 100 pairs: 95% CI −1.3 to 7.8 pts
    assert fp8.verdict == "NOT DECIDED (not enough items)"
    assert "items would decide a drop of 3.0 pts" in fp8.quality_reason


def test_not_measured_is_not_decided(synth: Path) -> None:
    s = _session(synth)
    assert s.profile is not None
    evidence = Evidence(s.profile, measuring=True)
    for _, kind, rec in session_records(s):
        if not kind.startswith("quality"):
            evidence.ingest(kind, rec)
    out = decide_outcome(evidence, WhatIf.from_profile(s.profile, _tables(s, s.profile, [], [])))
    assert out.get("bf16").status == "go"
    fp8 = out.get("fp8")
    assert (fp8.status, fp8.verdict) == ("not-decided", "NOT DECIDED (not measured)")
    assert fp8.reasons[-1].startswith("quality NOT DECIDED (not measured): no quality run")
    assert out.recommended == "bf16"


def test_a_broken_limit_is_no_go_whatever_else_is_open(synth: Path) -> None:
    d = decide(_session(synth, QualityFloor(min_success=0.95, max_drop_vs_baseline=0.02)))
    # bf16 85/100 (Wilson 76.7–90.7%) is wholly below 95%: the baseline itself is NO-GO
    assert d.row("bf16").judgement.verdict == "NO-GO"
    assert all(r.judgement.status == "no-go" for r in d.rows)
    assert d.recommended is None


def test_an_older_not_enough_data_summary_reads_as_not_decided(synth: Path) -> None:
    s = _session(synth)
    assert s.profile is not None
    ev = Evidence(s.profile)
    ev.ingest("quality_summary", {"endpoints": [
        {"endpoint": "fp8", "items": 5, "success": 0.8, "verdict": "not-enough-data",
         "verdict_reason": "not-enough-data: 5 answered items < min 10"}]})  # fmt: skip
    q = ev.quality("fp8")
    assert (q["verdict"], q["undecided"]) == ("not-decided", "not enough items")


def test_qtui_check_says_when_no_floor_is_set(tmp_path: Path) -> None:
    shipped = Path(__file__).resolve().parents[2] / "profiles" / "demo.toml"
    text = shipped.read_text().replace("golden/", str(shipped.parent / "golden") + "/")
    bare = "\n".join(line for line in text.splitlines() if not line.startswith("quality ="))
    path = tmp_path / "nofloor.toml"
    path.write_text(bare)
    out = CliRunner().invoke(cli, ["check", str(path)])
    assert out.exit_code == 0, out.output
    assert "no quality floor set: quality stays NOT DECIDED; add " + FLOOR_HINT in out.output
    out = CliRunner().invoke(cli, ["check", str(shipped)])
    assert "no quality floor set" not in out.output
