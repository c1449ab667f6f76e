"""Round trip: what is appended is what is read, from the journal and from the finalised file."""

from __future__ import annotations

import zipfile
from pathlib import Path

import polars as pl
import pytest

from qtui.session import SessionWriter, load_session
from qtui.session.check import check_session
from qtui.session.synth import synth_profile


def test_records_round_trip_through_the_finalised_file(tmp_path: Path) -> None:
    path = tmp_path / "rt.qtsession"
    profile = synth_profile(2)
    with SessionWriter(path, profile=profile) as w:
        w.append(
            "request",
            {
                "endpoint": "bf16",
                "request_id": "a",
                "t_send": 1.0,
                "t_end": 2.5,
                "chunk_times": [0.25, 0.5, 1.5],
                "completion_tokens": 3,
                "error_class": "none",
                "extra": "kept",
            },
        )
        w.append("client_second", {"endpoint": "fp8", "t": 2.0, "rps": 1.5, "e2e_p95": 0.9})
        w.event("whatif", "traffic.peak_rps", 40, 20)
    assert zipfile.is_zipfile(path)
    s = load_session(path)
    assert s.finalised and s.warnings == []
    assert s.profile == profile
    req = s.frame("request").row(0, named=True)
    assert req["chunk_times"] == pytest.approx([0.25, 0.5, 1.5], abs=1e-4)
    assert (req["request_id"], req["completion_tokens"], req["extra"]) == ("a", 3, "kept")
    cs = s.frame("client_second")
    assert cs["rps"].to_list() == [1.5] and cs.schema["ttft_p95"] == pl.Float64
    ev = s.events.row(0, named=True)
    assert (ev["kind"], ev["key"], ev["value"], ev["previous"]) == (
        "whatif",
        "traffic.peak_rps",
        "40",
        "20",
    )
    assert s.endpoints == ["bf16", "fp8"]


def test_journal_and_finalised_file_hold_the_same_records(
    synth_path: Path, synth_journal: Path
) -> None:
    a, b = load_session(synth_path), load_session(synth_journal)
    assert not b.finalised and b.warnings == []
    assert set(a.tables) == set(b.tables)
    for kind in a.tables:
        fa, fb = a.frame(kind), b.frame(kind)
        assert fa.schema == fb.schema, kind
        assert fa.drop("chunk_times", strict=False).equals(fb.drop("chunk_times", strict=False))
    gaps = (
        (a.frame("request")["chunk_times"].explode() - b.frame("request")["chunk_times"].explode())
        .abs()
        .max()
    )
    assert gaps is not None and gaps <= 0.5e-4 + 1e-12  # 0.1 ms resolution on disk


def test_unknown_kind_and_empty_kind(tmp_path: Path) -> None:
    path = tmp_path / "k.qtsession"
    with SessionWriter(path) as w:
        w.append("custom_probe", {"endpoint": "x", "nested": {"a": [1, 2]}, "t": 1.0})
    s = load_session(path)
    assert s.frame("custom_probe")["t"].to_list() == [1.0]
    assert s.frame("gpu_sample").is_empty() and "memory_used" in s.frame("gpu_sample").columns


def test_check_session_one_line_summary(synth_path: Path) -> None:
    line = check_session(synth_path)
    assert "\n" not in line
    assert line.startswith(f"{synth_path}: ok (session v2")
    assert "3 endpoints" in line and "1.0 min" in line


def test_existing_file_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "keep.qtsession"
    path.write_text("precious")
    from qtui.errors import QtuiError

    with pytest.raises(QtuiError, match="already exists"):
        SessionWriter(path)
    assert path.read_text() == "precious"
