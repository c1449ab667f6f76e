"""The noise floor and per-tag verdicts reach the decision (issue 18): the baseline's second pass
(`<baseline>~again`) is kept by the evidence, not dropped; figures by hand in quality_session."""

from __future__ import annotations

from pathlib import Path

import pytest
from quality_session import quality_records, write_quality_session

from qtui.cost.whatif import WhatIf
from qtui.decision import decide
from qtui.evidence.accumulate import Evidence
from qtui.session.decision import decide as decide_session
from qtui.session.reader import load_session
from qtui.session.synth import synth_profile


def _evidence() -> Evidence:
    ev = Evidence(synth_profile(3))
    for rec in quality_records():
        ev.ingest("quality_item", rec)
    return ev


def test_the_second_pass_is_the_noise_floor() -> None:
    floor, text = _evidence().noise_floor()
    assert floor is not None and floor["pairs"] == 400
    assert floor["self_flip_rate"] == pytest.approx(8 / 400)
    # Wilson 8/400: (0.02 + 0.0048020) / 1.0096040 ± 1.96·√(0.000049 + 0.0000060) / 1.0096040
    assert floor["self_flip_upper95"] == pytest.approx(0.03892, abs=1e-4)
    assert text == "noise floor: bf16 vs itself 2.0% flips (95% up to 3.9%) on 400 items"


def test_each_precision_states_its_flips_against_the_floor() -> None:
    out = decide(_evidence(), WhatIf.from_profile(synth_profile(3), {}))
    fp8, int8 = out.get("fp8"), out.get("int8")
    assert out.noise_floor.startswith("noise floor: bf16 vs itself 2.0%")
    assert fp8.noise == (
        "flips 3.0% vs bf16, bf16 vs itself 2.0% (95% up to 3.9%): within the noise floor"
    )
    assert int8.noise_words == "8.0% beyond the noise floor"
    assert out.get("bf16").noise == ""  # the baseline is the reference


def test_per_tag_quality_verdicts_in_the_decision() -> None:
    out = decide(_evidence(), WhatIf.from_profile(synth_profile(3), {}))
    tags = {t: w for t, w, _ in out.get("int8").by_tag}
    # risk:high: 40 of 200 lost, drop 20 points (95% CI 14.5 to 25.8) beyond the 10-point floor
    assert tags == {"risk:high": "NO-GO", "risk:low": "GO"}
    why = dict((t, r) for t, _, r in out.get("int8").by_tag)["risk:high"]
    assert "drop 20.0 pts vs bf16 on 200 paired items (95% CI 14.5 to 25.8 pts)" in why


def test_a_recorded_session_is_judged_with_its_answers_texts(tmp_path: Path) -> None:
    """The session's items keep their output text, so a report's flips are the run's."""
    d = decide_session(load_session(write_quality_session(tmp_path / "q.qtsession")))
    assert d.outcome.noise_floor == _evidence().noise_floor()[1]
    assert d.outcome.get("int8").noise.startswith("flips 10.0% vs bf16")


def test_no_second_pass_says_the_floor_is_not_measured() -> None:
    ev = Evidence(synth_profile(3))
    for rec in quality_records():
        if rec["endpoint"] != "bf16~again":
            ev.ingest("quality_item", rec)
    floor, text = ev.noise_floor()
    assert floor is None and text.startswith("noise floor: not measured")
    out = decide(ev, WhatIf.from_profile(synth_profile(3), {}))
    assert out.get("fp8").noise_words == "noise floor unknown"
