"""`qtui bench --lmeval TASK` (issue 18): an lm-evaluation-harness task defined by a local YAML and
a local data file (no hub) runs through the harness's local-completions model against the
simulator over real sockets, and its per-item results land in the same verdicts and session.

Needs the extra (``pip install 'qtui[lmeval]'``); skipped without it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from qtui.cli import cli
from qtui.quality.lmeval import records_of
from qtui.session import load_session

SECRET = "sk-lmeval-test-0123456789"
CITIES = [("France", "Paris"), ("Japan", "Tokyo"), ("Kenya", "Nairobi"), ("Peru", "Lima"),
          ("Norway", "Oslo"), ("Egypt", "Cairo"), ("Chile", "Santiago"), ("Spain", "Madrid"),
          ("Italy", "Rome"), ("Ghana", "Accra"), ("Cuba", "Havana"),
          ("Nepal", "Kathmandu")]  # fmt: skip

TASK_YAML = """task: qtui_capitals
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: generate_until
doc_to_text: "{{{{question}}}}"
doc_to_target: "{{{{answer}}}}"
generation_kwargs:
  until: ["\\n"]
  max_gen_toks: 16
  do_sample: false
  temperature: 0.0
metric_list:
  - metric: exact_match
    aggregation: mean
    higher_is_better: true
    ignore_case: true
    ignore_punctuation: true
"""

PROFILE = """
[profile]
name = "lmeval test"
baseline = "bf16"

[[endpoints]]
name = "bf16"
precision = "bf16"
api_key_env = "QTUI_LMEVAL_TEST_KEY"
[endpoints.simulate]
model = "llama-3.1-8b"

[[endpoints]]
name = "int4"
precision = "int4-awq"
[endpoints.simulate]
model = "llama-3.1-8b"
weights = "int4"
quality_error_rate = 0.5

[workload]
input_tokens = {{ mean = 32 }}
output_tokens = {{ mean = 4 }}
golden_set = "{golden}"

[load]
concurrency = 2
duration_s = 30
max_requests = 4

