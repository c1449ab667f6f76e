"""The shipped llama.cpp session and profile, read without any engine (default test run)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from qtui.config.load import load_model
from qtui.config.paths import shipped_profiles_dir
from qtui.config.profile import Profile
from qtui.gpu.factory import build_sources
from qtui.gpu.source import NoTelemetry
from qtui.live.state import ViewState
from qtui.session.decision import decide
from qtui.session.reader import Session, load_session

SESSION = Path(__file__).resolve().parents[2] / "sessions" / "llamacpp-smollm2.qtsession"
NAMES = ["q4_1", "q8_0", "q3_k_m", "q2_k"]


@pytest.fixture(scope="module")
def session() -> Session:
    return load_session(SESSION)


def test_the_shipped_session_holds_real_measurements(session: Session) -> None:
    assert session.finalised and not session.warnings
    assert session.endpoints == NAMES
    req = session.frame("request").filter(pl.col("phase") == "measure")
    assert req.height > 0 and set(req["error_class"]) == {"none"}
    assert set(req["usage_source"]) == {"counted"}  # llama.cpp sends no usage chunk
    assert session.frame("quality_item").height == 27 * len(NAMES)
    assert set(session.frame("server_second")["status"]) == {"not_exposed"}
    assert session.frame("gpu_sample").height == 0
    sizes = session.header["file_bytes"]  # the recording's meta, kept in the header
    assert sizes["q2_k"] < sizes["q3_k_m"] < sizes["q4_1"] < sizes["q8_0"]


def test_live_view_keeps_an_endpoint_without_metrics_alive(session: Session) -> None:
    assert session.profile is not None
    view = ViewState(session.profile, {})
    for rec in session.frame("server_second").iter_rows(named=True):
        view.ingest("server_second", rec)
    for name in NAMES:
        assert view.eps[name].status == "ok"
        assert "not exposed" in view.eps[name].reason


def test_cpu_endpoints_get_no_gpu_telemetry_source() -> None:
    profile = load_model(shipped_profiles_dir() / "llamacpp.toml", Profile)
    sources = build_sources(profile.endpoints)
    assert set(sources) == set(NAMES)
    for src in sources.values():
        assert isinstance(src, NoTelemetry)
        snap = src.sample()
        assert snap.source == "none" and "no GPU" in snap.detail


def test_a_decision_record_builds_from_the_shipped_session(session: Session) -> None:
    d = decide(session)
    assert [r.summary.endpoint for r in d.rows] == NAMES
    assert all(r.summary.gpu == "cpu" and r.summary.power_w is None for r in d.rows)


def test_the_decision_record_says_tokens_were_counted(session: Session) -> None:
    notes = [n for n in decide(session).notes if "no usable token usage" in n]
    assert [n.split(":", 1)[0] for n in notes] == NAMES
    assert all("counted from the stream" in n for n in notes)
