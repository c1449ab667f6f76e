"""ShareGPT-style conversations become a JSONL prompt file the jsonl workload reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from qtui.cli import cli
from qtui.errors import ConfigError
from qtui.load.sharegpt import sharegpt_prompts

P = Path("sg.json")
CONVS = [
    {"conversations": [{"from": "human", "value": "Hi there"}, {"from": "gpt", "value": "x" * 41}]},
    {"conversations": [{"from": "gpt", "value": "no question"}]},
    {"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "Q?"},
                  {"role": "assistant", "content": "abc"}]},
]  # fmt: skip


def test_first_human_turn_with_the_answers_length() -> None:
    lines, skipped = sharegpt_prompts(P, json.dumps(CONVS))
    # 41 characters / 4 = 10 tokens; a 3-character answer still asks for 1
    assert lines == [{"prompt": "Hi there", "max_tokens": 10}, {"prompt": "Q?", "max_tokens": 1}]
    assert skipped == 1
    jsonl = "".join(json.dumps(c) + "\n" for c in CONVS)
    assert sharegpt_prompts(P, jsonl, output_tokens=64)[0][0] == {
        "prompt": "Hi there",
        "max_tokens": 64,
    }


def test_nothing_usable_is_one_line() -> None:
    with pytest.raises(ConfigError, match=r"sg\.json: no conversation .* \(1 skipped\)"):
        sharegpt_prompts(P, json.dumps(CONVS[1:2]))
    with pytest.raises(ConfigError, match=r"sg\.json:2: not a JSON object"):
        sharegpt_prompts(P, '{"conversations": []}\n{oops\n')


def test_cli_writes_a_prompt_file_the_jsonl_workload_reads(tmp_path: Path) -> None:
    from qtui.config.profile import Workload
    from qtui.load.workload import make_source

    src, out = tmp_path / "sg.json", tmp_path / "p.jsonl"
    src.write_text(json.dumps(CONVS))
    r = CliRunner().invoke(cli, ["trace", "sharegpt", str(src), "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "2 prompts" in r.output and "1 conversations skipped" in r.output
    source = make_source(Workload(kind="jsonl", prompts_file="p.jsonl"), tmp_path)
    assert [source.next().max_tokens for _ in range(2)] == [10, 1]