[slo]
quality = {{ max_drop_vs_baseline = 0.05, min_items = 10 }}
"""


def test_records_of_samples_by_hand() -> None:
    samples = [
        {"doc_id": 0, "target": "Paris", "filtered_resps": ["Paris"], "metrics": ["exact_match"],
         "exact_match": 1.0, "arguments": {"gen_args_0": {"arg_0": "Capital of France?"}}},
        {"doc_id": 1, "target": "Lima", "filtered_resps": ["Quito"], "metrics": ["exact_match"],
         "exact_match": 0.0},
    ]  # fmt: skip
    a, b = records_of("fp8", "caps", samples)
    assert (a.item_id, a.passed, a.reason, a.output_text) == ("caps/0", True, "ok", "Paris")
    assert (b.passed, b.reason, b.tags) == (False, "wrong", ["task:caps", "source:lm-eval"])


def test_a_metric_that_is_not_pass_fail_is_one_line() -> None:
    from qtui.errors import ConfigError

    bleu = [{"doc_id": 3, "metrics": ["bleu"], "bleu": 0.42}]
    with pytest.raises(ConfigError, match=r"^lm-eval task t: metric bleu is 0.42 on sample 3"):
        records_of("fp8", "t", bleu)


def _files(tmp: Path) -> tuple[Path, Path]:
    data = tmp / "capitals.jsonl"
    data.write_text("".join(json.dumps({"question": f"What is the capital of {c}?",
                                        "answer": a}) + "\n" for c, a in CITIES))  # fmt: skip
    tasks = tmp / "tasks"
    tasks.mkdir()
    (tasks / "qtui_capitals.yaml").write_text(TASK_YAML.format(data=data.as_posix()))
    golden = tmp / "golden.jsonl"  # the simulator answers the prompts it knows
    rows = [{"id": f"cap-{i}", "prompt": f"What is the capital of {c}?", "expected": a,
             "check": {"type": "normalized"}} for i, (c, a) in enumerate(CITIES)]  # fmt: skip
    golden.write_text("".join(json.dumps(r) + "\n" for r in rows))
    prof = tmp / "lmeval.toml"
    prof.write_text(PROFILE.format(golden=golden.as_posix()))
    return prof, tasks


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")


def test_bench_runs_a_local_task_on_every_endpoint(tmp_path: Path, offline: None) -> None:
    pytest.importorskip("lm_eval", reason="the qtui[lmeval] extra is not installed")
    prof, tasks = _files(tmp_path)
    out = tmp_path / "out"
    res = CliRunner(env={"QTUI_LMEVAL_TEST_KEY": SECRET}).invoke(
        cli, ["bench", str(prof), "--out", str(out), "--lmeval", "qtui_capitals",
              "--lmeval-include", str(tasks)],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert SECRET not in res.output  # the key goes in the harness's header, never in its log
    summary = json.loads((out / "summary.json").read_text())
    q = {e["endpoint"]: e for e in summary["quality"]["endpoints"]}
    assert q["bf16"]["items"] == q["int4"]["items"] == len(CITIES)
    assert q["bf16"]["success"] == 1.0  # the simulated BF16 knows every capital
    assert q["int4"]["success"] < 1.0  # half its answers are wrong (quality_error_rate 0.5)
    assert summary["quality"]["noise_floor"]["pairs"] == len(CITIES)  # the baseline twice
    assert q["int4"]["by_tag"]["task:qtui_capitals"]["n"] == len(CITIES)
    [session] = list(out.glob("*.qtsession"))
    items = load_session(session).frame("quality_item")
    assert items.height == 3 * len(CITIES)  # bf16, int4, bf16 again
    assert set(items["item_id"].to_list()) == {f"qtui_capitals/{i}" for i in range(len(CITIES))}
    assert "noise floor: bf16 vs itself" in res.output
    assert all(SECRET.encode() not in p.read_bytes() for p in out.rglob("*") if p.is_file())


def test_an_unknown_task_is_one_line_naming_it(tmp_path: Path, offline: None) -> None:
    pytest.importorskip("lm_eval", reason="the qtui[lmeval] extra is not installed")
    prof, tasks = _files(tmp_path)
    res = CliRunner().invoke(cli, ["bench", str(prof), "--out", str(tmp_path / "o"), "--lmeval",
                                   "no_such_task_q18", "--lmeval-include", str(tasks)])  # fmt: skip
    assert res.exit_code == 2
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and "lm-eval task 'no_such_task_q18' not found" in lines[0], res.output
    assert not (tmp_path / "o").exists()  # stopped before any request


def test_without_the_extra_it_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import qtui.quality.lmeval as lmeval

    monkeypatch.setattr(lmeval, "available", lambda: False)
    prof, _ = _files(tmp_path)
    res = CliRunner().invoke(cli, ["bench", str(prof), "--lmeval", "qtui_capitals"])
    assert res.exit_code == 2
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].endswith(
        "--lmeval needs EleutherAI lm-evaluation-harness: pip install 'qtui[lmeval]'"
    )


MC_YAML = """task: qtui_yes_no
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: multiple_choice
doc_to_text: "{{{{question}}}}"
doc_to_choice: ["yes", "no"]
doc_to_target: 0
metric_list:
  - metric: acc
"""


def test_a_log_likelihood_task_without_a_tokenizer_is_one_line(
    tmp_path: Path, offline: None
) -> None:
    pytest.importorskip("lm_eval", reason="the qtui[lmeval] extra is not installed")
    prof, tasks = _files(tmp_path)
    (tasks / "qtui_yes_no.yaml").write_text(MC_YAML.format(data=(tmp_path / "capitals.jsonl")))
    args = ["bench", str(prof), "--out", str(tmp_path / "o"), "--lmeval", "qtui_yes_no",
            "--lmeval-include", str(tasks)]  # fmt: skip
    res = CliRunner(env={"QTUI_LMEVAL_TEST_KEY": SECRET}).invoke(cli, args)
    assert res.exit_code == 2, res.output
    last = res.output.strip().splitlines()[-1]
    assert "lm-eval task 'qtui_yes_no' scores log-likelihoods: give --lmeval-tokenizer" in last
