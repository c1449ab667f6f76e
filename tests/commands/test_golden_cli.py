"""`qtui golden generate`: deterministic, verifiable items; bad input is one line (issue 18)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from qtui.cli import cli
from qtui.quality.golden import load_golden


def test_generate_writes_a_set_that_loads_and_repeats(tmp_path: Path) -> None:
    out = tmp_path / "g.jsonl"
    res = CliRunner().invoke(cli, ["golden", "generate", "-n", "12", "--seed", "7", "-o", str(out)])
    assert res.exit_code == 0, res.output
    items = load_golden(out)
    assert len(items) == 12
    again = CliRunner().invoke(cli, ["golden", "generate", "-n", "12", "--seed", "7"])
    assert again.output == out.read_text()  # same seed, same items


def test_generate_one_task(tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, ["golden", "generate", "-n", "3", "--task", "arithmetic"])
    assert res.exit_code == 0, res.output
    rows = [json.loads(x) for x in res.output.splitlines()]
    assert len(rows) == 3 and all("arithmetic" in json.dumps(r) for r in rows)


def test_bad_input_is_one_line() -> None:
    for args, words in (
        (["-n", "0"], "n must be at least 1"),
        (["-n", "5", "--task", "poetry"], "unknown task 'poetry'"),
    ):
        res = CliRunner().invoke(cli, ["golden", "generate", *args])
        assert res.exit_code == 2
        lines = res.output.strip().splitlines()
        assert len(lines) == 1 and words in lines[0], res.output
