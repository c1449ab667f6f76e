"""The record's workload line when the app's `w` switched workloads mid-run (issue 21)."""

from __future__ import annotations

from pathlib import Path

from qtui.config.describe import workload_text
from qtui.config.profile import Profile
from qtui.evidence.records import Stats
from qtui.session.reader import load_session
from qtui.session.report import workload_lines
from qtui.session.rows import client_second
from qtui.session.workloads import Span, clock, workload_spans
from qtui.session.writer import SessionWriter

T0 = 1_800_000_000.0


def ev(dt: float, key: str, value: object) -> dict[str, object]:
    return {"t": T0 + dt, "kind": "load", "key": key, "value": value}


SWITCHED = [
    ev(0, "start", {"mode": "concurrency", "level": 8, "workload": "synthetic"}),
    ev(200, "workload", "trace"),  # w pressed: the load restarts on the trace
    ev(200.5, "start", {"mode": "concurrency", "level": 8, "workload": "trace"}),
    ev(300, "level", 16),  # not a workload change
    ev(425, "workload", "synthetic"),
]


def test_spans_by_hand() -> None:
    assert workload_spans(SWITCHED, "synthetic", T0, T0 + 600) == [
        Span("synthetic", 0, 200), Span("trace", 200, 425), Span("synthetic", 425, 600),
    ]  # fmt: skip
    assert workload_spans([], "golden", T0, T0 + 60) == [Span("golden", 0, 60)]
    # the app started on the trace at once: no empty span of the profile's kind before it
    started = [ev(0, "start", {"workload": "trace"})]
    assert workload_spans(started, "synthetic", T0, T0 + 9) == [Span("trace", 0, 9)]
    assert (clock(0), clock(425), clock(3725)) == ("0:00", "7:05", "1:02:05")


def test_the_record_names_each_span_with_its_workload(tmp_path: Path) -> None:
    prof = Profile.model_validate(
        {
            "profile": {"name": "w"},
            "endpoints": [{"name": "e0", "url": "http://127.0.0.1:1", "precision": "bf16"}],
            "workload": {"trace_file": "day.jsonl"},
        }
    )
    path = tmp_path / "w.qtsession"
    writer = SessionWriter(path, profile=prof)
    for dt in (0.0, 600.0):
        writer.append("client_second", client_second(Stats("e0", T0 + dt, 1.0), 8.0, False))
    for e in SWITCHED:
        writer.append("event", e)
    writer.close()
    lines = workload_lines(load_session(path), prof.workload)
    w = prof.workload
    assert lines == [
        "workload: switched with `w` during the run (3 spans); API: completions",
        f"0:00–3:20: {workload_text(w, 'synthetic')}",
        f"3:20–7:05: {workload_text(w, 'trace')}",
        f"7:05–10:00: {workload_text(w, 'synthetic')}",
    ]
