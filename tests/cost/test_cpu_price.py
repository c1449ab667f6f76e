"""The CPU instance row: CPU engines (gpu = "cpu", llama.cpp) get a cost, with its source."""

from __future__ import annotations

import pytest

from qtui.config.catalog import load_price_table


def test_aws_has_a_cpu_row_with_source_and_date() -> None:
    (row,) = load_price_table("aws").rows_for("cpu")
    assert row.instance == "c7i.large" and row.gpus_per_instance == 1
    assert row.usd_per_gpu_hour("on-demand") == pytest.approx(0.08925)
    assert "aws.amazon.com/ec2/pricing" in row.notes and "as of 2026-08" in row.notes
    # a month of one replica: 0.08925 $/h × 730 h
    assert row.usd_per_gpu_hour("on-demand") * 730 == pytest.approx(65.15, abs=0.01)  # type: ignore[operator]
