"""The decision record: files produced, the comparison table in them, CSV that parses back."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from qtui.cli import cli
from qtui.session import load_session
from qtui.session.decision import decide
from qtui.session.report import build_document, to_html, to_markdown, write_report


@pytest.fixture(scope="module")
def written(synth_path: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("report")
    files = write_report([synth_path], out)
    return {f.name.split("-", 1)[1]: f for f in files}


def test_all_four_files_are_written(written: dict[str, Path]) -> None:
    assert sorted(written) == ["decision.html", "decision.md", "series.csv", "summary.csv"]


def test_markdown_has_the_sections_and_the_comparison_table(written: dict[str, Path]) -> None:
    md = written["decision.md"].read_text()
    for heading in (
        "## Recommendation",
        "## Workload",
        "## SLOs and quality floor",
        "## Comparison per precision",
        "## Go / no-go",
        "## Monitoring plan",
        "## Rollback plan",
    ):
        assert heading in md
    assert "| endpoint | precision | p95 e2e at capacity (ms) | output tok/s per replica |" in md
    assert "$/1M output tokens (USD)" in md and "monthly cost (USD/month)" in md
    assert "| bf16 (baseline) | bf16 |" in md and "| fp8 | fp8 |" in md
    assert "_To be written:" in md


def test_html_is_self_contained_with_charts(written: dict[str, Path]) -> None:
    html = written["decision.html"].read_text()
    assert html.startswith("<!DOCTYPE html>") and "<style>" in html
    assert html.count("<svg") >= 3 and "<table>" in html
    assert "<script" not in html and "<link" not in html and 'src="' not in html


def test_summary_csv_parses_back_with_units(written: dict[str, Path], synth_path: Path) -> None:
    df = pl.read_csv(written["summary.csv"])
    assert df["endpoint"].to_list() == ["bf16", "fp8", "int8"]
    for col in (
        "ttft_p95_ms",
        "monthly_cost_usd",
        "cost_usd_per_1m_output_tokens",
        "reduction_vs_baseline_pct",
        "price_usd_per_gpu_hour",
    ):
        assert df.schema[col] == pl.Float64, col
    # hand arithmetic: $/1M = $/GPU-h × GPUs ÷ (tok/s × 3600) × 1e6, with the synthetic $4/GPU-h
    row = df.row(1, named=True)
    expected = 4.0 / (row["capacity_output_tok_per_s_per_replica"] * 3600) * 1e6
    assert row["cost_usd_per_1m_output_tokens"] == pytest.approx(expected)
    assert row["monthly_cost_usd"] == pytest.approx(row["replicas"] * 1 * 4.0 * 730)
    base = df.row(0, named=True)["monthly_cost_usd"]
    assert row["reduction_vs_baseline_pct"] == pytest.approx(
        (base - row["monthly_cost_usd"]) / base * 100
    )


def test_series_csv_has_iso_times_and_no_index(written: dict[str, Path]) -> None:
    df = pl.read_csv(written["series.csv"], try_parse_dates=False)
    assert df.columns[0] == "time_utc" and df.columns[1] == "endpoint"
    assert df.height == 3 * 60
    t = df["time_utc"].str.to_datetime("%Y-%m-%dT%H:%M:%SZ")
    assert t.null_count() == 0
    assert {"e2e_p95_ms", "gpu_memory_used_gib", "kv_cache_usage_pct"} <= set(df.columns)


def test_recommendation_savings_match_the_table(synth_path: Path) -> None:
    d = decide(load_session(synth_path))
    assert d.recommended is not None
    base = d.row(d.baseline).finance.monthly.value
    best = d.row(d.recommended).finance.monthly.value
    assert base is not None and best is not None
    assert d.savings.value == pytest.approx(base - best)
    md = to_markdown(build_document(d))
    assert f"**Deploy {d.recommended}" in md
    assert f"<strong>Deploy {d.recommended}" in to_html(build_document(d))


def test_recorded_prices_are_used_and_named(synth_path: Path) -> None:
    d = decide(load_session(synth_path))
    assert any("price table 'synth' is not installed here" in n for n in d.notes)
    assert any(n.startswith("what-if applied: traffic.peak_rps = 40") for n in d.notes)


def test_cli_report_writes_into_out(synth_path: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["report", str(synth_path), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "synth-decision.html").exists()


def test_cli_report_on_a_bad_file_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.qtsession"
    bad.write_text("nope")
    result = CliRunner().invoke(cli, ["report", str(bad), "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "not a qtui session file" in result.output and "Traceback" not in result.output


def test_the_load_line_names_only_its_own_mode() -> None:
    from qtui.config.profile import Load
    from qtui.session.report import _load_words

    assert _load_words(Load(mode="concurrency", concurrency=8, rate=4)) == (
        "concurrency 8 users (closed loop)"
    )
    assert _load_words(Load(mode="rate", concurrency=8, rate=4)) == "rate 4 req/s (open loop)"
