"""The typed records: derived latencies by hand, journal shapes, tolerant reading."""

from __future__ import annotations

import pytest

from qtui.evidence.records import (
    Event,
    GpuSnapshot,
    QualityRecord,
    RequestRecord,
    Stats,
    gpu_records,
)


def test_request_latencies_by_hand() -> None:
    # chunks at 0.2, 0.25, 0.4, 0.6 s after send; 4 tokens
    r = RequestRecord("fp8", "r1", chunk_times=[0.2, 0.25, 0.4, 0.6], completion_tokens=4)
    assert r.ttft == 0.2
    assert r.e2e == 0.6
    assert r.tpot == pytest.approx((0.6 - 0.2) / 3)
    assert r.itl() == pytest.approx([0.05, 0.15, 0.2])
    assert r.ok


def test_one_token_has_no_tpot_and_no_chunk_no_ttft() -> None:
    assert RequestRecord("a", "1", chunk_times=[0.1], completion_tokens=1).tpot is None
    empty = RequestRecord("a", "2", error_class="timeout")
    assert empty.ttft is None and empty.e2e is None and not empty.ok


def test_stats_flat_names_every_percentile_and_error_class_but_cancelled() -> None:
    flat = Stats("bf16", t=10.0, duration_s=1.0, errors={"http": 2}, cancelled=3).flat()
    assert flat["ttft_p95"] is None and flat["e2e_p99"] is None
    assert flat["err_http"] == 2 and flat["cancelled"] == 3
    assert "err_cancelled" not in flat


def test_quality_record_reads_unknown_keys_and_reasons() -> None:
    raw = {"endpoint": "int4", "item_id": "q1", "passed": False, "reason": "???", "extra": 1}
    rec = QualityRecord.from_dict(raw)
    assert rec.reason == "error" and not rec.answered
    assert rec.to_dict()["kind"] == "quality_item"


def test_gpu_less_snapshot_is_one_record_naming_its_state() -> None:
    [row] = gpu_records(GpuSnapshot("none", t=5.0, status="no_driver", detail="no libnvidia-ml"))
    assert row["gpu"] is None and row["state"] == "no_driver" and row["detail"] == "no libnvidia-ml"


def test_event_record_is_the_journal_shape() -> None:
    ev = Event(12.5, "load", "level", 16).to_dict()
    assert ev == {"t": 12.5, "kind": "load", "key": "level", "value": 16, "previous": None}
