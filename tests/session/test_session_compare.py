"""Several sessions in one comparison; per-endpoint summary figures against hand arithmetic."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from qtui.session import SessionWriter, load_session
from qtui.session.compare import compare, merge_sessions
from qtui.session.summary import summarize
from qtui.session.synth import synth_profile


def test_clashing_endpoint_names_get_the_session_label(synth_path: Path, tmp_path: Path) -> None:
    other = tmp_path / "today.qtsession"
    shutil.copy(synth_path, other)
    a, b = load_session(synth_path), load_session(other)
    rows = compare([a, b])
    names = [r.endpoint for r in rows]
    assert names == [
        "synth/bf16",
        "synth/fp8",
        "synth/int8",
        "today/bf16",
        "today/fp8",
        "today/int8",
    ]
    assert [r.session for r in rows][:3] == ["synth"] * 3
    assert rows[0].requests == rows[3].requests > 0
    merged = merge_sessions([a, b])
    assert merged.profile is not None and merged.profile.baseline.name == "synth/bf16"
    assert merged.frame("client_second").height == 2 * a.frame("client_second").height


def test_distinct_names_are_kept(tmp_path: Path) -> None:
    paths = []
    for i, name in enumerate(("old", "new")):
        p = tmp_path / f"{name}.qtsession"
        with SessionWriter(p) as w:
            w.append(
                "request",
                {
                    "endpoint": f"ep{i}",
                    "t_send": 0.0,
                    "t_end": 1.0,
                    "error_class": "none",
                    "completion_tokens": 10,
                },
            )
        paths.append(p)
    rows = compare([load_session(p) for p in paths])
    assert [r.endpoint for r in rows] == ["ep0", "ep1"]


def test_summary_figures_by_hand(tmp_path: Path) -> None:
    p = tmp_path / "hand.qtsession"
    with SessionWriter(p, profile=synth_profile(1)) as w:
        # three good requests over 10 s (t_send 0 → last t_end 10), one error
        for i, (ttft, end, toks) in enumerate([(0.1, 2.0, 20), (0.2, 6.0, 40), (0.3, 10.0, 60)]):
            w.append(
                "request",
                {
                    "endpoint": "bf16",
                    "request_id": str(i),
                    "phase": "measure",
                    "t_send": float(i),
                    "t_first_token": i + ttft,
                    "t_end": end,
                    "chunk_times": [ttft, ttft + 0.01, ttft + 0.03],
                    "prompt_tokens": 100,
                    "completion_tokens": toks,
                    "error_class": "none",
                },
            )
        w.append(
            "request",
            {
                "endpoint": "bf16",
                "request_id": "e",
                "phase": "measure",
                "t_send": 1.0,
                "t_end": 1.5,
                "error_class": "timeout",
                "prompt_tokens": 100,
                "completion_tokens": 0,
            },
        )
        w.append(
            "request",
            {
                "endpoint": "bf16",
                "request_id": "w",
                "phase": "warmup",
                "t_send": -5.0,
                "t_end": 50.0,
                "error_class": "none",
            },
        )
        w.append(
            "gpu_sample",
            {
                "endpoint": "bf16",
                "gpu": 0,
                "t": 1.0,
                "memory_used": 3 * 1024**3,
                "memory_total": 80 * 1024**3,
            },
        )
        w.append("quality_item", {"endpoint": "bf16", "item_id": "a", "passed": True})
        w.append("quality_item", {"endpoint": "bf16", "item_id": "b", "passed": False})
    (row,) = summarize(load_session(p))
    assert (row.requests, row.errors) == (4, 1)
    assert row.error_rate == pytest.approx(0.25)
    assert row.duration_s == pytest.approx(10.0)
    assert row.out_tps == pytest.approx((20 + 40 + 60) / 10)
    assert row.rps == pytest.approx(3 / 10)
    assert row.p("ttft", "p50") == pytest.approx(0.2)
    assert row.p("e2e", "p50") == pytest.approx(5.0)  # e2e = 2.0, 5.0, 8.0
    assert row.p("itl", "p50") == pytest.approx(0.015)  # gaps 0.01, 0.02 per request
    assert row.gpu_memory_used_gib == pytest.approx(3.0)
    assert row.quality_success == pytest.approx(0.5)
