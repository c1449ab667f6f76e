"""The decision record states the noise floor next to every precision's flips and the quality
verdict per tag (issue 18), in the words the app and qtui bench use."""

from __future__ import annotations

from pathlib import Path

from quality_session import write_quality_session

from qtui.session.decision import decide
from qtui.session.reader import load_session
from qtui.session.report import build_document, summary_frame, to_markdown


def test_record_has_the_noise_floor_and_per_tag_verdicts(tmp_path: Path) -> None:
    d = decide(load_session(write_quality_session(tmp_path / "q.qtsession")))
    md = to_markdown(build_document(d))
    assert "## Quality: the noise floor" in md
    assert "- noise floor: bf16 vs itself 2.0% flips (95% up to 3.9%) on 400 items" in md
    assert (
        "- fp8: flips 3.0% vs bf16, bf16 vs itself 2.0% (95% up to 3.9%): within the noise floor"
        in md
    )
    assert "- int8: flips 10.0% vs bf16, bf16 vs itself 2.0% (95% up to 3.9%): 8.0% beyond" in md
    assert "| tag | bf16 | fp8 | int8 |" in md
    assert "| risk:high | GO | GO | NO-GO |" in md and "| risk:low | GO | GO | GO |" in md
    csv = summary_frame(d)
    assert csv["quality_noise_floor"].to_list() == [
        None,
        "within the noise floor",
        "8.0% beyond the noise floor",
    ]


def test_record_without_a_golden_run_has_no_quality_section(synth_path: Path) -> None:
    """The shared synthetic session has items but no second pass: the floor is 'not measured'."""
    md = to_markdown(build_document(decide(load_session(synth_path))))
    assert "noise floor: not measured (bf16 answered the golden set once" in md


def test_sessions_compared_keep_the_first_baselines_noise_floor(tmp_path: Path) -> None:
    """In a comparison every endpoint is renamed label/name; its second pass follows."""
    from qtui.session.compare import merge_sessions

    a = load_session(write_quality_session(tmp_path / "last.qtsession"))
    b = load_session(write_quality_session(tmp_path / "today.qtsession"))
    d = decide(merge_sessions([a, b]))
    assert d.baseline == "last/bf16"
    assert d.outcome.noise_floor == (
        "noise floor: last/bf16 vs itself 2.0% flips (95% up to 3.9%) on 400 items"
    )
    assert d.outcome.get("today/int8").noise_words == "8.0% beyond the noise floor"
