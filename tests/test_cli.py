"""The CLI: every subcommand documents itself; errors are one line with exit code 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from qtui.cli import cli

COMMANDS = ["demo", "run", "bench", "sim", "scrape", "replay", "report", "pricing", "check"]


def test_help_lists_every_subcommand() -> None:
    out = CliRunner().invoke(cli, ["--help"]).output
    for name in COMMANDS:
        assert name in out


@pytest.mark.parametrize("name", COMMANDS)
def test_each_subcommand_has_help(name: str) -> None:
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output


def test_check_reports_bad_file_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[profile\n")
    proc = subprocess.run(
        [sys.executable, "-m", "qtui", "check", str(bad)], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert "Traceback" not in proc.stderr
    assert str(bad) in proc.stderr


def test_check_accepts_shipped_files() -> None:
    result = CliRunner().invoke(cli, ["check", "profiles/demo.toml", "pricing/aws.toml"])
    assert result.exit_code == 0, result.output
    assert "ok (profile 'demo'" in result.output
    assert "ok (price table, AWS" in result.output


def test_pricing_show_prints_source_and_per_gpu_price() -> None:
    result = CliRunner().invoke(cli, ["pricing", "show", "aws"])
    assert result.exit_code == 0
    assert "as of 2026-11" in result.output
    assert "6.880" in result.output  # p5.48xlarge 55.04 $/h ÷ 8 GPUs
